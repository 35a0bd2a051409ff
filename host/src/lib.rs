//! The native host: serves the components named in `spin.toml` with wasmtime,
//! implements the Spin interfaces natively, and adds what an edge platform
//! would otherwise supply around them.
//!
//! What the binary, the tests and the benchmarks use is exported here; the
//! modules stay private, so the compiler sees what nothing uses.

mod app_variables;
mod application;
pub mod builder;
pub mod check;
mod config;
pub mod config_file;
mod data_dir;
mod dependencies;
mod redact;
mod runtime;
mod server;
mod spin;
mod summary;

pub use application::Application;
pub use config::HostConfig;
pub use mhmanus_server::{HealthThresholds, Jemalloc, telemetry};
pub use runtime::{Components, Generation, full_body};
