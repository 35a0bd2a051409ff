//! gzip for answers of at least `compression_min_bytes` whose type gains
//! from it, when the client takes gzip: streamed, chunk by chunk, never the
//! whole body in memory. As the host's layer does, the start of a body of
//! unknown size is read first, up to the minimum, so that a small body
//! passes whole and uncompressed.

use bytes::{Bytes, BytesMut};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use mhmanus_edge_rules::compression as rules;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{BoxBody, Response};
use std::io::Write;

/// Whether the request's client takes gzip.
pub(crate) fn accepted(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| rules::accepts(value, "gzip"))
}

/// The component's answer, gzipped when it is worth it.
pub(crate) async fn compress(response: Response, min_bytes: usize) -> http::Response<BoxBody> {
    let (mut parts, body) = response.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if parts.headers.contains_key(header::CONTENT_ENCODING)
        || matches!(
            parts.status,
            StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
        )
        || !rules::compressible_type(content_type)
        || declared.is_some_and(|length| length < min_bytes)
    {
        return http::Response::from_parts(parts, spin_sdk::http::box_body(body));
    }
    let mut chunks = body.stream();
    let mut start = BytesMut::new();
    let mut ended = false;
    while start.len() < min_bytes.max(1) {
        match chunks.next().await {
            Some(Ok(chunk)) => start.extend_from_slice(&chunk),
            Some(Err(_)) | None => {
                ended = true;
                break;
            }
        }
    }
    if ended && start.len() < min_bytes {
        // Small after all: whole, sized, as it came.
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(start.len()));
        let body = http_body_util::Full::new(start.freeze());
        return http::Response::from_parts(parts, spin_sdk::http::box_body(body));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let (mut sender, body) = spin_sdk::http::body::stream::<Bytes>();
    spin_sdk::wasip3::spawn(async move {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        let mut next = Some(start.freeze());
        loop {
            let chunk = match next.take() {
                Some(chunk) => chunk,
                None if ended => break,
                None => match chunks.next().await {
                    Some(Ok(chunk)) => chunk,
                    // A broken body ends the stream short: the client sees
                    // a truncated gzip, as it would a truncated body.
                    Some(Err(_)) => return,
                    None => break,
                },
            };
            if encoder.write_all(&chunk).is_err() {
                return;
            }
            let out = std::mem::take(encoder.get_mut());
            if !out.is_empty() && sender.send(Bytes::from(out)).await.is_err() {
                return;
            }
        }
        if let Ok(rest) = encoder.finish() {
            let _ = sender.send(Bytes::from(rest)).await;
        }
    });
    http::Response::from_parts(parts, spin_sdk::http::box_body(body))
}
