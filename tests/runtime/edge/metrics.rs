//! `/metrics`: what was served, by route and status, in the Prometheus
//! format, with the limiter's decisions, guest instantiations and pools.

use mhmanus_tests::{POSTGRES_ADDRESS, POSTGRES_URL};

use super::*;

/// A route no other test uses, so its counters are this test's alone.
fn counted() -> TestManifest {
    TestManifest::new("counted").route("/counted/...", "probe", "spin-probe")
}

fn line<'a>(metrics: &'a str, prefix: &str) -> Option<&'a str> {
    metrics.lines().find(|line| line.starts_with(prefix))
}

/// The value of the series `prefix` names, which must be there.
fn value(metrics: &str, prefix: &str) -> f64 {
    line(metrics, prefix)
        .unwrap_or_else(|| panic!("{prefix} in\n{metrics}"))
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn requests_are_counted_by_route_and_status_and_timed() {
    let app = Edge::start(
        &counted(),
        |_| {},
        |config| {
            config.rate_limit = "2/60s".parse().unwrap();
        },
    )
    .await;
    // Two URLs (each its own bucket of 2), one route: one label.
    for path in ["/counted/a", "/counted/a", "/counted/a", "/counted/b"] {
        app.get(path, &[]).await;
    }
    // An invented method is counted, under one label for all of them
    // (from another client: this one has used its quota of new paths).
    let brew = Method::from_bytes(b"BREW").unwrap();
    send_from(&app.router, "127.0.0.2:40000", brew, "/counted/c", &[]).await;
    let scrape = app.get("/metrics", &[]).await;
    assert_eq!(scrape.status, 200);
    assert!(
        scrape
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"),
        "{:?}",
        scrape.headers
    );
    assert_eq!(
        scrape.header("ratelimit"),
        None,
        "/metrics is never limited"
    );
    let metrics = String::from_utf8(scrape.body.to_vec()).unwrap();
    let admitted = r#"http_requests_total{method="GET",route="/counted/...",status="200"}"#;
    let limited = r#"http_requests_total{method="GET",route="/counted/...",status="429"}"#;
    assert_eq!(
        line(&metrics, admitted),
        Some(format!("{admitted} 3").as_str()),
        "{metrics}"
    );
    assert_eq!(
        line(&metrics, limited),
        Some(format!("{limited} 1").as_str())
    );
    let count = r#"http_request_duration_seconds_count{method="GET",route="/counted/..."}"#;
    assert_eq!(line(&metrics, count), Some(format!("{count} 4").as_str()));
    assert!(
        line(
            &metrics,
            r#"http_request_duration_seconds_bucket{method="GET",route="/counted/...",le="0.001"}"#
        )
        .is_some()
    );
    let other = r#"http_requests_total{method="OTHER",route="/counted/...",status="200"}"#;
    assert_eq!(line(&metrics, other), Some(format!("{other} 1").as_str()));
    assert!(!metrics.contains("BREW"));
    for series in [
        "http_requests_in_flight",
        r#"rate_limit_decisions_total{decision="limited",backend="in-process"}"#,
        r#"rate_limit_decisions_total{decision="allowed",backend="in-process"}"#,
        r#"wasm_instantiations_total{component="probe"}"#,
    ] {
        assert!(line(&metrics, series).is_some(), "{series} in\n{metrics}");
    }
}

#[tokio::test]
async fn database_pools_are_reported() {
    let app = Edge::repo_with(
        |config| {
            config.jwt_secret = Some("metrics-tests-secret-of-32-bytes-ok".into());
            config.database_url = Some(POSTGRES_URL.into());
        },
        |_| {},
    )
    .await;
    assert_eq!(app.get("/health/ready", &[]).await.status, 200);
    let metrics = String::from_utf8(app.get("/metrics", &[]).await.body.to_vec()).unwrap();
    // Named by a digest of the address: a scrape learns no host, port, user
    // or database.
    let open = line(&metrics, r#"db_pool_connections{pool="pg-"#)
        .unwrap_or_else(|| panic!("a pool in\n{metrics}"));
    let label = open.split('"').nth(1).unwrap();
    assert!(
        label.len() == 11 && label[3..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{open}"
    );
    let open = value(
        &metrics,
        &format!(r#"db_pool_connections{{pool="{label}",state="open"}}"#),
    );
    assert!(open >= 1.0, "{open}");
    assert!(!metrics.contains(POSTGRES_ADDRESS), "{metrics}");
    assert!(!metrics.contains("postgres@"), "{metrics}");
    assert!(line(&metrics, "redis_connections").is_some());
    // Every family says what it is, and the process and build are there.
    let families: Vec<&str> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(families.len() >= 10, "{metrics}");
    for family in families {
        assert!(
            line(&metrics, &format!("# HELP {family} ")).is_some(),
            "{family} has no HELP line"
        );
    }
    assert!(value(&metrics, "process_resident_memory_bytes") > 1e6);
    assert!(value(&metrics, "process_open_fds") >= 1.0);
    let build = format!(
        r#"mhmanus_build_info{{version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&metrics, &build), 1.0, "{metrics}");
}

/// A route of its own, so its latency series are this test's alone.
fn timed() -> TestManifest {
    TestManifest::new("timed").route("/timed/...", "probe", "spin-probe")
}

#[tokio::test]
async fn a_request_is_timed_until_its_body_is_sent() {
    let app = Edge::start(&timed(), |_| {}, |_| {}).await;
    let count = r#"http_request_duration_seconds_count{method="GET",route="/timed/..."}"#;
    let sum = r#"http_request_duration_seconds_sum{method="GET",route="/timed/..."}"#;
    let streaming = request_limits::head(&app.router, "/timed/stream?arg=600").await;
    assert_eq!(streaming.status(), 200);
    let metrics = String::from_utf8(app.get("/metrics", &[]).await.body.to_vec()).unwrap();
    // The series may exist already (its handle is resolved with the head),
    // but nothing is counted in it before the body ends.
    let before = line(&metrics, count);
    assert!(
        before.is_none_or(|line| line == format!("{count} 0")),
        "timed before its body ended: {before:?}"
    );
    streaming.into_body().collect().await.unwrap();
    let metrics = String::from_utf8(app.get("/metrics", &[]).await.body.to_vec()).unwrap();
    assert_eq!(line(&metrics, count), Some(format!("{count} 1").as_str()));
    let seconds = value(&metrics, sum);
    assert!(seconds >= 0.6, "the body streamed 0.6 s, timed {seconds} s");
}
