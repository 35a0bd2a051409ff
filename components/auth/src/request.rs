//! Reading a JSON request body: size limit, media type, then syntax.
//!
//! Every route that reads a body needs one, so the rules do not depend on
//! whether it is empty. Order of refusals: a declared `content-length` over
//! the limit is 413; a `content-type` that is absent or not JSON is 415, both
//! before anything is read; the body is then read only up to the limit (413
//! past it, so a client cannot make us buffer megabytes); one that is empty,
//! does not parse, or is not an object, is 400.

use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::BodyExt;
use mhmanus_domain::problem::Problem;
use serde_json::{Map, Value};
use spin_sdk::wasip3::http_compat::IncomingRequestBody;

use crate::response::{self, Response};

/// Accounts need names, emails and passwords, never more than this.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024;

/// The body as a JSON object, or the problem answer that refuses it.
pub(crate) async fn json_object(
    headers: &HeaderMap,
    body: IncomingRequestBody,
    path: &str,
) -> Result<Map<String, Value>, Response> {
    if declared_length(headers).is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large(path));
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !is_json_media_type(content_type) {
        return Err(response::problem(
            Problem::new(415)
                .detail("send the request body as application/json")
                .instance(path),
        ));
    }
    let bytes = read_limited(body, path).await?;
    if bytes.is_empty() {
        return Err(bad_request(path, "the request body must be a JSON object"));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(bad_request(path, "the request body must be a JSON object")),
        Err(_) => Err(bad_request(path, "the request body is not valid JSON")),
    }
}

/// `application/json` or any `application/<x>+json`, with or without
/// parameters such as `charset`, in any letter case.
pub(crate) fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.strip_prefix("application/") {
        Some("json") => true,
        Some(subtype) => subtype.len() > "+json".len() && subtype.ends_with("+json"),
        None => false,
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads frames until the end or until the limit is passed.
async fn read_limited(mut body: IncomingRequestBody, path: &str) -> Result<Vec<u8>, Response> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            eprintln!("auth: reading the request body failed: {e:?}");
            bad_request(path, "the request body could not be read")
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_BODY_BYTES {
                return Err(too_large(path));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

fn too_large(path: &str) -> Response {
    response::problem(
        Problem::new(413)
            .detail(format!(
                "the request body must be at most {MAX_BODY_BYTES} bytes"
            ))
            .instance(path),
    )
}

fn bad_request(path: &str, detail: &str) -> Response {
    response::problem(Problem::new(400).detail(detail).instance(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for accepted in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/json ;charset=UTF-8",
            "application/merge-patch+json",
            "application/vnd.api+json",
        ] {
            assert!(is_json_media_type(accepted), "{accepted}");
        }
        for refused in [
            "",
            "text/plain",
            "application/jsonx",
            "application/+json",
            "text/json",
            "json",
        ] {
            assert!(!is_json_media_type(refused), "{refused}");
        }
    }
}
