//! An HTTP/1.1 request must name its host once (RFC 9112 section 3.2): one
//! without `Host` (and without an absolute URI), or with more than one, is
//! a 400 problem, as the RFC requires, before any route sees it. Two hosts
//! let a proxy and this service disagree about which site was asked for.

use axum::response::Response;
use mhmanus_contract::problem::Problem;

use crate::problem;

/// The 400 for a request that does not name its host once, or `None`.
pub fn refusal<B>(request: &http::Request<B>) -> Option<Response> {
    let hosts = request.headers().get_all(http::header::HOST).iter().count();
    let named = hosts > 0 || request.uri().authority().is_some();
    let detail = if request.version() == http::Version::HTTP_11 && !named {
        "an HTTP/1.1 request needs a Host header"
    } else if hosts > 1 {
        "a request must have one Host header, not several"
    } else {
        return None;
    };
    Some(problem::response(
        Problem::new(400)
            .detail(detail)
            .instance(request.uri().path()),
    ))
}
