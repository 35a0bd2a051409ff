//! What a guest writes to stdout or stderr, as log records: each line one
//! record (target `component_output`) with the component's id and the
//! stream, in the request's span when there is one, so a log pipeline reads
//! it like the host's own lines instead of raw text in the JSON stream.
//! stderr is logged at WARN, stdout at INFO.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Past this a line is logged in parts: a guest cannot make the host
/// buffer without bound.
const MAX_LINE_BYTES: usize = 16 * 1024;

#[derive(Clone, Copy)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// One of a component's output streams.
pub(crate) struct GuestOutput {
    component: Arc<str>,
    stream: Stream,
}

impl GuestOutput {
    pub(crate) fn new(component: Arc<str>, stream: Stream) -> Self {
        GuestOutput { component, stream }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        let (component, stream) = (self.component.clone(), self.stream);
        Box::new(Lines::new(move |line: &[u8]| log(&component, stream, line)))
    }
}

fn log(component: &str, stream: Stream, line: &[u8]) {
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end_matches('\r');
    match stream {
        Stream::Stdout => {
            tracing::info!(target: "component_output", component, stream = "stdout", "{line}")
        }
        Stream::Stderr => {
            tracing::warn!(target: "component_output", component, stream = "stderr", "{line}")
        }
    }
}

/// Bytes cut into lines, each said as it completes; the last one, without
/// its newline, when the stream ends.
struct Lines<F: Fn(&[u8])> {
    pending: Vec<u8>,
    say: F,
}

impl<F: Fn(&[u8])> Lines<F> {
    fn new(say: F) -> Self {
        Lines {
            pending: Vec::new(),
            say,
        }
    }

    fn say_pending(&mut self) {
        if !self.pending.is_empty() {
            (self.say)(&self.pending);
            self.pending.clear();
        }
    }
}

impl<F: Fn(&[u8]) + Unpin> AsyncWrite for Lines<F> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        for &byte in bytes {
            if byte == b'\n' {
                (this.say)(&this.pending);
                this.pending.clear();
            } else {
                this.pending.push(byte);
                if this.pending.len() >= MAX_LINE_BYTES {
                    this.say_pending();
                }
            }
        }
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().say_pending();
        Poll::Ready(Ok(()))
    }
}

impl<F: Fn(&[u8])> Drop for Lines<F> {
    fn drop(&mut self) {
        self.say_pending();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn each_line_is_said_once_and_the_last_when_the_stream_ends() {
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let to = said.clone();
        let mut lines = Lines::new(move |line: &[u8]| {
            to.lock()
                .unwrap()
                .push(String::from_utf8_lossy(line).into_owned())
        });
        lines.write_all(b"first line\nsecond ").await.unwrap();
        lines.write_all(b"half\nno newline").await.unwrap();
        assert_eq!(*said.lock().unwrap(), ["first line", "second half"]);
        drop(lines);
        assert_eq!(said.lock().unwrap()[2], "no newline");
    }

    #[tokio::test]
    async fn a_line_without_end_is_said_in_bounded_parts() {
        let said = Arc::new(Mutex::new(Vec::<usize>::new()));
        let to = said.clone();
        let mut lines = Lines::new(move |line: &[u8]| to.lock().unwrap().push(line.len()));
        lines
            .write_all(&vec![b'x'; MAX_LINE_BYTES * 2 + 1])
            .await
            .unwrap();
        lines.shutdown().await.unwrap();
        assert_eq!(*said.lock().unwrap(), [MAX_LINE_BYTES, MAX_LINE_BYTES, 1]);
    }
}
