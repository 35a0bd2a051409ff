//! The password-work budget through the real router: requests to the
//! routes that hash passwords share a few places; past them a request is
//! refused within half a second (503, or 429 when its own client holds
//! the places) instead of queueing, and other routes never wait.

use std::time::{Duration, Instant};

use super::*;

/// The probe's sleep stands for an argon2 check: `places` at once.
async fn budgeted(places: usize) -> Edge {
    Edge::probe(|config| {
        config.max_password_checks = places;
        config.password_routes = vec!["GET /probe/sleep".parse().unwrap()];
    })
    .await
}

/// A GET of `path` from `peer`, started now, running on its own.
fn spawn_get(app: &Edge, peer: &'static str, path: &'static str) -> tokio::task::JoinHandle<Reply> {
    let router = app.router.clone();
    tokio::spawn(async move { send_from(&router, peer, Method::GET, path, &[]).await })
}

#[tokio::test]
async fn past_the_places_a_password_request_is_refused_within_half_a_second() {
    let app = budgeted(1).await;
    let holding = spawn_get(&app, "192.0.2.1:4000", "/probe/sleep?arg=2000");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let busy = app
        .get_from("198.51.100.2:4000", "/probe/sleep?arg=0", &[])
        .await;
    let waited = started.elapsed();
    assert_eq!(
        busy.status, 503,
        "another client: the service is at capacity"
    );
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert_eq!(
        busy.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        (Duration::from_millis(400)..Duration::from_millis(1500)).contains(&waited),
        "refused after {waited:?}, not at once and not after the holder"
    );
    let own = app
        .get_from("192.0.2.1:4001", "/probe/sleep?arg=0", &[])
        .await;
    assert_eq!(
        own.status, 429,
        "the holder's own client is told to slow down"
    );
    assert_eq!(own.header("retry-after"), Some("1"));
    // A HEAD is served as the GET it stands for, and counted so.
    let head = send_from(
        &app.router,
        "192.0.2.1:4002",
        Method::HEAD,
        "/probe/sleep?arg=0",
        &[],
    )
    .await;
    assert_eq!(head.status, 429);

    // Routes that hash nothing do not wait for a place.
    let started = Instant::now();
    let other = app
        .get_from("198.51.100.2:4000", "/probe/headers", &[])
        .await;
    assert_eq!(other.status, 200);
    assert!(started.elapsed() < Duration::from_millis(400));

    assert_eq!(holding.await.unwrap().status, 200);
    let freed = app
        .get_from("198.51.100.2:4000", "/probe/sleep?arg=0", &[])
        .await;
    assert_eq!(freed.status, 200, "the place is given back");
}

#[tokio::test]
async fn a_request_waits_briefly_for_a_place_that_frees() {
    let app = budgeted(2).await;
    let first = spawn_get(&app, "192.0.2.1:4000", "/probe/sleep?arg=200");
    let second = spawn_get(&app, "192.0.2.2:4000", "/probe/sleep?arg=200");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let third = app
        .get_from("192.0.2.1:4002", "/probe/sleep?arg=0", &[])
        .await;
    assert_eq!(third.status, 200, "got a place within the wait");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "it waited for one: {:?}",
        started.elapsed()
    );
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(second.await.unwrap().status, 200);
}

#[tokio::test]
async fn a_body_still_arriving_holds_no_place() {
    let app = Edge::probe(|config| {
        config.max_password_checks = 1;
        config.body_read_timeout_secs = 2;
        config.password_routes = vec![
            "GET /probe/sleep".parse().unwrap(),
            "POST /probe/headers".parse().unwrap(),
        ];
    })
    .await;
    // A body that never comes, as a client trickling it would send.
    let mut trickling = request_from("192.0.2.1:4000", Method::POST, "/probe/headers", &[]);
    *trickling.body_mut() = Body::from_stream(futures::stream::pending::<
        Result<bytes::Bytes, std::io::Error>,
    >());
    let router = app.router.clone();
    let waiting =
        tokio::spawn(async move { Reply::read(router.oneshot(trickling).await.unwrap()).await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let login = app
        .get_from("198.51.100.2:4000", "/probe/sleep?arg=0", &[])
        .await;
    assert_eq!(login.status, 200, "the place was free");
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        waiting.await.unwrap().status,
        408,
        "the trickled body is cut off"
    );
}
