//! The accept loop: connections accepted (within `ConnectionLimits`),
//! HTTP/1 or HTTP/2 served on each, plain or TLS, until shutdown drains
//! them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use mhmanus_edge_layers::{transport, until_body_end};
use tower::ServiceExt;

use crate::canned_errors;
use crate::connections::{ConnectionLimits, Connections};
use crate::tls::{self, Tls};

/// A client must send a request's headers within this, counted from the
/// accept for the first request (before the protocol is known) and from
/// the first byte for later ones: a connection that sends nothing, or
/// trickles its headers, would otherwise be held open for ever.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request's head (request line and headers, or HTTP/2's header list)
/// may be at most this large: room for long cookies and tokens, a sixteenth
/// of the body limit's default; beyond it hyper answers 431 (HTTP/1) or
/// resets the stream (HTTP/2).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// HTTP/2 pings a quiet connection this often, and closes it when a ping
/// is not answered within `HTTP2_PING_TIMEOUT`.
const HTTP2_PING_INTERVAL: Duration = Duration::from_secs(20);
const HTTP2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle connections closed at once when the process runs out of file
/// descriptors.
const SHED_WHEN_SHORT: usize = 16;

/// HTTP/1 and HTTP/2 as every connection is served: its timeouts and
/// its limits on a request's head.
pub fn protocols() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .max_header_list_size(MAX_HEAD_BYTES as u32)
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_PING_INTERVAL)
        .keep_alive_timeout(HTTP2_PING_TIMEOUT);
    builder
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish
/// for at most `grace`; new connections are refused from the signal on.
/// With `tls`, every connection is HTTPS. The answers hyper makes itself
/// (400, 431) get `error_headers`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<Tls>,
    router: Router,
    limits: ConnectionLimits,
    error_headers: &http::HeaderMap,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let error_headers = canned_errors::header_lines(error_headers);
    let builder = protocols();
    let open = Connections::new(limits);
    let sweeper = tokio::spawn(close_expired(open.clone()));
    let connections = GracefulShutdown::new();
    // Connections that have not sent a request yet are not waited for.
    let stopping = tokio_util::sync::CancellationToken::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned_short = None::<Instant>;
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors: close the connections idle the
                    // longest, so this one and `/health/live` get through.
                    let short = matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
                    let closed = if short { open.close_oldest_idle(SHED_WHEN_SHORT) } else { 0 };
                    if warned_short.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                        tracing::warn!(%error, closed_idle = closed, "cannot accept a connection");
                        warned_short = Some(Instant::now());
                    }
                    // Give the closed ones a moment to release their sockets.
                    tokio::time::sleep(Duration::from_millis(if closed > 0 { 5 } else { 50 })).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(connection) = open.open(peer.ip()) else {
            tracing::debug!(client = %peer.ip(), "connection refused: the client holds its share");
            continue;
        };
        // Guest bodies stream: without TCP_NODELAY the last chunk waits on the
        // client's delayed ACK (40 ms per response on a kept-alive connection).
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
        let activity = connection.activity();
        let router = router.clone();
        let encrypted = tls.is_some();
        let service = tower::service_fn(move |request: http::Request<Incoming>| {
            let busy = activity.request();
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            if encrypted {
                request.extensions_mut().insert(transport::Encrypted);
            }
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await?;
                // The connection stays busy until the body is sent.
                Ok::<_, std::convert::Infallible>(
                    until_body_end::hold(response, busy).map(Body::new),
                )
            }
        });
        let builder = builder.clone();
        let error_headers = error_headers.clone();
        let watcher = connections.watcher();
        let stopping = stopping.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let serving = async {
                match tls {
                    None => {
                        serve_plain(tcp, builder, service, watcher, stopping, error_headers).await
                    }
                    Some(tls) => {
                        serve_tls(
                            tcp,
                            &tls,
                            builder,
                            service,
                            watcher,
                            stopping,
                            error_headers,
                        )
                        .await;
                    }
                }
            };
            tokio::select! {
                () = serving => {}
                () = connection.closing() => {}
            }
        });
    }
    drop(listener);
    stopping.cancel();
    sweeper.abort();
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "grace period over: abandoning the requests still in flight");
        }
    }
    Ok(())
}

