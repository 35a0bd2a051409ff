//! Request ids: a client's `x-request-id` is kept, a missing one is a fresh
//! UUID; either way it comes back on the response and names the request's
//! log span, so every line logged while serving it carries it.

use axum::body::Body;
use http::Request;
use tracing::Span;

pub const HEADER: &str = "x-request-id";

/// The span each request is served in.
pub fn span(request: &Request<Body>) -> Span {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}
