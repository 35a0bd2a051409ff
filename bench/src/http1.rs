//! The ledger's line for HTTP/1 itself: one request parsed and its answer
//! encoded by hyper, with the host's protocol settings
//! (`mhmanus_server::protocols`) and service adapter, on a kept-alive
//! connection over an in-memory pipe (no socket, so the kernel's share is
//! not in it), to a service that answers at once.

use std::convert::Infallible;

use axum::body::Body;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};

const REQUEST: &[u8] = b"GET /v1/production-test/rate-limit HTTP/1.1\r\nhost: bench.local\r\n\r\n";
const BODY: &str = "ok";

/// A client's end of a kept-alive connection to the host's HTTP server.
pub(crate) struct Connection {
    client: DuplexStream,
    answer: Vec<u8>,
}

/// Starts the server on the current executor (it runs while the caller's
/// requests are awaited).
pub(crate) fn connect() -> Connection {
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let answer = tower::service_fn(|_| async {
            Ok::<_, Infallible>(http::Response::new(Body::from(BODY)))
        });
        let _ = mhmanus_server::protocols()
            .serve_connection(TokioIo::new(server), TowerToHyperService::new(answer))
            .await;
    });
    Connection {
        client,
        answer: Vec::with_capacity(256),
    }
}

impl Connection {
    /// One request written, its whole answer read (a 200, or this panics).
    pub(crate) async fn request(&mut self) {
        self.client
            .write_all(REQUEST)
            .await
            .expect("the server is up");
        self.answer.clear();
        let head_end = loop {
            self.read().await;
            if let Some(at) = self.answer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = std::str::from_utf8(&self.answer[..head_end]).expect("a text head");
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .expect("a content-length");
        while self.answer.len() < head_end + length {
            self.read().await;
        }
    }

    async fn read(&mut self) {
        let mut chunk = [0; 256];
        let read = self
            .client
            .read(&mut chunk)
            .await
            .expect("the server is up");
        assert!(read > 0, "the server closed the connection");
        self.answer.extend_from_slice(&chunk[..read]);
    }
}
