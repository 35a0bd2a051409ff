//! What operators see: JSON log lines that carry each request's id.

use std::time::Duration;

use mhmanus_tests::{POSTGRES_ADDRESS, spawn_app};

#[tokio::test]
async fn every_request_is_logged_as_json_with_its_request_id() {
    let host = spawn_app(&[]);
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
    let host = spawn_app(&[("METRICS_LISTEN", "127.0.0.1:0")]);
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

/// A full account flow with debug logging: no secret, password or token
/// reaches the log, however verbose.
#[tokio::test]
async fn no_secret_password_or_token_is_ever_logged() {
    const SECRET: &str = "Qz7-logged-never-jwt-secret-of-32-bytes";
    const ADMIN_PASSWORD: &str = "Xv8-an admin passphrase never logged";
    const DB_PASSWORD: &str = "Dp9NeverLoggedDatabasePassword";
    const FIRST: &str = "Fw1 first passphrase never logged";
    const SECOND: &str = "Sw2 second passphrase never logged";
    let database_url = format!("postgres://postgres:{DB_PASSWORD}@{POSTGRES_ADDRESS}/postgres");
    let host = spawn_app(&[
        ("RUST_LOG", "debug"),
        ("JWT_SECRET", SECRET),
        ("DATABASE_URL", &database_url),
        ("ADMIN_EMAIL", "logs-admin@example.com"),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
    ]);
    let client = reqwest::Client::new();
    let email = format!("logs-{}@example.com", uuid::Uuid::new_v4());
    let post = |path: &str, body: serde_json::Value, token: Option<&str>| {
        let mut request = client.post(host.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap();
    let reply = post(
        "/auth/register",
        serde_json::json!({"email": email, "password": FIRST, "name": "Logs"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(reply.status(), 201);
    let wrong = post(
        "/auth/login",
        serde_json::json!({"email": email, "password": SECOND}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(wrong.status(), 401);
    let login = json(
        &post(
            "/auth/login",
            serde_json::json!({"email": email, "password": FIRST}),
            None,
        )
        .await
        .unwrap()
        .text()
        .await
        .unwrap(),
    );
    let access = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let rotated = json(
        &post(
            "/auth/refresh",
            serde_json::json!({"refresh_token": refresh}),
            None,
        )
        .await
        .unwrap()
        .text()
        .await
        .unwrap(),
    );
    let change = client
        .patch(host.url("/auth/profile"))
        .bearer_auth(&access)
        .json(&serde_json::json!({"currentPassword": FIRST, "newPassword": SECOND}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 200);
    let admin = json(
        &post(
            "/auth/login",
            serde_json::json!({"email": "logs-admin@example.com", "password": ADMIN_PASSWORD}),
            None,
        )
        .await
        .unwrap()
        .text()
        .await
        .unwrap(),
    );
    let config = client
        .get(host.url("/production-test/config"))
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = host.log().join("\n");
    assert!(
        log.contains("finished processing request"),
        "the flow was logged"
    );
    let rotated_refresh = rotated["refresh_token"].as_str().unwrap();
    let admin_access = admin["access_token"].as_str().unwrap();
    for (what, secret) in [
        ("JWT secret", SECRET),
        ("admin password", ADMIN_PASSWORD),
        ("database password", DB_PASSWORD),
        ("first password", FIRST),
        ("second password", SECOND),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("rotated refresh token", rotated_refresh),
        ("admin access token", admin_access),
    ] {
        assert!(!log.contains(secret), "the {what} is in the log");
    }
}
