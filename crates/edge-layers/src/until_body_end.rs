//! What must last as long as an answer is being sent: a response is done
//! when its body ends, not when its head is ready, and a streamed body can
//! take far longer than its head. A guard held here (a permit, a gauge, a
//! timer) is dropped when the server drops the body: after its last frame
//! is sent, or when the client goes away.

use http_body::Body;
use http_body_util::BodyExt as _;

/// `response`, with `guard` dropped only when its body is.
pub fn hold<B>(
    response: http::Response<B>,
    guard: impl Send + 'static,
) -> http::Response<impl Body<Data = B::Data, Error = B::Error> + Send + 'static>
where
    B: Body + Send + 'static,
{
    response.map(|body| {
        body.map_frame(move |frame| {
            let _held = &guard;
            frame
        })
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use http_body_util::BodyExt as _;

    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn the_guard_lives_as_long_as_the_body() {
        let dropped = Arc::new(AtomicBool::new(false));
        let response = http::Response::new(http_body_util::Full::new(bytes::Bytes::from("x")));
        let held = super::hold(response, Flag(dropped.clone()));
        assert!(!dropped.load(Ordering::SeqCst), "dropped with the head");
        let body = held.into_body();
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(collected, "x");
        assert!(dropped.load(Ordering::SeqCst), "kept after the body");
    }
}
