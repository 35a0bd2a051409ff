//! Starting the host: it serves the repository's spin.toml over HTTP, and a
//! broken set-up is one readable line instead of a backtrace.

use std::time::Duration;

use mhmanus_tests::{OwnPostgres, fatal_error, spawn_app, start_failure, workspace_root};

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

#[test]
fn a_missing_wasm_is_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(workspace_root().join("spin.toml")).unwrap();
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    let line = fatal_error(&start_failure(dir.path(), &[]));
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
    let line = fatal_error(&start_failure(dir.path(), &[]));
    assert!(line.contains("spin.toml is not valid"), "{line}");
}

/// A database that is down when the host starts is waited for: live at
/// once, not ready (saying what it waits for), then ready once the server
/// is up, the schema migrated, with no restart; the password never logged.
#[tokio::test]
async fn a_database_down_at_start_is_waited_for() {
    let server = OwnPostgres::init(None);
    let url = server
        .url("127.0.0.1", "")
        .replace("postgres@", "postgres:hunter2@");
    let host = spawn_app(&[("DATABASE_URL", &url)]);
    let client = reqwest::Client::new();
    let live = client.get(host.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let ready = client.get(host.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let report: serde_json::Value = ready.json().await.unwrap();
    let waiting = report["checks"]["postgres:startup"][0]["output"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(waiting.contains("waiting for DATABASE_URL"), "{report:#}");
    // What an alert reads, asked of the host when scraped.
    let scraped = || async {
        let page = client.get(host.url("/metrics")).send().await.unwrap();
        page.text().await.unwrap()
    };
    let page = scraped().await;
    assert!(page.contains("\nhealth_status 0\n"), "{page}");
    assert!(
        page.contains("\nhealth_check_status{check=\"postgres:startup\"} 0\n"),
        "{page}"
    );
    server.resume();
    let started = std::time::Instant::now();
    loop {
        let ready = client.get(host.url("/health/ready")).send().await.unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "not ready 20 s after the database started: {}",
            ready.text().await.unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // The check awaited at start-up has left the report: passing again
    // (scrapes within a second of the last share its answer).
    let mut page = scraped().await;
    while !page.contains("\nhealth_status 1\n") && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        page = scraped().await;
    }
    assert!(page.contains("\nhealth_status 1\n"), "{page}");
    assert!(
        page.contains("\nhealth_check_status{check=\"postgres:startup\"} 1\n"),
        "{page}"
    );
    // Migrated and serving accounts.
    host.sign_up().await;
    let log = host.log().join("\n");
    assert!(log.contains("DATABASE_URL is unreachable"), "{log}");
    assert!(
        !log.contains("hunter2"),
        "the password never reaches the log"
    );
}

/// What can never work still stops start-up, in one line naming the fix.
#[test]
fn a_database_url_that_is_not_postgres_is_one_readable_line() {
    let data = tempfile::tempdir().unwrap();
    for url in ["mysql://root@127.0.0.1/app", "notaurl"] {
        let stderr = start_failure(
            &workspace_root(),
            &[
                ("DATABASE_URL", url),
                ("DATA_DIR", data.path().to_str().unwrap()),
            ],
        );
        let line = fatal_error(&stderr);
        assert!(
            line.contains("DATABASE_URL") && line.contains("postgres://user:password@host:5432/db"),
            "{line}"
        );
    }
}

/// A `DATA_DIR` the host's user cannot write stops start-up with the fix:
/// which user must own it. (Run as another user when the tests are root,
/// whom permissions do not stop.)
#[test]
fn an_unwritable_data_dir_names_the_user_that_must_own_it() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut command = if root {
        let mut command = std::process::Command::new("runuser");
        command
            .args(["-u", "nobody", "--"])
            .arg(mhmanus_tests::host_binary());
        command
    } else {
        std::process::Command::new(mhmanus_tests::host_binary())
    };
    let output = command
        .args(["up", "--listen", "127.0.0.1:0"])
        .current_dir(workspace_root())
        .env("DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let line = fatal_error(&String::from_utf8_lossy(&output.stderr));
    assert!(
        line.contains("DATA_DIR") && line.contains("permission denied"),
        "{line}"
    );
    assert!(line.contains("chown "), "{line}");
}

/// In a terminal the reason is one plain `error:` line, as a person reads
/// it, and no JSON (the log is text there too).
#[test]
fn in_a_terminal_the_reason_is_one_plain_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), "not a manifest").unwrap();
    let host = mhmanus_tests::host_binary();
    // `script` gives the host a terminal and copies what it shows to stdout.
    let output = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} up --listen 127.0.0.1:0", host.display()),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .env_remove("SPIN_MANIFEST")
        .output()
        .expect("script (util-linux) runs");
    assert!(!output.status.success());
    let shown = String::from_utf8_lossy(&output.stdout);
    let errors: Vec<&str> = shown
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{shown}");
    assert!(errors[0].contains("spin.toml is not valid"), "{shown}");
    assert!(!shown.contains("\"level\""), "{shown}");
}
