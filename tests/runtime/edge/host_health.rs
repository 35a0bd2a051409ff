//! What the host adds to the health component's reports: memory, disk,
//! loaded components, and readiness that fails as soon as it drains.

use mhmanus_host::HealthThresholds;

use super::*;

async fn repo(health: impl FnOnce(&mut HealthThresholds)) -> Edge {
    Edge::repo_with(
        |config| {
            config.jwt_secret = Some("host-health-tests-secret-32-bytes!!".into());
            health(&mut config.server.health);
        },
        |_| {},
    )
    .await
}

#[tokio::test]
async fn health_reports_memory_disk_and_components_next_to_the_database() {
    let app = repo(|_| {}).await;
    let answer = app.get("/health", &[]).await;
    assert_eq!(
        answer.header("content-type"),
        Some("application/health+json")
    );
    let report = answer.json();
    // Anonymous callers do not learn where the data lives.
    let data_dir = app.host.data_dir().to_str().unwrap();
    assert!(!report.to_string().contains(data_dir), "{report}");
    assert_eq!(
        report["checks"]["disk:utilization"][0]["componentId"],
        "data-dir"
    );
    let checks = &report["checks"];
    assert_eq!(
        checks["database:responseTime"][0]["status"], "pass",
        "{report}"
    );
    for key in ["memory:utilization", "disk:utilization"] {
        let check = &checks[key][0];
        assert_eq!(check["observedUnit"], "percent", "{report}");
        let percent = check["observedValue"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&percent), "{key}: {percent}");
    }
    let components = &checks["components:loaded"][0];
    assert_eq!(components["observedValue"], 3);
    assert_eq!(components["componentId"], "auth,health,production-test");
    // The overall status is the worst of all checks, the host's included.
    let worst = checks
        .as_object()
        .unwrap()
        .values()
        .flat_map(|list| list.as_array().unwrap())
        .map(|check| check["status"].as_str().unwrap())
        .max_by_key(|status| ["pass", "warn", "fail"].iter().position(|s| s == status))
        .unwrap();
    assert_eq!(report["status"], worst);
}

#[tokio::test]
async fn a_full_disk_fails_health_and_a_busy_memory_warns() {
    let app = repo(|health| {
        health.disk_warn_percent = 0;
        health.disk_fail_percent = 0;
        health.memory_warn_percent = 0;
        health.memory_fail_percent = 100;
    })
    .await;
    let answer = app.get("/health", &[]).await;
    assert_eq!(answer.status, 503);
    let report = answer.json();
    assert_eq!(report["status"], "fail");
    let disk = &report["checks"]["disk:utilization"][0];
    assert_eq!(disk["status"], "fail");
    assert!(
        disk["output"].as_str().unwrap().contains("(limit 0 %)"),
        "{disk}"
    );
    assert_eq!(report["checks"]["memory:utilization"][0]["status"], "warn");
    // Readiness is about dependencies, not disk space.
    assert_eq!(app.get("/health/ready", &[]).await.status, 200);
}

#[tokio::test]
async fn readiness_fails_at_once_while_draining_and_liveness_stays() {
    let app = repo(|_| {}).await;
    assert_eq!(app.get("/health/ready", &[]).await.status, 200);
    app.host.components().drain();
    let ready = app.get("/health/ready", &[]).await;
    assert_eq!(ready.status, 503);
    let report = ready.json();
    assert_eq!(
        report["checks"]["host:draining"][0]["status"], "fail",
        "{report}"
    );
    assert_eq!(app.get("/health/live", &[]).await.status, 200);
    // Requests already arriving are still served.
    assert_eq!(app.get("/v1/auth/profile", &[]).await.status, 401);
}
