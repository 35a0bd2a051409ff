//! What a guest writes to stdout or stderr, as log records: each line one
//! record (target `component_output`) with the component's id and the
//! stream, so a log pipeline reads it like the host's own lines instead of
//! raw text in the JSON stream (no request id: an instance serves many
//! requests, and WASIp2 writes from a task of its own). stderr is logged at
//! WARN, stdout at INFO. A guest cannot flood the log: a record is at most
//! 1 KiB (a longer line is cut, and says so), each stream says at most
//! [`BURST`] lines at once and [`LINES_PER_SEC`] a second after that, and
//! what is left out is counted in `component_output_dropped_total`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Past this a line is cut: a record stays the size of the host's own.
const MAX_LINE_BYTES: usize = 1024;
/// Lines a stream may say at once, then each second.
const BURST: f64 = 100.0;
const LINES_PER_SEC: f64 = 20.0;

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
        let budget = std::sync::Mutex::new(Budget::new());
        Box::new(Lines::new(move |line: &[u8], cut: bool| {
            let allowed = budget.lock().unwrap_or_else(|e| e.into_inner()).take();
            if allowed {
                log(&component, stream, line, cut);
            } else {
                metrics::counter!("component_output_dropped_total", "component" => component.to_string())
                    .increment(1);
            }
        }))
    }
}

/// A token bucket of lines.
struct Budget {
    tokens: f64,
    last: std::time::Instant,
}

impl Budget {
    fn new() -> Self {
        Budget {
            tokens: BURST,
            last: std::time::Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = std::time::Instant::now();
        let earned = now.duration_since(self.last).as_secs_f64() * LINES_PER_SEC;
        self.tokens = (self.tokens + earned).min(BURST);
        self.last = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        allowed
    }
}

fn log(component: &str, stream: Stream, line: &[u8], cut: bool) {
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end_matches('\r');
    let line = if cut {
        format!("{line}… (cut at {MAX_LINE_BYTES} bytes)")
    } else {
        line.to_owned()
    };
    match stream {
        Stream::Stdout => {
            tracing::info!(target: "component_output", component, stream = "stdout", "{line}")
        }
        Stream::Stderr => {
            tracing::warn!(target: "component_output", component, stream = "stderr", "{line}")
        }
    }
}

/// Bytes cut into lines, each said as it completes (with whether it was
/// cut short); the last one, without its newline, when the stream ends;
/// empty lines not at all.
struct Lines<F: Fn(&[u8], bool)> {
    pending: Vec<u8>,
    /// The line under way is past the limit: the rest of it is dropped.
    cut: bool,
    say: F,
}

impl<F: Fn(&[u8], bool)> Lines<F> {
    fn new(say: F) -> Self {
        Lines {
            pending: Vec::new(),
            cut: false,
            say,
        }
    }

    fn say_pending(&mut self) {
        if !self.pending.is_empty() {
            (self.say)(&self.pending, self.cut);
        }
        self.pending.clear();
        self.cut = false;
    }
}

impl<F: Fn(&[u8], bool) + Unpin> AsyncWrite for Lines<F> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        for &byte in bytes {
            if byte == b'\n' {
                this.say_pending();
            } else if this.pending.len() < MAX_LINE_BYTES {
                this.pending.push(byte);
            } else {
                this.cut = true;
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

impl<F: Fn(&[u8], bool)> Drop for Lines<F> {
    fn drop(&mut self) {
        self.say_pending();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use tokio::io::AsyncWriteExt;

    /// What `Lines` said: each line's text and whether it was cut.
    type Said = Arc<Mutex<Vec<(String, bool)>>>;

    fn recorder() -> (Said, impl Fn(&[u8], bool) + Unpin + use<>) {
        let said = Arc::new(Mutex::new(Vec::new()));
        let to = said.clone();
        let say = move |line: &[u8], cut: bool| {
            to.lock()
                .unwrap()
                .push((String::from_utf8_lossy(line).into_owned(), cut))
        };
        (said, say)
    }

    #[tokio::test]
    async fn each_line_is_said_once_and_the_last_when_the_stream_ends() {
        let (said, say) = recorder();
        let mut lines = Lines::new(say);
        lines.write_all(b"first line\n\nsecond ").await.unwrap();
        lines.write_all(b"half\nno newline").await.unwrap();
        let texts = |said: &Mutex<Vec<(String, bool)>>| -> Vec<String> {
            said.lock()
                .unwrap()
                .iter()
                .map(|(t, _)| t.clone())
                .collect()
        };
        assert_eq!(texts(&said), ["first line", "second half"], "no empty line");
        drop(lines);
        assert_eq!(texts(&said)[2], "no newline");
    }

    #[tokio::test]
    async fn a_long_line_is_cut_and_says_so() {
        let (said, say) = recorder();
        let mut lines = Lines::new(say);
        lines
            .write_all(&vec![b'x'; MAX_LINE_BYTES * 3])
            .await
            .unwrap();
        lines.write_all(b"\nnext\n").await.unwrap();
        let said = said.lock().unwrap().clone();
        assert_eq!(said.len(), 2, "one record for the long line");
        assert_eq!((said[0].0.len(), said[0].1), (MAX_LINE_BYTES, true));
        assert_eq!(said[1], ("next".to_owned(), false));
    }

    #[test]
    fn a_stream_says_a_burst_then_a_steady_rate() {
        let mut budget = Budget::new();
        let at_once = (0..1000).filter(|_| budget.take()).count();
        assert_eq!(at_once, BURST as usize);
        budget.last -= std::time::Duration::from_secs(1);
        let a_second_later = (0..1000).filter(|_| budget.take()).count();
        assert_eq!(a_second_later, LINES_PER_SEC as usize);
    }
}
