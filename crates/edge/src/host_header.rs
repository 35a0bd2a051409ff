//! An HTTP/1.1 request must name its host once (RFC 9112 section 3.2): one
//! without `Host` (and without an absolute URI), or with more than one, is
//! a 400 problem, as the RFC requires, before any route sees it. Two hosts
//! let a proxy and this service disagree about which site was asked for.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use mhmanus_domain::problem::Problem;

use crate::problem;

pub async fn require(request: Request, next: Next) -> Response {
    let named =
        request.headers().contains_key(http::header::HOST) || request.uri().authority().is_some();
    if request.version() == http::Version::HTTP_11 && !named {
        let problem = Problem::new(400)
            .detail("an HTTP/1.1 request needs a Host header")
            .instance(request.uri().path());
        return problem::response(problem);
    }
    if request.headers().get_all(http::header::HOST).iter().count() > 1 {
        let problem = Problem::new(400)
            .detail("a request must have one Host header, not several")
            .instance(request.uri().path());
        return problem::response(problem);
    }
    next.run(request).await
}
