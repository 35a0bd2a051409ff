//! The runtime: every component of the manifest compiled, linked against
//! WASI, wasi-http and the Spin interfaces, and handed requests by route,
//! each within its deadline and its component's admission. What a component
//! may reach (its `ComponentServices`) is built by the embedder and given.

mod components;
mod composition;
mod config;
mod engine;
mod guest_output;
mod instances;
mod outbound_http;
mod pools;
mod request;
mod responses;
mod state;

pub use components::{Components, Generation};
pub use config::RuntimeConfig;
pub use responses::{full_body, no_route};
