//! Request body size: a body declaring more than `MAX_BODY_BYTES` is refused
//! with a 413 problem before any component sees it; a streamed body is cut
//! off at the limit, so the component's read fails instead of the host's
//! memory.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::Limited;
use mhmanus_domain::problem::Problem;

use crate::runtime::problem_response;

#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub u64);

pub async fn limit(
    State(BodyLimit(max)): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        let problem = Problem::new(413)
            .detail(format!("the request body exceeds {max} bytes"))
            .instance(request.uri().path());
        return problem_response(problem).map(Body::new);
    }
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    next.run(request.map(|body| Body::new(Limited::new(body, max))))
        .await
}
