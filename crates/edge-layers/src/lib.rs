//! What the host adds around the components, as an edge platform would:
//! one module per rule, applied in two passes: `front_pass` on every
//! request (with CORS and compression inside it, in `apply`), and
//! `component_pass` on those the components serve.

pub mod body_limit;
pub mod client_addr;
pub mod component_pass;
pub mod compression;
pub mod config;
pub mod cors;
pub mod front_pass;
pub mod host_header;
pub mod load_shed;
pub mod password_work;
pub mod problem;
pub mod rate_limit;
pub mod request_id;
pub mod request_metrics;
pub mod routing;
pub mod security_headers;
pub mod trace_context;
pub mod transport;
pub mod until_body_end;
pub mod versioning;

use axum::Router;
use tower::ServiceBuilder;

pub use crate::config::EdgeConfig;

/// Wraps `router` in the edge: the front pass outermost, so every log line
/// and answer has the request's id and every answer the security headers
/// (404, 429, CORS preflights included); then CORS, then compression, next
/// to the bodies it compresses. One stack, layered once.
pub fn apply(router: Router, config: &EdgeConfig) -> anyhow::Result<Router> {
    Ok(router.layer(
        ServiceBuilder::new()
            .layer(front_pass::FrontLayer::new(config))
            .layer(cors::layer(config)?)
            .layer(compression::layer(config)),
    ))
}
