//! `Accept-Encoding` as clients write it, through the host's edge layers
//! around a route serving 4 KB of JSON: whatever the client asks, the body
//! it gets decodes (gzip, br, zstd or none, as `Content-Encoding` says) to
//! exactly the bytes served, and the answer is a 200.

use std::io::Read;
use std::sync::LazyLock;

use axum::Router;
use axum::routing::get;
use http_body_util::BodyExt;
use mhmanus_edge_layers::EdgeConfig;
use tower::ServiceExt;

static BODY: LazyLock<String> = LazyLock::new(|| {
    let items: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"id":{i},"name":"item-{i:04}"}}"#))
        .collect();
    format!("[{}]", items.join(","))
});

static EDGE: LazyLock<(tokio::runtime::Runtime, Router)> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let config = EdgeConfig::defaults();
    let routes = Router::new().route(
        "/",
        get(|| async { ([("content-type", "application/json")], BODY.as_str()) }),
    );
    let router = mhmanus_edge_layers::apply(routes, &config).expect("the edge layers");
    (runtime, router)
});

pub fn check(data: &[u8]) {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let (runtime, router) = &*EDGE;
    let request = http::Request::get("/")
        .header(http::header::HOST, "fuzz.local")
        .header(http::header::ACCEPT_ENCODING, value)
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = runtime
        .block_on(router.clone().oneshot(request))
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let encoding = response
        .headers()
        .get(http::header::CONTENT_ENCODING)
        .map(|v| v.to_str().expect("an ASCII encoding").to_owned());
    let bytes = runtime
        .block_on(response.into_body().collect())
        .expect("the body")
        .to_bytes();
    let mut decoded = Vec::new();
    match encoding.as_deref() {
        None => decoded.extend_from_slice(&bytes),
        Some("gzip") => {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut decoded)
                .expect("gzip");
        }
        Some("br") => {
            brotli::Decompressor::new(&bytes[..], 4096)
                .read_to_end(&mut decoded)
                .expect("brotli");
        }
        Some("zstd") => decoded = zstd::decode_all(&bytes[..]).expect("zstd"),
        Some(other) => panic!("an encoding the client cannot have asked for: {other}"),
    }
    assert_eq!(decoded, BODY.as_bytes());
}
