//! What operators see: JSON log lines that carry each request's id.

use std::time::Duration;

use mhmanus_tests::{SpawnedHost, workspace_root};

#[tokio::test]
async fn every_request_is_logged_as_json_with_its_request_id() {
    let data = tempfile::tempdir().unwrap();
    let host = SpawnedHost::start(
        &workspace_root(),
        &[("DATA_DIR", data.path().to_str().unwrap())],
    )
    .unwrap();
    let client = reqwest::Client::new();
    let reply = client
        .get(host.url("/v1/auth/profile"))
        .header("x-request-id", "e2e-request-42")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    assert_eq!(reply.headers()["x-request-id"], "e2e-request-42");

    // The response line is written as the response leaves; give it a moment.
    let mut line = None;
    for _ in 0..50 {
        line = host
            .log()
            .into_iter()
            .find(|l| l.contains("e2e-request-42"));
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = line.expect("a log line with the request id");
    let json: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines");
    assert_eq!(json["span"]["request_id"], "e2e-request-42", "{json}");
    assert_eq!(json["span"]["path"], "/v1/auth/profile");
    assert_eq!(json["fields"]["status"], 401, "{json}");
}
