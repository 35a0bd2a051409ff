//! The original system's production-test commands, against the binary:
//! the 15-request rate-limit loop, and `all-features` with a token from the
//! original register/login curls.

use mhmanus_tests::{SpawnedHost, spawn_app};
use serde_json::{Value, json};

fn start() -> SpawnedHost {
    spawn_app(&[("JWT_SECRET", "api-tests-production-secret-32-bytes!!")])
}

#[tokio::test]
async fn the_rate_limit_loop_answers_ten_then_429s() {
    let host = start();
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..15 {
        // for i in {1..15}; do curl http://localhost:3000/production-test/rate-limit; done
        let reply = client
            .get(host.url("/production-test/rate-limit"))
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        assert!(reply.headers().contains_key("ratelimit"));
        if status == 429 {
            assert!(reply.headers().contains_key("retry-after"));
            assert_eq!(reply.headers()["content-type"], "application/problem+json");
        } else {
            let body: Value = reply.json().await.unwrap();
            assert_eq!(body["rateLimited"], true);
            assert_eq!(body["runtime"], "mhmanus-host");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [[200; 10].as_slice(), &[429; 5]].concat());
}

#[tokio::test]
async fn all_features_with_a_token_from_the_original_login() {
    let host = start();
    let client = reqwest::Client::new();
    let register = client
        .post(host.url("/auth/register"))
        .json(&json!({"email": "test@example.com", "password": "Test123!", "name": "Test User"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let login: Value = client
        .post(host.url("/auth/login"))
        .json(&json!({"email": "test@example.com", "password": "Test123!"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();

    let reply = client
        .get(host.url("/production-test/all-features"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["x-frame-options"], "SAMEORIGIN");
    let report: Value = reply.json().await.unwrap();
    assert_eq!(report["status"], "pass", "{report}");
    let statuses: Vec<(&str, &str)> = report["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["feature"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    for (feature, status) in &statuses {
        let expected = if *feature == "redis" {
            "unavailable"
        } else {
            "pass"
        };
        assert_eq!(status, &expected, "{feature}: {report}");
    }

    // The compression route, compressed on the wire.
    let compressed = client
        .get(host.url("/production-test/compression"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
}
