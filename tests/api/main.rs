//! End to end: the `mhmanus-host` binary on an ephemeral port, real HTTP.

mod auth;
mod configuration;
mod connections;
mod dependency_faults;
mod durability;
mod hostile_input;
mod production_test;
mod replicas;
mod shutdown;
mod startup;
mod telemetry;
mod versioning;
