//! Request bodies, bounded in size and in time. A body declaring more than
//! `MAX_BODY_BYTES` is refused with a 413 problem before any component sees
//! it; a streamed one is cut off at the limit, and one still arriving
//! `BODY_READ_TIMEOUT_SECS` after the request began (a client trickling it,
//! slowloris-style) is cut off then. Either way the component's read fails
//! and the client gets the host's 413 or 408 problem, whatever the
//! component made of the failed read.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::{LengthLimitError, Limited};
use mhmanus_contract::problem::Problem;

use crate::problem;

#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: u64,
    pub read_timeout: Duration,
}

/// Why a body was cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    TooLarge,
    TooSlow,
}

impl BodyLimits {
    /// The request with its body bounded, and the watch on its cut; or the
    /// 413 for a body declared too large.
    pub fn bound(self, request: Request) -> Result<(Request, Watch), Response> {
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max_bytes) {
            return Err(refusal(Cut::TooLarge, self, request.uri().path()));
        }
        let cut = Arc::new(OnceLock::new());
        let max = usize::try_from(self.max_bytes).unwrap_or(usize::MAX);
        let request = request.map(|body| {
            Body::new(Bounded {
                inner: Limited::new(body, max),
                deadline: Box::pin(tokio::time::sleep(self.read_timeout)),
                cut: cut.clone(),
            })
        });
        let uri = request.uri().clone();
        Ok((
            request,
            Watch {
                limits: self,
                cut,
                uri,
            },
        ))
    }
}

/// Whether a bounded body was cut off.
pub struct Watch {
    limits: BodyLimits,
    cut: Arc<OnceLock<Cut>>,
    uri: http::Uri,
}

impl Watch {
    /// The answer to the request: the host's 413 or 408 if its body was
    /// cut off, whatever the component made of that, else `response`.
    pub fn answer(self, response: Response) -> Response {
        match self.cut.get() {
            Some(&why) => refusal(why, self.limits, self.uri.path()),
            None => response,
        }
    }
}

fn refusal(why: Cut, limits: BodyLimits, path: &str) -> Response {
    let problem = match why {
        Cut::TooLarge => Problem::new(413).detail(format!(
            "the request body exceeds {} bytes",
            limits.max_bytes
        )),
        Cut::TooSlow => Problem::new(408).detail(format!(
            "the request body did not arrive within {} s",
            limits.read_timeout.as_secs()
        )),
    };
    let mut response = problem::response(problem.instance(path));
    // The rest of the body may still be on its way: do not read it as the
    // next request.
    response.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    response
}

/// The body as the component reads it: `Limited`, and failing once the
/// deadline has passed; each failure is recorded in `cut`.
struct Bounded {
    inner: Limited<Body>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    cut: Arc<OnceLock<Cut>>,
}

impl http_body::Body for Bounded {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if !self.inner.is_end_stream() && self.deadline.as_mut().poll(cx).is_ready() {
            let _ = self.cut.set(Cut::TooSlow);
            return Poll::Ready(Some(Err("the request body arrived too slowly".into())));
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(error))) = &polled
            && error.is::<LengthLimitError>()
        {
            let _ = self.cut.set(Cut::TooLarge);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
