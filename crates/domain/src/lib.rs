//! Domain code shared by the components and the native host.
//!
//! Everything here is plain Rust with no Wasm or Spin dependency, so it builds
//! natively and is unit-tested without a runtime.

pub use mhmanus_contract::{SERVICE_ID, health, problem};

pub mod auth;
pub mod clock;
pub mod selftest;
pub mod validation;
