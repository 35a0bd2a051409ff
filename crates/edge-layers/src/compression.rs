//! Response compression: gzip, brotli or zstd, whichever the client's
//! `Accept-Encoding` prefers, for bodies of at least `COMPRESSION_MIN_BYTES`
//! whose type is not compressed already.
//!
//! Components stream their bodies, so their size is not known up front; the
//! start of such a body is read first, up to the minimum, so that a small
//! body arrives whole (and sized) and only a larger one is compressed.

use std::future::{Ready, ready};

use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::middleware::{MapResponseLayer, map_response, map_response_with_state};
use axum::response::Response;
use bytes::BytesMut;
use futures::StreamExt;
use futures::future::BoxFuture;
use http::header;
use http_body_util::{BodyExt, BodyStream, StreamBody};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionBody, CompressionLayer};

use mhmanus_edge_rules::compression as rules;

use crate::config::EdgeConfig;

type Measure = fn(State<Compressible>, Response) -> BoxFuture<'static, Response>;
type Compressed = http::Response<CompressionBody<Body>>;
type Vary = fn(Compressed) -> Ready<Compressed>;

/// `Vary` outermost, then compression, the measuring of unsized bodies
/// inside it.
pub type CompressionLayers = (
    MapResponseLayer<Vary, (), ()>,
    CompressionLayer<Compressible>,
    MapResponseLayer<Measure, Compressible, (State<Compressible>,)>,
);

pub fn layer(config: &EdgeConfig) -> CompressionLayers {
    let compressible = Compressible::new(config.compression_min_bytes);
    (
        map_response(vary as Vary),
        CompressionLayer::new()
            .gzip(true)
            .br(true)
            .zstd(true)
            .compress_when(compressible.clone()),
        map_response_with_state(compressible, measure as Measure),
    )
}

/// When a response is worth compressing.
#[derive(Debug, Clone)]
pub struct Compressible {
    min_bytes: u16,
}

impl Compressible {
    pub fn new(min_bytes: u16) -> Self {
        Compressible { min_bytes }
    }

    /// By the type rules the Spin middleware uses too.
    fn has_compressible_type<B: HttpBody>(response: &http::Response<B>) -> bool {
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        rules::compressible_type(content_type)
    }
}

impl Predicate for Compressible {
    fn should_compress<B>(&self, response: &http::Response<B>) -> bool
    where
        B: HttpBody,
    {
        SizeAbove::new(self.min_bytes).should_compress(response)
            && Self::has_compressible_type(response)
    }
}

/// Says that the answer depends on `Accept-Encoding` whenever its type could
/// be compressed, small answers and those sent plain included: a cache must
/// not give one client's encoding to another.
fn vary(mut response: Compressed) -> Ready<Compressed> {
    let headers = response.headers();
    let vary = headers.get_all(header::VARY);
    let varies = headers.contains_key(header::CONTENT_ENCODING)
        || Compressible::has_compressible_type(&response);
    if varies && !rules::varies_by_encoding(vary.iter().filter_map(|v| v.to_str().ok())) {
        response.headers_mut().append(
            header::VARY,
            http::HeaderValue::from_static("accept-encoding"),
        );
    }
    ready(response)
}

