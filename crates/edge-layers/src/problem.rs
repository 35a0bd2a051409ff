//! Problem details (RFC 9457), as every edge layer answers a refusal.

use axum::body::Body;
use axum::response::Response;
use mhmanus_contract::problem::{self, Problem};

pub fn response(problem: Problem) -> Response {
    Response::builder()
        .status(problem.status)
        .header(http::header::CONTENT_TYPE, problem::MEDIA_TYPE)
        .body(Body::from(problem.to_json()))
        .expect("a problem is a valid response")
}
