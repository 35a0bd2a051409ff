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

#[tokio::test]
async fn metrics_can_have_an_address_of_their_own() {
    let data = tempfile::tempdir().unwrap();
    let host = SpawnedHost::start(
        &workspace_root(),
        &[
            ("DATA_DIR", data.path().to_str().unwrap()),
            ("METRICS_LISTEN", "127.0.0.1:0"),
        ],
    )
    .unwrap();
    // The port it chose, as logged before "serving".
    let metrics_addr = host
        .log()
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|json| json["fields"]["message"] == "serving metrics")
        .and_then(|json| json["fields"]["address"].as_str().map(str::to_owned))
        .expect("a 'serving metrics' line with the address");
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(host.url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let public = client.get(host.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "not on the public address");
    let scrape = client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    let text = scrape.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/health/live",status="200"} 1"#),
        "{text}"
    );
}
