//! Guest faults are contained: a component that loops forever is stopped at
//! the request deadline (504), one that allocates without end hits its
//! memory cap (500), a panic is a 500 — and the host keeps serving.

use std::time::{Duration, Instant};

use mhmanus_tests::{InProcessHost, TestManifest};

/// The faulty guest alone.
fn faulty_app() -> TestManifest {
    TestManifest::new("faults").route("/faulty/...", "faulty", "faulty")
}

async fn faulty() -> InProcessHost {
    InProcessHost::start(&faulty_app(), |config| {
        config.runtime.request_timeout_secs = 1;
        config.runtime.instance_memory_mib = 32;
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn an_endless_loop_is_stopped_at_the_deadline() {
    let app = faulty().await;
    let started = Instant::now();
    let reply = app.get("/faulty/loop").await;
    assert_eq!(reply.status, 504, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/problem+json");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        app.get("/faulty/ok").await.status,
        200,
        "the host still serves"
    );
}

#[tokio::test]
async fn endless_allocation_hits_the_memory_cap() {
    let app = faulty().await;
    let reply = app.get("/faulty/alloc").await;
    assert_eq!(reply.status, 500, "{}", reply.text());
    assert_eq!(
        reply.json()["detail"],
        "the component failed while handling the request"
    );
    assert_eq!(
        app.get("/faulty/ok").await.status,
        200,
        "the host still serves"
    );
}

#[tokio::test]
async fn a_panic_is_a_500_problem_and_the_next_request_is_served() {
    let app = faulty().await;
    let reply = app.get("/faulty/panic").await;
    assert_eq!(reply.status, 500, "{}", reply.text());
    assert!(
        !reply.text().contains("deliberate"),
        "no internals leak: {}",
        reply.text()
    );
    for _ in 0..3 {
        assert_eq!(app.get("/faulty/ok").await.status, 200);
    }
}
