//! Starting the host: it serves the repository's spin.toml over HTTP, and a
//! broken set-up is one readable line instead of a backtrace.

use mhmanus_tests::{spawn_app, start_failure, workspace_root};

#[tokio::test]
async fn serves_health_over_http() {
    let host = spawn_app(&[]);
    let client = reqwest::Client::new();
    let live = client.get(host.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(live.headers()["content-type"], "application/health+json");
    let ready = client.get(host.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let report: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(
        report["checks"]["database:responseTime"][0]["status"],
        "pass"
    );
    let missing = client.get(host.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}

fn one_line_error(stderr: &str) -> String {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "exactly one error line:\n{stderr}");
    assert!(
        !stderr.contains("stack backtrace"),
        "no backtrace:\n{stderr}"
    );
    errors[0].to_owned()
}

#[test]
fn a_missing_wasm_is_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(workspace_root().join("spin.toml")).unwrap();
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    let line = one_line_error(&start_failure(dir.path(), &[]));
    assert!(
        line.contains("component ") && line.contains(".wasm does not exist"),
        "{line}"
    );
}

#[test]
fn a_bad_manifest_is_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spin.toml"),
        "spin_manifest_version = 2\n[application\n",
    )
    .unwrap();
    let line = one_line_error(&start_failure(dir.path(), &[]));
    assert!(line.contains("spin.toml is not valid"), "{line}");
}

#[test]
fn an_unreachable_database_url_is_one_readable_line() {
    let data = tempfile::tempdir().unwrap();
    let stderr = start_failure(
        &workspace_root(),
        &[
            (
                "DATABASE_URL",
                "postgres://postgres:hunter2@127.0.0.1:1/postgres",
            ),
            ("DATA_DIR", data.path().to_str().unwrap()),
        ],
    );
    let line = one_line_error(&stderr);
    assert!(
        line.contains("DATABASE_URL") && line.contains("unreachable"),
        "{line}"
    );
    assert!(
        !stderr.contains("hunter2"),
        "the password never reaches the log:\n{stderr}"
    );
}
