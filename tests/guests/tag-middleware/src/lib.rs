//! A user's HTTP middleware (Spin 4.1's `dependencies.middleware`): it
//! tags each request it forwards and each answer it returns with the
//! component variable `tag` (inherited from the trigger's component), and
//! answers `/.../refused` itself, 403, without calling the next handler.

use http::{HeaderValue, StatusCode, header};
use spin_sdk::http::{BoxBody, Request, box_body, next};
use spin_sdk::http_service;
use spin_sdk::variables;
use spin_sdk::wasip3::http::types::ErrorCode;

const TAG_HEADER: &str = "x-middleware-tag";

#[http_service]
async fn handle(mut request: Request) -> Result<http::Response<BoxBody>, ErrorCode> {
    let tag = variables::get("tag")
        .await
        .ok()
        .and_then(|tag| HeaderValue::try_from(tag).ok())
        .unwrap_or(HeaderValue::from_static("no-tag"));
    if request.uri().path().ends_with("/refused") {
        let mut refused =
            http::Response::new(box_body(http_body_util::Empty::<bytes::Bytes>::new()));
        *refused.status_mut() = StatusCode::FORBIDDEN;
        refused.headers_mut().append(TAG_HEADER, tag);
        return Ok(refused);
    }
    // wasip3 takes the authority from the URI and refuses a Host header.
    request.headers_mut().remove(header::HOST);
    request.headers_mut().append(TAG_HEADER, tag.clone());
    let mut answer = next(request).await?.map(box_body);
    answer.headers_mut().append(TAG_HEADER, tag);
    Ok(answer)
}
