//! Request ids (the rule in `mhmanus_edge_rules::request_id`): the id
//! comes back on the response and names the request's log span, so every
//! line logged while serving it carries it.

use axum::body::Body;
use http::{HeaderMap, HeaderValue};
use tracing::Span;
use tracing::field::Empty;

use mhmanus_edge_rules::request_id::is_sensible;

pub use mhmanus_edge_rules::request_id::HEADER;

/// Gives the request its one id, the client's (first) when sensible, and
/// returns it for the response.
pub fn assign(headers: &mut HeaderMap) -> HeaderValue {
    let id = match headers.get(HEADER).filter(|id| is_sensible(id.as_bytes())) {
        Some(id) => id.clone(),
        None => {
            let mut text = uuid::Uuid::encode_buffer();
            let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
            HeaderValue::from_str(text).expect("a UUID is ASCII")
        }
    };
    // Replaces every value: the component sees the id the log and the
    // answer show, not a second one.
    headers.insert(HEADER, id.clone());
    id
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
        client = Empty,
        http.route = Empty,
        component = Empty,
        admission_wait_us = Empty,
        guest_us = Empty,
        otel.kind = Empty,
        otel.status_code = Empty,
        http.response.status_code = Empty,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sensible_id_is_kept_and_any_other_replaced_on_the_request_too() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("req-42"));
        headers.append(HEADER, HeaderValue::from_static("req-43"));
        assert_eq!(assign(&mut headers), "req-42");
        assert_eq!(headers.get_all(HEADER).iter().count(), 1, "one id left");
        headers.insert(HEADER, HeaderValue::from_static("has space"));
        let fresh = assign(&mut headers);
        assert_eq!(headers.get(HEADER), Some(&fresh));
        let fresh = fresh.to_str().unwrap();
        assert!(uuid::Uuid::parse_str(fresh).is_ok(), "{fresh}");
        assert_ne!(assign(&mut HeaderMap::new()), fresh, "a new id each time");
    }
}
