//! Component-level tests: the host's runtime loads built `.wasm` files
//! in-process and answers requests, against SQLite, the real PostgreSQL and
//! the real Redis on this machine.

mod admission;
mod auth;
mod edge;
mod faults;
mod fuzz_corpus;
mod generations;
mod health;
mod middleware;
mod openapi;
mod production_test;
mod spin_interfaces;