/// One plain connection: its first bytes within `HEADER_READ_TIMEOUT` of
/// the accept, then HTTP/1 or HTTP/2 as hyper detects.
async fn serve_plain<S>(
    tcp: tokio::net::TcpStream,
    builder: auto::Builder<TokioExecutor>,
    service: S,
    watcher: Watcher,
    stopping: tokio_util::sync::CancellationToken,
    error_headers: Arc<[u8]>,
) where
    S: ConnectionService,
    S::Future: Send + 'static,
{
    tokio::select! {
        known = tokio::time::timeout(HEADER_READ_TIMEOUT, protocol_known(&tcp)) => {
            if known.is_err() {
                return;
            }
        }
        () = stopping.cancelled() => return,
    }
    serve_io(tcp, builder, service, watcher, error_headers).await;
}

/// One HTTPS connection: the handshake within `HEADER_READ_TIMEOUT` of the
/// accept, then the protocol ALPN chose. A client that speaks plain HTTP
/// gets a readable 400 instead of a TLS alert.
async fn serve_tls<S>(
    tcp: tokio::net::TcpStream,
    tls: &Tls,
    builder: auto::Builder<TokioExecutor>,
    service: S,
    watcher: Watcher,
    stopping: tokio_util::sync::CancellationToken,
    error_headers: Arc<[u8]>,
) where
    S: ConnectionService,
    S::Future: Send + 'static,
{
    let handshake = async {
        let mut first = [0; 1];
        if tcp.peek(&mut first).await.ok()? == 0 {
            return None;
        }
        if !tls::is_tls_hello(first[0]) {
            refuse_plain_http(tcp).await;
            return None;
        }
        match tls.acceptor.accept(tcp).await {
            Ok(stream) => Some(stream),
            Err(error) => {
                tracing::debug!(%error, "TLS handshake failed");
                None
            }
        }
    };
    let stream = tokio::select! {
        done = tokio::time::timeout(HEADER_READ_TIMEOUT, handshake) => match done {
            Ok(Some(stream)) => stream,
            _ => return,
        },
        () = stopping.cancelled() => return,
    };
    // ALPN chose (no ALPN is HTTP/1.1, RFC 7301): no sniffing, so HTTP/1's
    // header read timeout runs from the handshake on.
    let builder = match stream.get_ref().1.alpn_protocol() {
        Some(b"h2") => builder.http2_only(),
        _ => builder.http1_only(),
    };
    let io = TokioIo::new(canned_errors::CannedErrors::new(stream, error_headers));
    let connection = builder
        .serve_connection(io, TowerToHyperService::new(service))
        .into_owned();
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(error = %error, "connection ended with an error");
    }
}

/// Answers a plain-HTTP client of the HTTPS port in words, then reads what
/// it sent (briefly, a little) before closing: closing with its request
/// unread would reset the connection, and the answer could be lost.
async fn refuse_plain_http(mut tcp: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if tcp.write_all(&tls::plain_http_refusal()).await.is_err() || tcp.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

/// What serves one connection's requests.
trait ConnectionService:
    tower::Service<http::Request<Incoming>, Response = Response, Error = std::convert::Infallible>
    + Clone
    + Send
    + 'static
{
}

impl<S> ConnectionService for S where
    S: tower::Service<
            http::Request<Incoming>,
            Response = Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static
{
}

/// Serves a plain connection's requests, HTTP/1 or HTTP/2 as hyper detects,
/// until it closes or shutdown drains it.
async fn serve_io<I, S>(
    io: I,
    builder: auto::Builder<TokioExecutor>,
    service: S,
    watcher: Watcher,
    error_headers: Arc<[u8]>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: ConnectionService,
    S::Future: Send + 'static,
{
    let io = TokioIo::new(canned_errors::CannedErrors::new(io, error_headers));
    let connection = builder
        .serve_connection_with_upgrades(io, TowerToHyperService::new(service))
        .into_owned();
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(error = %error, "connection ended with an error");
    }
}

/// Waits until the client has sent enough to tell HTTP/1 from HTTP/2 (the
/// HTTP/2 preface, or bytes that are not a prefix of it), or closed.
async fn protocol_known(tcp: &tokio::net::TcpStream) {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut seen = [0; PREFACE.len()];
    loop {
        let Ok(n) = tcp.peek(&mut seen).await else {
            return;
        };
        if n == 0 || n == PREFACE.len() || !PREFACE.starts_with(&seen[..n]) {
            return;
        }
        // Part of a preface: peek returns the same bytes until more arrive.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Closes idle connections past the idle timeout, checking a few times
/// per timeout.
async fn close_expired(open: Connections) {
    let every = (open.idle_timeout() / 4).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        open.close_expired();
    }
}
