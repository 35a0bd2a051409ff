//! The native host: serves the components named in `spin.toml` with wasmtime,
//! implements the Spin interfaces natively, and adds what an edge platform
//! would otherwise supply around them.

pub mod allocator;
mod app_variables;
pub mod builder;
pub mod config;
pub mod config_file;
mod redact;
pub mod runtime;
pub mod server;
mod spin;
pub mod telemetry;
