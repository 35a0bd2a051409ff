//! The server around any router, with no WebAssembly in it: the accept
//! loop (HTTP/1 and HTTP/2, plain or TLS, graceful shutdown), connection
//! limits, the answers hyper makes itself, the machine's health checks,
//! telemetry and the allocator. The host serves its components with it,
//! the native baseline its native routes.

mod accept;
mod allocator;
mod canned_errors;
mod config;
mod connections;
mod system_checks;
pub mod telemetry;
mod tls;

pub use accept::{protocols, serve};
pub use allocator::Jemalloc;
pub use config::ServerConfig;
pub use connections::ConnectionLimits;
pub use system_checks::{HealthThresholds, SystemChecks};
pub use tls::{Tls, TlsFiles};
