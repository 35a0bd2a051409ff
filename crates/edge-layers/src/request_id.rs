//! Request ids (the rule in `mhmanus_edge_rules::request_id`): the id
//! comes back on the response and names the request's log span, so every
//! line logged while serving it carries it.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Span;
use tracing::field::Empty;

use mhmanus_edge_rules::request_id::is_sensible;

pub use mhmanus_edge_rules::request_id::HEADER;

/// Middleware: gives the request its id, and the response the same.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .filter(|id| is_sensible(id.as_bytes()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::try_from(uuid::Uuid::new_v4().to_string()).expect("a UUID is ASCII")
        });
    request.headers_mut().insert(HEADER, id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER, id);
    response
}

/// The span each request is served in (after [`assign`]). The layers
/// below fill in what they learn: the manifest route and its component
/// (`routing`), the wait for a place in the component and the time the
/// component took to answer (the runtime); `otel.*` and the status only
/// when the span is exported (`trace_context`).
pub fn span(request: &http::Request<Body>) -> Span {
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
        http.route = Empty,
        component = Empty,
        admission_wait_us = Empty,
        guest_us = Empty,
        otel.kind = Empty,
        otel.status_code = Empty,
        http.response.status_code = Empty,
    )
}
