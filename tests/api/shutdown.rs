//! Graceful shutdown of the real binary: on SIGTERM the requests in flight
//! finish, new connections are refused, and the process exits 0 — within
//! the grace period, whatever the requests still want.

use std::path::Path;
use std::time::{Duration, Instant};

use mhmanus_tests::{SpawnedHost, TestManifest, spawn_app};

/// The probe component alone: `/probe/sleep?arg=MS` answers after MS ms.
fn write_manifest(dir: &Path) {
    let manifest = TestManifest::new("shutdown").route("/probe/...", "probe", "spin-probe");
    std::fs::write(dir.join("spin.toml"), manifest.to_string()).unwrap();
}

fn start(dir: &Path, grace_secs: &str) -> SpawnedHost {
    write_manifest(dir);
    let data = dir.join("data");
    SpawnedHost::start(
        dir,
        &[
            ("DATA_DIR", data.to_str().unwrap()),
            ("RATE_LIMIT", "off"),
            ("SHUTDOWN_GRACE_SECS", grace_secs),
        ],
    )
    .unwrap()
}

/// Waits until the host's `http_requests_in_flight` reaches `count`.
async fn wait_for_in_flight(host: &SpawnedHost, count: u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let in_flight = host.metric("http_requests_in_flight").await;
        if in_flight >= f64::from(count) {
            return;
        }
        assert!(Instant::now() < deadline, "only {in_flight} in flight");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigterm_lets_50_requests_in_flight_finish_and_refuses_new_connections() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = start(dir.path(), "30");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let requests: Vec<_> = (0..50)
        .map(|_| {
            let request = client.get(host.url("/probe/sleep?arg=3000")).send();
            tokio::spawn(async move {
                let response = request.await?;
                let status = response.status();
                response.bytes().await?;
                Ok::<_, reqwest::Error>((status, started.elapsed()))
            })
        })
        .collect();
    // Once all 50 are inside the host (the scrape itself is one more), stop
    // the host under them.
    wait_for_in_flight(&host, 51).await;
    host.terminate();
    let signalled = started.elapsed();

    tokio::time::sleep(Duration::from_millis(300)).await;
    let address = host.base_url.trim_start_matches("http://").to_owned();
    let refused = tokio::net::TcpStream::connect(&address).await;
    assert!(
        refused.is_err(),
        "a new connection after SIGTERM was accepted"
    );

    for request in requests {
        let (status, finished) = request.await.unwrap().expect("answered, not dropped");
        assert_eq!(status, 200);
        assert!(finished > signalled, "it was in flight at the signal");
    }
    let exit = host
        .wait(Duration::from_secs(15))
        .expect("the host exits once they are done");
    assert!(exit.success(), "{exit:?}");
    let log = host.log().join("\n");
    assert!(log.contains("shutting down"), "{log}");
}

#[tokio::test]
async fn an_idle_host_stops_on_sigterm_with_exit_code_zero() {
    let mut host = spawn_app(&[]);
    host.terminate();
    let exit = host
        .wait(Duration::from_secs(10))
        .expect("the host exits after SIGTERM");
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn the_grace_period_bounds_how_long_shutdown_waits() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = start(dir.path(), "1");
    let request = tokio::spawn(reqwest::get(host.url("/probe/sleep?arg=20000")));
    wait_for_in_flight(&host, 2).await;
    let signalled = Instant::now();
    host.terminate();
    let exit = host
        .wait(Duration::from_secs(10))
        .expect("the host exits when the grace period ends");
    assert!(exit.success(), "{exit:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "exited after {:?}, not after the 20 s request",
        signalled.elapsed()
    );
    assert!(request.await.unwrap().is_err(), "the late request was cut");
    let log = host.log().join("\n");
    assert!(log.contains("grace period over"), "{log}");
}

#[tokio::test]
async fn a_second_signal_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = start(dir.path(), "30");
    let request = tokio::spawn(reqwest::get(host.url("/probe/sleep?arg=20000")));
    wait_for_in_flight(&host, 2).await;
    host.terminate();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !host.log().join("\n").contains("shutting down") {
        assert!(Instant::now() < deadline, "no shutdown line");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signalled = Instant::now();
    host.terminate();
    let exit = host
        .wait(Duration::from_secs(10))
        .expect("the second signal ends the process");
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "{:?}",
        signalled.elapsed()
    );
    assert_eq!(exit.code(), Some(1), "a forced stop is not a clean one");
    assert!(request.await.unwrap().is_err(), "the request was abandoned");
}
