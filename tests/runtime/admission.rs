//! A component takes `MAX_COMPONENT_CONCURRENCY` requests at once; the rest
//! wait their turn, in order, within the same request timeout: one still
//! waiting at its deadline is a 503 with `Retry-After` (never a new instance per request,
//! which under CPU-bound load would share the CPU among all of them).

use std::time::{Duration, Instant};

use futures::future::join_all;
use mhmanus_tests::{InProcessHost, TestManifest};

/// The probe and the faulty guest.
fn probe_and_faulty() -> TestManifest {
    TestManifest::new("admission")
        .route("/probe/...", "probe", "spin-probe")
        .route("/faulty/...", "faulty", "faulty")
}

async fn app(concurrency: usize, request_timeout_secs: u64) -> InProcessHost {
    InProcessHost::start(&probe_and_faulty(), |config| {
        config.runtime.max_component_concurrency = concurrency;
        config.runtime.request_timeout_secs = request_timeout_secs;
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn past_the_limit_requests_wait_their_turn_and_are_all_answered() {
    for (concurrency, at_least, at_most) in [(1, 1200, 5000), (8, 300, 1100)] {
        // The last in line waits 0.9 s, then is handled for 0.3 s: all
        // within its 2 s deadline.
        let app = app(concurrency, 2).await;
        let started = Instant::now();
        let replies = join_all((0..4).map(|_| app.get("/probe/sleep?arg=300"))).await;
        let took = started.elapsed().as_millis();
        assert!(
            replies.iter().all(|r| r.status == 200),
            "{:?}",
            replies
                .iter()
                .map(|r| r.status.as_u16())
                .collect::<Vec<_>>()
        );
        // One at a time, four 300 ms waits take 1.2 s; eight at once, 0.3 s.
        assert!(
            (at_least..at_most).contains(&took),
            "concurrency {concurrency}: {took} ms"
        );
    }
}

#[tokio::test]
async fn a_request_that_cannot_get_in_within_the_timeout_is_a_503_with_retry_after() {
    let app = app(1, 1).await;
    // The first loop holds the one place until the 1 s deadline stops it
    // (504); the others, sent with it, are still waiting at their own 1 s
    // deadline and are refused.
    let replies = join_all((0..4).map(|_| app.get("/faulty/loop"))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| [503, 504].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&504), "{statuses:?}");
    let busy: Vec<_> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(busy.len() >= 2, "{statuses:?}");
    for reply in busy {
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.headers["retry-after"], "1");
    }
    // The place is free again.
    let started = Instant::now();
    assert_eq!(app.get("/faulty/ok").await.status, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_place_is_held_until_the_answer_body_is_sent() {
    let app = InProcessHost::start(&probe_and_faulty(), |config| {
        config.runtime.max_component_concurrency = 1;
        config.runtime.request_timeout_secs = 10;
    })
    .await
    .unwrap();
    // The head comes at once; the guest writes the body over a second.
    let streaming = app
        .respond(
            http::Request::get("/probe/stream?arg=1000")
                .header("host", "test.local")
                .body(mhmanus_host::full_body(""))
                .unwrap(),
        )
        .await;
    assert_eq!(streaming.status(), 200);
    let started = Instant::now();
    let (body, next) = tokio::join!(
        http_body_util::BodyExt::collect(streaming.into_body()),
        async {
            let reply = app.get("/probe/sleep?arg=0").await;
            (reply.status, started.elapsed())
        }
    );
    let body = body.unwrap().to_bytes();
    assert!(body.ends_with(b"data: line 4\n\n"), "{body:?}");
    // The one place was the streaming answer's until its body ended.
    assert_eq!(next.0, 200);
    assert!(
        next.1 >= Duration::from_millis(800),
        "let in after {:?}, while the body streamed",
        next.1
    );
}
