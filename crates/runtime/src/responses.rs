//! The runtime's own answers: problem+json bodies in the body type the
//! components answer with.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mhmanus_contract::problem::{self, Problem};
use wasmtime_wasi_http::WasiBody;

/// The answer for a path no manifest route serves.
pub fn no_route(path: &str) -> http::Response<WasiBody> {
    problem_response(
        Problem::new(404)
            .detail(format!("no route for {path}"))
            .instance(path),
    )
}

pub(crate) fn problem_response(problem: Problem) -> http::Response<WasiBody> {
    http::Response::builder()
        .status(problem.status)
        .header(http::header::CONTENT_TYPE, problem::MEDIA_TYPE)
        .body(full_body(problem.to_json()))
        .expect("a problem is a valid response")
}

pub fn full_body(bytes: impl Into<Bytes>) -> WasiBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}
