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
mod component_services;
mod config;
pub mod config_file;
mod connections;
mod data_dir;
mod dependencies;
mod server;
mod summary;

pub use application::Application;
pub use config::{DEFAULT_DATA_DIR, HostConfig};
pub use data_dir::DataDirHold;
pub use mhmanus_runtime::{Components, Generation, full_body};
pub use mhmanus_server::{HealthThresholds, Jemalloc, telemetry};
