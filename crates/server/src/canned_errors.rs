//! hyper answers a request it cannot parse (400, 431) itself, before any
//! layer sees it, with a bare head. This wraps a connection's socket and
//! gives those heads what every other answer has: the security headers and
//! a request id (for the log line that says why).
//!
//! A head is hyper's own when it is an HTTP/1 4xx without `x-request-id`:
//! every answer that went through the router carries one
//! (`edge::request_id`, the outermost layer).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::HeaderMap;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub(super) struct CannedErrors<T> {
    inner: T,
    /// `name: value\r\n` for each header to add.
    extra: std::sync::Arc<[u8]>,
    /// A rewritten head being written: its bytes, how many are out, and
    /// how many of the caller's bytes it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> CannedErrors<T> {
    pub(super) fn new(inner: T, extra: std::sync::Arc<[u8]>) -> Self {
        CannedErrors {
            inner,
            extra,
            pending: None,
        }
    }
}

/// The header lines to add, once per configuration.
pub(super) fn header_lines(headers: &HeaderMap) -> std::sync::Arc<[u8]> {
    let mut lines = Vec::new();
    for (name, value) in headers {
        lines.extend_from_slice(name.as_str().as_bytes());
        lines.extend_from_slice(b": ");
        lines.extend_from_slice(value.as_bytes());
        lines.extend_from_slice(b"\r\n");
    }
    lines.into()
}

/// `buf`'s head rewritten with `extra` and a fresh request id, and the
/// length of the head it replaces, when it is one of hyper's own answers.
fn rewrite(buf: &[u8], extra: &[u8]) -> Option<(Vec<u8>, usize)> {
    if !buf.starts_with(b"HTTP/1.1 4") && !buf.starts_with(b"HTTP/1.0 4") {
        return None;
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = &buf[..head_end];
    if head
        .windows(13)
        .any(|w| w.eq_ignore_ascii_case(b"x-request-id:"))
    {
        return None;
    }
    let status_end = head.windows(2).position(|w| w == b"\r\n")? + 2;
    let id = uuid::Uuid::new_v4();
    let mut out = Vec::with_capacity(head_end + extra.len() + 64);
    out.extend_from_slice(&head[..status_end]);
    out.extend_from_slice(extra);
    out.extend_from_slice(format!("x-request-id: {id}\r\n").as_bytes());
    out.extend_from_slice(&head[status_end..]);
    tracing::info!(request_id = %id, status = %String::from_utf8_lossy(&head[9..12]), "refused a request that could not be parsed");
    Some((out, head_end))
}

impl<T: AsyncRead + Unpin> AsyncRead for CannedErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CannedErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match rewrite(buf, &this.extra) {
                Some((bytes, stands_for)) => this.pending = Some((bytes, 0, stands_for)),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // The caller retries with the same bytes until it is told they went.
        let (bytes, written, stands_for) = this.pending.as_mut().expect("set above");
        while *written < bytes.len() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        let stands_for = *stands_for;
        this.pending = None;
        Poll::Ready(Ok(stands_for))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty());
        let canned = self.pending.is_some()
            || first.is_some_and(|b| b.starts_with(b"HTTP/1.1 4") || b.starts_with(b"HTTP/1.0 4"));
        match first {
            Some(first) if canned => self.poll_write(cx, first),
            _ => Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_heads_without_a_request_id_are_rewritten() {
        let extra = b"x-frame-options: SAMEORIGIN\r\n";
        let canned = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let (out, stands_for) = rewrite(canned, extra).unwrap();
        assert_eq!(stands_for, canned.len());
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\nx-frame-options: SAMEORIGIN\r\nx-request-id: "));
        assert!(out.ends_with("content-length: 0\r\n\r\n"));
        let routed = b"HTTP/1.1 404 Not Found\r\nx-request-id: abc\r\n\r\n{}";
        assert!(rewrite(routed, extra).is_none());
        assert!(rewrite(b"HTTP/1.1 200 OK\r\n\r\n", extra).is_none());
    }
}
