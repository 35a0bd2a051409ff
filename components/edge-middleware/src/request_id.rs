//! Request ids, by the host's rule (`mhmanus_edge_rules::request_id`): a
//! sensible id the client sent is kept, anything else replaced by a fresh
//! UUID; the component behind gets it, and so does the answer.

use http::HeaderValue;
use mhmanus_edge_rules::request_id::is_sensible;
use spin_sdk::http::Request;

pub(crate) use mhmanus_edge_rules::request_id::HEADER;

/// The request with its id, and the id for the answer.
pub(crate) fn assign(mut request: Request) -> (Request, HeaderValue) {
    let id = request
        .headers()
        .get(HEADER)
        .filter(|id| is_sensible(id.as_bytes()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::try_from(uuid::Uuid::new_v4().to_string()).expect("a UUID is ASCII")
        });
    request.headers_mut().insert(HEADER, id.clone());
    (request, id)
}
