//! End to end: the `mhmanus-host` binary on an ephemeral port, real HTTP.

mod auth;
mod backup;
mod check;
mod configuration;
mod connections;
mod dependency_faults;
mod dependency_tls;
mod docs_page;
mod durability;
mod hostile_input;
mod https;
mod monitoring;
mod production_test;
mod replicas;
mod reverse_proxy;
mod shutdown;
mod startup;
mod telemetry;
mod versioning;