/// Gives a body of unknown size a known one when it is under the minimum:
/// reads it until it ends or the minimum is reached, and passes on what was
/// read followed by the rest. Bodies that would not be compressed anyway
/// (sized, encoded, of a compressed type such as event streams) pass as
/// they are, unread.
fn measure(
    State(compressible): State<Compressible>,
    response: Response,
) -> BoxFuture<'static, Response> {
    Box::pin(async move {
        let min_bytes = usize::from(compressible.min_bytes);
        let sized = response.body().size_hint().exact().is_some()
            || response.headers().contains_key(header::CONTENT_LENGTH);
        if min_bytes == 0
            || sized
            || response.headers().contains_key(header::CONTENT_ENCODING)
            || !Compressible::has_compressible_type(&response)
        {
            return response;
        }
        let (parts, mut body) = response.into_parts();
        let mut frames = Vec::new();
        let mut size = 0;
        let ended = loop {
            if size >= min_bytes {
                break false;
            }
            match body.frame().await {
                None => break true,
                Some(Ok(frame)) => {
                    size += frame.data_ref().map_or(0, |data| data.len());
                    frames.push(Ok(frame));
                }
                Some(Err(error)) => {
                    frames.push(Err(error));
                    break true;
                }
            }
        };
        let only_data = frames
            .iter()
            .all(|frame| frame.as_ref().is_ok_and(|frame| frame.is_data()));
        let body = if ended && only_data {
            let mut whole = BytesMut::with_capacity(size);
            for data in frames
                .into_iter()
                .filter_map(|frame| frame.ok()?.into_data().ok())
            {
                whole.extend_from_slice(&data);
            }
            Body::from(whole.freeze())
        } else if ended {
            Body::new(StreamBody::new(futures::stream::iter(frames)))
        } else {
            let rest = BodyStream::new(body);
            Body::new(StreamBody::new(futures::stream::iter(frames).chain(rest)))
        };
        Response::from_parts(parts, body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(content_type: &str, body: &'static str) -> http::Response<axum::body::Body> {
        http::Response::builder()
            .header(http::header::CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .unwrap()
    }

    const LARGE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn compresses_text_of_the_minimum_size_and_more() {
        let predicate = Compressible::new(64);
        assert!(predicate.should_compress(&response("application/json", LARGE)));
        assert!(predicate.should_compress(&response("image/svg+xml", LARGE)));
        assert!(predicate.should_compress(&response("application/problem+json", LARGE)));
        assert!(!predicate.should_compress(&response("application/json", &LARGE[1..])));
    }

    #[test]
    fn leaves_compressed_types_alone() {
        let predicate = Compressible::new(0);
        for content_type in [
            "image/png",
            "application/grpc",
            "text/event-stream",
            "application/zip",
            "application/gzip",
            "application/zstd",
            "font/woff2",
            "video/mp4",
            "audio/ogg",
        ] {
            assert!(
                !predicate.should_compress(&response(content_type, LARGE)),
                "{content_type}"
            );
        }
    }

    fn streamed(content_type: &str, chunks: &[&'static str]) -> Response {
        let chunks: Vec<Result<&'static str, std::io::Error>> =
            chunks.iter().copied().map(Ok).collect();
        http::Response::builder()
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Body::from_stream(futures::stream::iter(chunks)))
            .unwrap()
    }

    async fn measured(min_bytes: u16, response: Response) -> (Option<u64>, String) {
        let response = measure(State(Compressible::new(min_bytes)), response).await;
        let size = response.body().size_hint().exact();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (size, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_small_streamed_body_arrives_whole_and_sized() {
        let response = streamed("application/json", &["{\"a\":", "1}"]);
        assert_eq!(response.body().size_hint().exact(), None);
        let (size, body) = measured(64, response).await;
        assert_eq!((size, body.as_str()), (Some(7), "{\"a\":1}"));
    }

    #[tokio::test]
    async fn a_large_streamed_body_stays_streamed_and_complete() {
        let chunks = ["0123456789", "abcdefghij", "klmnopqrst", "uvwxyz"];
        let (size, body) = measured(16, streamed("text/plain", &chunks)).await;
        assert_eq!(size, None, "over the minimum: compressed, size unknown");
        assert_eq!(body, chunks.concat());
    }

    #[tokio::test]
    async fn bodies_that_are_never_compressed_are_not_read() {
        for (content_type, min_bytes) in [("text/event-stream", 64), ("application/json", 0)] {
            let (size, body) =
                measured(min_bytes, streamed(content_type, &["data: 1", "\n\n"])).await;
            assert_eq!(
                (size, body.as_str()),
                (None, "data: 1\n\n"),
                "{content_type}"
            );
        }
    }
}
