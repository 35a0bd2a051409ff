//! The original system's authentication commands against the real binary,
//! and the start-up rules for the signing secret.

use mhmanus_tests::{spawn_app, start_failure, workspace_root};
use serde_json::{Value, json};

/// `curl -X POST :3000/auth/register ...`, `.../auth/login`, then a
/// protected call with the token, as `ORIGINAL-PHASE-10.md` shows them.
#[tokio::test]
async fn the_original_register_login_and_protected_call_work() {
    let host = spawn_app(&[]);
    let client = reqwest::Client::new();
    let register = client
        .post(host.url("/auth/register"))
        .header("Content-Type", "application/json")
        .body(r#"{"email":"test@example.com","password":"Test123!","name":"Test User"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let login = client
        .post(host.url("/auth/login"))
        .header("Content-Type", "application/json")
        .body(r#"{"email":"test@example.com","password":"Test123!"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    let token = login["access_token"].as_str().unwrap();
    let profile = client
        .get(host.url("/auth/profile"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    let profile: Value = profile.json().await.unwrap();
    assert_eq!(profile["email"], "test@example.com");
    assert_eq!(profile["roles"], json!(["User"]));
}

#[test]
fn production_refuses_a_short_or_missing_jwt_secret() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path().to_str().unwrap();
    let short = "too-short-secret-of-31-bytes-xx";
    assert_eq!(short.len(), 31);
    let stderr = start_failure(
        &workspace_root(),
        &[
            ("DATA_DIR", data),
            ("NODE_ENV", "production"),
            ("JWT_SECRET", short),
        ],
    );
    assert!(stderr.contains("JWT_SECRET has 31 bytes"), "{stderr}");
    assert!(!stderr.contains(short), "the secret never reaches the log");
    let stderr = start_failure(
        &workspace_root(),
        &[("DATA_DIR", data), ("APP_ENV", "production")],
    );
    assert!(
        stderr.contains("JWT_SECRET is required in production"),
        "{stderr}"
    );
}

/// Spin's environment provider works on the binary as under `spin up`:
/// the secret may come as `SPIN_VARIABLE_JWT_SECRET`.
#[tokio::test]
async fn production_takes_the_secret_from_spins_variable_too() {
    let host = spawn_app(&[
        ("APP_ENV", "production"),
        (
            "SPIN_VARIABLE_JWT_SECRET",
            "a-production-secret-with-at-least-32-bytes",
        ),
    ]);
    let reply = reqwest::get(host.url("/auth/profile")).await.unwrap();
    assert_eq!(reply.status(), 401);
}

#[tokio::test]
async fn production_serves_with_a_strong_secret() {
    let host = spawn_app(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET", "a-production-secret-with-at-least-32-bytes"),
    ]);
    let reply = reqwest::get(host.url("/auth/profile")).await.unwrap();
    assert_eq!(reply.status(), 401);
}
