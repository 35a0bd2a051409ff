//! Each Spin interface the host implements, driven through its WIT by the
//! `spin-probe` test component: values round-trip, errors arrive as the WIT
//! error variants, and whatever spin.toml does not list is refused.

use mhmanus_tests::{InProcessHost, POSTGRES_URL, REDIS_URL, TestComponent, TestManifest};

/// The probe guest, granted one of each Spin resource.
fn probe_app() -> TestManifest {
    TestManifest::new("probe")
        .variable("greeting", "hello")
        .secret("secret_token")
        .component(
            TestComponent::new("/probe/...", "probe", "spin-probe")
                .list("sqlite_databases", &["default"])
                .list("key_value_stores", &["default"])
                .list(
                    "allowed_outbound_hosts",
                    &[
                        "postgres://127.0.0.1:5432",
                        "redis://127.0.0.1:6379",
                        "http://127.0.0.1:*",
                    ],
                )
                .variable("greeting", "{{ greeting }}, world")
                .variable("token", "{{ secret_token }}"),
        )
}

async fn probe() -> InProcessHost {
    InProcessHost::start(&probe_app(), |config| {
        config
            .variables
            .push(("secret_token".into(), "from-the-command-line".into()));
    })
    .await
    .unwrap()
}

fn query(arg: &str) -> String {
    arg.replace('%', "%25")
        .replace(' ', "%20")
        .replace('&', "%26")
        .replace('?', "%3F")
}

#[tokio::test]
async fn variables_resolve_templates_env_and_errors() {
    let app = probe().await;
    assert_eq!(
        app.get("/probe/variable?arg=greeting").await.json()["ok"],
        "hello, world"
    );
    assert_eq!(
        app.get("/probe/variable?arg=token").await.json()["ok"],
        "from-the-command-line"
    );
    let undefined = app.get("/probe/variable?arg=nope").await.json();
    assert!(
        undefined["error"]
            .as_str()
            .unwrap()
            .starts_with("Error::Undefined"),
        "{undefined}"
    );
    let invalid = app.get("/probe/variable?arg=Bad-Name").await.json();
    assert!(
        invalid["error"]
            .as_str()
            .unwrap()
            .starts_with("Error::InvalidName"),
        "{invalid}"
    );
}

#[tokio::test]
async fn sqlite_round_trips_rows_params_and_counters() {
    let app = probe().await;
    let result = app.get("/probe/sqlite?arg=default").await.json();
    assert_eq!(
        result["steps"],
        serde_json::json!([true, true, true]),
        "{result}"
    );
    assert_eq!(result["changes"], 2);
    assert_eq!(result["last_insert_rowid"], 2);
    assert_eq!(
        result["columns"],
        serde_json::json!(["name", "score", "data"])
    );
    assert_eq!(
        result["rows"],
        serde_json::json!([
            [
                "Value::Text(\"one\")",
                "Value::Real(1.5)",
                "Value::Blob([1, 2])"
            ],
            ["Value::Text(\"two\")", "Value::Null", "Value::Null"]
        ])
    );
    assert_eq!(result["finished"], true);
}

#[tokio::test]
async fn sqlite_errors_map_to_wit_variants() {
    let app = probe().await;
    let denied = app.get("/probe/sqlite?arg=other").await.json();
    assert_eq!(
        denied["error"], "Error::AccessDenied",
        "a database not in sqlite_databases"
    );
    let bad = app
        .get(&format!(
            "/probe/sqlite-exec?arg={}",
            query("SELECT * FROM nowhere")
        ))
        .await
        .json();
    let message = bad["error"].as_str().unwrap();
    assert!(
        message.starts_with("Error::Io(") && message.contains("no such table"),
        "{message}"
    );
}

