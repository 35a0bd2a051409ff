//! What the host adds around the components, as an edge platform would:
//! one module per layer, applied to the router in `apply`.

pub mod body_limit;
pub mod client_addr;
pub mod compression;
pub mod config;
pub mod cors;
pub mod host_header;
pub mod load_shed;
pub mod password_work;
pub mod problem;
pub mod rate_limit;
pub mod request_id;
pub mod routing;
pub mod security_headers;
pub mod trace_context;
pub mod transport;
pub mod until_body_end;
pub mod versioning;

use axum::Router;
use tower_http::trace::TraceLayer;

use crate::client_addr::TrustedProxies;

pub use crate::config::EdgeConfig;

/// Wraps `router` in the edge layers. The request id and its log span are
/// outermost, so every log line and answer has the id; security headers
/// come next, so every answer carries them (404, 429, CORS preflights
/// included); compression is next to the bodies it compresses, and a
/// request without a host is refused inside all of them.
pub fn apply(router: Router, config: &EdgeConfig) -> anyhow::Result<Router> {
    let trace = TraceLayer::new_for_http()
        .make_span_with(trace_context::RequestSpan {
            trusted: TrustedProxies::new(&config.trusted_proxies, config.forwarded_header),
        })
        .on_request(())
        .on_response(trace_context::ResponseLine);
    Ok(router
        .layer(axum::middleware::from_fn(host_header::require))
        .layer(compression::layer(config))
        .layer(cors::layer(config)?)
        .layer(axum::middleware::from_fn_with_state(
            security_headers::SecurityHeaders::new(config),
            security_headers::set,
        ))
        .layer(trace)
        .layer(axum::middleware::from_fn(request_id::assign)))
}
