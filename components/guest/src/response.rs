//! Building answers: JSON bodies and problem+json errors.
//!
//! Every answer carries `cache-control: no-store`: they hold tokens,
//! personal data or live measurements, which no cache may keep.

use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use mhmanus_domain::problem::{self, Problem};
use mhmanus_domain::validation::FieldError;
use serde_json::{Value, json};

use crate::db::StoreError;

pub type Response = http::Response<String>;

/// Why a handler did not produce its success answer.
#[derive(Debug)]
pub enum Failure {
    /// A finished error answer (a problem with its headers).
    Reply(Response),
    /// The database failed; answered with a 503 that says only that.
    Store(StoreError),
}

impl From<Response> for Failure {
    fn from(response: Response) -> Self {
        Failure::Reply(response)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl Failure {
    /// The answer to send; a store error is logged here, and only here.
    pub fn into_response(self, path: &str) -> Response {
        match self {
            Failure::Reply(response) => response,
            Failure::Store(e) => unavailable(e, path),
        }
    }
}

/// The 503 for a store error: the real error goes to the log only.
pub fn unavailable(e: StoreError, path: &str) -> Response {
    eprintln!("database error on {path}: {e}");
    problem(
        Problem::new(503)
            .detail("the database is unavailable")
            .instance(path),
    )
}

pub fn json(status: u16, body: &Value) -> Response {
    build(status, "application/json", body.to_string())
}

pub fn problem(problem: Problem) -> Response {
    build(problem.status, problem::MEDIA_TYPE, problem.to_json())
}

/// A 422 listing every invalid field as `errors: [{field, message}]`.
pub fn invalid(errors: &[FieldError], path: &str) -> Response {
    let errors: Vec<Value> = errors
        .iter()
        .map(|e| json!({"field": e.field, "message": e.message}))
        .collect();
    problem(
        Problem::new(422)
            .detail("the request has invalid fields")
            .instance(path)
            .extension("errors", errors),
    )
}

/// 204: no body, so no content type.
pub fn no_content() -> Response {
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Adds a header; a value that is not a valid header (it never is here:
/// all values are built from fixed text) is left out rather than panicking.
pub fn with_header(mut response: Response, name: HeaderName, value: &str) -> Response {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            response.headers_mut().insert(name, value);
        }
        Err(_) => eprintln!("dropped an invalid {name} header value"),
    }
    response
}

fn build(status: u16, content_type: &'static str, body: String) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