/// Closed connections are kept for the next open, but never one a guest
/// left inside a transaction: that one is rolled back and closed.
#[tokio::test]
async fn an_abandoned_transaction_is_rolled_back_not_handed_on() {
    let app = probe().await;
    let exec = |script: &str| format!("/probe/sqlite-exec?arg={}", query(script));
    let abandoned = app
        .get(&exec("BEGIN IMMEDIATE; CREATE TABLE abandoned (x INTEGER)"))
        .await
        .json();
    assert_eq!(abandoned["ok"], true, "{abandoned}");
    for _ in 0..3 {
        let after = app
            .get(&exec("SELECT count(*) FROM abandoned"))
            .await
            .json();
        let error = after["error"].as_str().unwrap_or_default();
        assert!(error.contains("no such table"), "{after}");
    }
    // The write lock went with it: a write goes through at once.
    let started = std::time::Instant::now();
    let write = app
        .get(&exec("CREATE TABLE after (x INTEGER)"))
        .await
        .json();
    assert_eq!(write["ok"], true, "{write}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn key_value_round_trips_and_refuses_unlisted_stores() {
    let app = probe().await;
    let result = app.get("/probe/kv?arg=default").await.json();
    assert_eq!(result["set"], true, "{result}");
    assert_eq!(result["got"], "alpha");
    assert_eq!(result["missing"], true);
    assert_eq!(result["exists"], true);
    assert_eq!(result["keys"], serde_json::json!(["probe-a", "probe-b"]));
    assert_eq!(result["deleted"], true);
    assert_eq!(
        app.get("/probe/kv?arg=elsewhere").await.json()["error"],
        "Error::AccessDenied"
    );
}

#[tokio::test]
async fn key_value_on_redis_when_redis_url_is_set() {
    let app = InProcessHost::start(&probe_app(), |config| {
        config.variables.push(("secret_token".into(), "t".into()));
        config.redis_url = Some(REDIS_URL.into());
    })
    .await
    .unwrap();
    let result = app.get("/probe/kv?arg=default").await.json();
    assert_eq!(result["got"], "alpha", "{result}");
    assert_eq!(result["keys"], serde_json::json!(["probe-a", "probe-b"]));
    assert_eq!(result["deleted"], true);
}

#[tokio::test]
async fn postgres_round_trips_values_and_reports_query_errors() {
    let app = probe().await;
    let result = app
        .get(&format!("/probe/pg?arg={}", query(POSTGRES_URL)))
        .await
        .json();
    let rows = &result["rows"];
    assert_eq!(
        rows["columns"],
        serde_json::json!(["n", "t", "b", "f", "nothing"]),
        "{result}"
    );
    assert_eq!(
        (rows["n"].clone(), rows["t"].clone()),
        (serde_json::json!(41), serde_json::json!("hé"))
    );
    assert_eq!(
        (rows["b"].clone(), rows["f"].clone()),
        (serde_json::json!(true), serde_json::json!(2.5))
    );
    assert!(rows["nothing"].is_null());
    let bad = result["bad_query"].as_str().unwrap();
    assert!(bad.contains("no_such_table_probe"), "{bad}");
}

#[tokio::test]
async fn postgres_refuses_hosts_not_in_allowed_outbound_hosts() {
    let app = probe().await;
    let url = "postgres://postgres@127.0.0.1:5433/postgres";
    let result = app
        .get(&format!("/probe/pg?arg={}", query(url)))
        .await
        .json();
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("allowed_outbound_hosts"), "{error}");
}

#[tokio::test]
async fn redis_round_trips_and_maps_type_errors() {
    let app = probe().await;
    let result = app
        .get(&format!("/probe/redis?arg={}", query(REDIS_URL)))
        .await
        .json();
    assert_eq!(result["set"], true, "{result}");
    assert_eq!(result["got"], "v");
    assert_eq!(result["incr"], serde_json::json!([1, 2]));
    assert_eq!(result["type_error"], "Some(Error::TypeError)");
    assert!(
        result["ping"].as_str().unwrap().contains("PONG"),
        "{result}"
    );
    assert_eq!(result["deleted"], 2);
    let denied = app
        .get(&format!(
            "/probe/redis?arg={}",
            query("redis://127.0.0.1:6380")
        ))
        .await
        .json();
    assert!(
        denied["error"]
            .as_str()
            .unwrap()
            .contains("allowed_outbound_hosts"),
        "{denied}"
    );
}

#[tokio::test]
async fn guests_get_spin_headers_and_cannot_be_handed_forged_ones() {
    let app = probe().await;
    let request = http::Request::get("/probe/headers?x=1")
        .header("host", "edge.test")
        .header("spin-client-addr", "6.6.6.6:6666")
        .body(mhmanus_host::full_body(""))
        .unwrap();
    let headers = app.send(request).await.json();
    assert_eq!(headers["spin-client-addr"], "127.0.0.1:40000");
    assert_eq!(
        headers["spin-full-url"],
        "http://edge.test/probe/headers?x=1"
    );
    assert_eq!(headers["spin-path-info"], "/headers");
    assert_eq!(headers["spin-matched-route"], "/probe/...");
    assert_eq!(headers["spin-component-route"], "/probe");
}

#[tokio::test]
async fn outbound_http_reaches_only_allowed_hosts() {
    // A one-shot HTTP server on loopback for the guest to call.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 1024];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    let app = probe().await;
    let allowed = app
        .get(&format!("/probe/http?arg=http://127.0.0.1:{port}/"))
        .await
        .json();
    assert_eq!(allowed["status"], 204, "{allowed}");
    let denied = app
        .get(&format!("/probe/http?arg=http://localhost:{port}/"))
        .await
        .json();
    assert!(
        denied["error"]
            .as_str()
            .unwrap()
            .contains("HttpRequestDenied"),
        "{denied}"
    );
}
