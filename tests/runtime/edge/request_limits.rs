//! Request ids and the body size limit, in front of every component.

use super::*;

#[tokio::test]
async fn every_answer_carries_a_request_id_kept_from_the_client_or_made() {
    let app = Edge::probe(|_| {}).await;
    let made = app.get("/probe/headers", &[]).await;
    let id = made.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let again = app.get("/nowhere", &[]).await;
    assert_ne!(again.header("x-request-id"), Some(id), "fresh per request");

    let kept = app
        .get("/probe/headers", &[("x-request-id", "trace-abc-123")])
        .await;
    assert_eq!(kept.header("x-request-id"), Some("trace-abc-123"));

    // An id that would flood or garble the logs is replaced.
    let long = "x".repeat(129);
    for bad in [long.as_str(), "two words", ""] {
        let replaced = app.get("/probe/headers", &[("x-request-id", bad)]).await;
        let id = replaced.header("x-request-id").unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{bad:?} became {id}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem_before_the_component() {
    let app = Edge::probe(|config| config.max_body_bytes = 1024).await;
    let mut request = http::Request::post("/probe/headers")
        .header("host", "test.local")
        .header("content-length", "4096")
        .body(Body::from(vec![b'x'; 4096]))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(PEER.parse::<SocketAddr>().unwrap()));
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("1024 bytes"),
        "{problem}"
    );

    let small = app.send(Method::POST, "/probe/headers", &[]).await;
    assert_eq!(small.status, 200);
}

#[tokio::test]
async fn past_the_concurrency_limit_requests_are_shed_with_503_and_retry_after() {
    let app = Edge::probe(|config| config.max_concurrent_requests = 2).await;
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let router = app.router.clone();
            tokio::spawn(
                async move { send(&router, Method::GET, "/probe/sleep?arg=1500", &[]).await },
            )
        })
        .collect();
    // The test runtime runs the two as soon as this task waits: they hold
    // both slots while the component sleeps.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let shed = app.get("/probe/headers", &[]).await;
    assert_eq!(shed.status, 503);
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(
        shed.header("content-type"),
        Some("application/problem+json")
    );
    assert_security_headers(&shed);
    // An overloaded host is still alive, and worth watching.
    assert_eq!(app.get("/health/live", &[]).await.status, 200);
    assert_eq!(app.get("/metrics", &[]).await.status, 200);
    for request in slow {
        assert_eq!(request.await.unwrap().status, 200);
    }
    assert_eq!(
        app.get("/probe/headers", &[]).await.status,
        200,
        "slots are given back"
    );
}

#[tokio::test]
async fn a_request_holds_its_slot_until_its_body_is_sent() {
    let app = Edge::probe(|config| config.max_concurrent_requests = 1).await;
    // The head comes at once; the body takes a second to stream.
    let streaming = head(&app.router, "/probe/stream?arg=1000").await;
    assert_eq!(streaming.status(), 200);
    assert_eq!(
        app.get("/probe/headers", &[]).await.status,
        503,
        "the slot is still taken while the body streams"
    );
    let body = streaming.into_body().collect().await.unwrap().to_bytes();
    assert!(body.ends_with(b"data: line 4\n\n"), "{body:?}");
    assert_eq!(
        app.get("/probe/headers", &[]).await.status,
        200,
        "the slot is given back when the body ends"
    );
}

/// A GET answered as far as its head: the body is the caller's to read.
pub(super) async fn head(router: &Router, path: &str) -> http::Response<Body> {
    let mut request = http::Request::get(path)
        .header("host", "test.local")
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(PEER.parse::<SocketAddr>().unwrap()));
    router.clone().oneshot(request).await.unwrap()
}
