//! `components/health` under the native runtime, from the repository's spin.toml.

use mhmanus_tests::{CLOSED_REDIS_URL, InProcessHost, POSTGRES_URL, REDIS_URL};

#[tokio::test]
async fn health_passes_on_the_default_sqlite_database() {
    let app = InProcessHost::start_repo(|_| {}).await.unwrap();
    for path in ["/health", "/health/ready"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.content_type(), "application/health+json");
        let report = reply.json();
        assert_eq!(report["status"], "pass");
        let check = &report["checks"]["database:responseTime"][0];
        assert_eq!(check["componentId"], "sqlite");
        assert_eq!(check["status"], "pass");
        assert_eq!(check["observedUnit"], "ms");
        assert!(check["observedValue"].as_f64().unwrap() >= 0.0);
        assert!(check["time"].as_str().unwrap().ends_with('Z'));
        assert!(
            report["checks"].get("redis:responseTime").is_none(),
            "no Redis configured"
        );
    }
    assert!(
        app.data_dir().join("data/sqlite_db.db").exists(),
        "the check used the real SQLite file"
    );
}

#[tokio::test]
async fn health_checks_the_real_postgres_and_redis_when_configured() {
    let app = InProcessHost::start_repo(|config| {
        config.database_url = Some(POSTGRES_URL.into());
        config.redis_url = Some(REDIS_URL.into());
    })
    .await
    .unwrap();
    let reply = app.get("/health/ready").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    assert_eq!(
        report["checks"]["database:responseTime"][0]["componentId"],
        "postgres"
    );
    assert_eq!(
        report["checks"]["database:responseTime"][0]["status"],
        "pass"
    );
    assert_eq!(report["checks"]["redis:responseTime"][0]["status"], "pass");
}

#[tokio::test]
async fn an_unreachable_redis_fails_readiness_and_says_why() {
    let app = InProcessHost::start_repo(|config| config.redis_url = Some(CLOSED_REDIS_URL.into()))
        .await
        .unwrap();
    let reply = app.get("/health/ready").await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["status"], "fail");
    let redis = &report["checks"]["redis:responseTime"][0];
    assert_eq!(redis["status"], "fail");
    let output = redis["output"].as_str().unwrap();
    assert!(
        output.to_lowercase().contains("refused") || output.contains("connect"),
        "{output}"
    );
    // The database is still fine, and says so.
    assert_eq!(
        report["checks"]["database:responseTime"][0]["status"],
        "pass"
    );
}

#[tokio::test]
async fn unknown_health_routes_and_methods_are_problems() {
    let app = InProcessHost::start_repo(|_| {}).await.unwrap();
    let reply = app.get("/health/nope").await;
    assert_eq!(
        (reply.status.as_u16(), reply.content_type()),
        (404, "application/problem+json")
    );
    assert_eq!(reply.json()["instance"], "/health/nope");
    let reply = app.get("/not-routed").await;
    assert_eq!(
        (reply.status.as_u16(), reply.content_type()),
        (404, "application/problem+json")
    );
    // The host's own routes answer a wrong method as the components do.
    for path in ["/health/live", "/openapi.json", "/metrics"] {
        let reply = app.call("POST", path, &[], "").await;
        assert_eq!(
            (reply.status.as_u16(), reply.content_type()),
            (405, "application/problem+json"),
            "{path}"
        );
        assert_eq!(reply.json()["instance"], path);
        assert_eq!(reply.json()["detail"], "POST is not allowed here");
        assert_eq!(reply.header("allow"), Some("GET,HEAD"), "{path}");
        assert!(reply.header("x-request-id").is_some(), "{path}");
    }
}
