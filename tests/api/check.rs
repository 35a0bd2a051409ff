//! `mhmanus-host check`: passes on a good configuration and prints the
//! effective settings (no secret), routes and backends; fails with one line
//! per problem, each naming the setting, on a bad URL, a refused TLS
//! handshake and an unwritable DATA_DIR.

use std::process::Command;

use mhmanus_tests::{POSTGRES_ADDRESS, REDIS_URL, host_binary, target_dir, workspace_root};

struct Checked {
    success: bool,
    stdout: String,
    /// The `error:` lines.
    errors: Vec<String>,
}

/// Runs `check` with `env` (and nothing else of the host's settings); as
/// the user nobody when `as_nobody` and the tests are root.
fn check(env: &[(&str, &str)], as_nobody: bool) -> Checked {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut command = if as_nobody && root {
        let mut command = Command::new("runuser");
        command.args(["-u", "nobody", "--"]).arg(host_binary());
        command
    } else {
        Command::new(host_binary())
    };
    for name in mhmanus_host::HostConfig::variable_names() {
        command.env_remove(name);
    }
    let data = tempfile::tempdir().unwrap();
    let output = command
        .arg("check")
        .current_dir(workspace_root())
        .env("RUST_LOG", "warn")
        .env("DATA_DIR", data.path())
        .env("COMPILE_CACHE_DIR", target_dir().join("test-compile-cache"))
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    Checked {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        errors: stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .map(str::to_owned)
            .collect(),
    }
}

#[test]
fn a_good_configuration_passes_and_is_printed_without_secrets() {
    let database = format!("postgres://postgres:hunter2@{POSTGRES_ADDRESS}/postgres");
    let checked = check(
        &[
            ("DATABASE_URL", &database),
            ("REDIS_URL", REDIS_URL),
            ("JWT_SECRET", "a-check-secret-of-thirty-two-bytes!"),
            ("PORT", "3456"),
        ],
        false,
    );
    assert!(checked.success, "{:?}\n{}", checked.errors, checked.stdout);
    assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    let out = &checked.stdout;
    assert!(
        !out.contains("hunter2") && !out.contains("thirty-two"),
        "{out}"
    );
    for expected in [
        "ok     DATABASE_URL postgres://postgres:***@",
        "ok     REDIS_URL redis://127.0.0.1:6379: answers",
        "compiled and linked",
        "JWT_SECRET=[redacted]  (environment)",
        "PORT=3456  (environment)",
        "Serving http://127.0.0.1:3456",
        "auth: http://127.0.0.1:3456/v1/auth/",
        "database: PostgreSQL at postgres://postgres:***@",
        "rate limits: Redis at redis://127.0.0.1:6379",
    ] {
        assert!(out.contains(expected), "{expected:?} in\n{out}");
    }
}

#[test]
fn each_problem_is_one_line_naming_its_setting() {
    let checked = check(
        &[
            ("DATABASE_URL", "mysql://root@127.0.0.1/app"),
            // TLS to a server that speaks none: the handshake is refused.
            ("REDIS_URL", "rediss://127.0.0.1:6379"),
            ("TLS_CERT", "/nowhere/cert.pem"),
            ("TLS_KEY", "/nowhere/key.pem"),
        ],
        false,
    );
    assert!(!checked.success);
    assert_eq!(checked.errors.len(), 3, "{:#?}", checked.errors);
    assert!(checked.errors[0].starts_with("error: TLS_CERT /nowhere/cert.pem"));
    assert!(
        checked.errors[1].contains("DATABASE_URL") && checked.errors[1].contains("postgres://")
    );
    assert!(checked.errors[2].starts_with("error: REDIS_URL rediss://127.0.0.1:6379: "));
    assert!(checked.errors[2].contains("not TLS"));
}

#[test]
fn an_unwritable_data_dir_is_a_problem() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let checked = check(&[("DATA_DIR", data.to_str().unwrap())], true);
    assert!(!checked.success);
    assert!(
        checked
            .errors
            .iter()
            .any(|e| e.contains("DATA_DIR") && e.contains("permission denied")),
        "{:#?}",
        checked.errors
    );
}
