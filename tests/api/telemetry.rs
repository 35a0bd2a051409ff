//! What operators see: JSON log lines that carry each request's id, and
//! each request's span in their trace collector.

use std::path::Path;
use std::time::Duration;

use mhmanus_tests::{
    OtlpReceiver, POSTGRES_ADDRESS, SpawnedHost, TestManifest, spawn_app, start_failure,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

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
    // Who asked, as the limiter sees it, and the manifest's route.
    assert_eq!(json["span"]["client"], "127.0.0.1", "{json}");
    assert_eq!(json["span"]["http.route"], "/v1/auth/...", "{json}");
    assert_eq!(json["fields"]["status"], 401, "{json}");
    // Numbers a log pipeline can sum and compare, and the span's fields once.
    assert!(
        json["fields"]["latency_ms"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0),
        "{json}"
    );
    assert!(json.get("spans").is_none(), "{json}");
}

/// What a component writes to stderr is a record of the host's JSON log,
/// with the component's id, never raw text in it. (An instance serves many
/// requests, some at once: a line is the component's, not a request's.)
#[tokio::test]
async fn a_components_output_is_a_json_record_of_its_own() {
    let host = spawn_app(&[("RATE_LIMIT_ROUTES", "/v1/auth/...=off")]);
    let client = reqwest::Client::new();
    let email = format!("output-{}@example.com", uuid::Uuid::new_v4().simple());
    let account = serde_json::json!({"email": email, "password": "Ou7$ a passphrase", "name": "O"});
    let post = |path: &str, body: serde_json::Value| client.post(host.url(path)).json(&body).send();
    assert_eq!(
        post("/v1/auth/register", account.clone())
            .await
            .unwrap()
            .status(),
        201
    );
    let credentials = serde_json::json!({"email": email, "password": "Ou7$ a passphrase"});
    let login: serde_json::Value = post("/v1/auth/login", credentials)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = serde_json::json!({"refresh_token": login["refresh_token"]});
    assert_eq!(
        post("/v1/auth/refresh", refresh.clone())
            .await
            .unwrap()
            .status(),
        200
    );
    // The rotated token again: the auth component says so on stderr.
    let reuse = post("/v1/auth/refresh", refresh).await.unwrap();
    assert_eq!(reuse.status(), 401);

    let said = "auth: a rotated refresh token was reused; revoking its family";
    let mut record = None;
    for _ in 0..50 {
        record = host
            .log()
            .iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|json| json["fields"]["message"] == said);
        if record.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let record = record.expect("the component's line as a JSON record");
    assert_eq!(record["target"], "component_output", "{record}");
    assert_eq!(record["level"], "WARN", "{record}");
    assert_eq!(record["fields"]["component"], "auth", "{record}");
    assert_eq!(record["fields"]["stream"], "stderr", "{record}");
    let raw: Vec<String> = host
        .log()
        .into_iter()
        .filter(|line| serde_json::from_str::<serde_json::Value>(line).is_err())
        .collect();
    assert!(raw.is_empty(), "every line is JSON: {raw:?}");
}

/// With an OTLP endpoint the log records go there too, beside stderr: the
/// access line, its numbers as numbers, under the service's name.
#[tokio::test]
async fn log_records_are_exported_over_otlp_beside_stderr() {
    let collector = OtlpReceiver::start().await;
    let host = spawn_app(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
        ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
    ]);
    let reply = reqwest::get(host.url("/v1/auth/profile")).await.unwrap();
    assert_eq!(reply.status(), 401);
    let record = collector
        .wait_for_log(|log| {
            log.body() == Some("finished processing request")
                && matches!(log.attribute("status"), Some(Value::IntValue(401)))
        })
        .await;
    assert_eq!(record.service.as_deref(), Some("mhmanus-host"));
    assert!(
        matches!(record.attribute("latency_ms"), Some(Value::DoubleValue(ms)) if *ms > 0.0),
        "{record:?}"
    );
    assert!(
        host.log()
            .iter()
            .any(|line| line.contains("finished processing request")),
        "stderr keeps its lines"
    );
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
    assert!(text.contains("\nlog_lines_dropped_total 0\n"), "{text}");
}

/// Request counts by route say who uses what (Admin routes included): in
/// production they are the operator's, on METRICS_LISTEN, unless asked for.
#[tokio::test]
async fn production_keeps_metrics_off_the_public_address() {
    const SECRET: (&str, &str) = ("JWT_SECRET", "a-production-secret-with-at-least-32-bytes");
    let client = reqwest::Client::new();
    let host = spawn_app(&[("APP_ENV", "production"), SECRET]);
    let public = client.get(host.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    let said = host.log().join("\n");
    assert!(
        said.contains("metrics are not served") && said.contains("METRICS_LISTEN"),
        "the log says where metrics went: {said}"
    );
    let host = spawn_app(&[
        ("APP_ENV", "production"),
        SECRET,
        ("PUBLIC_METRICS", "true"),
    ]);
    let public = client.get(host.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 200, "PUBLIC_METRICS=true serves them");
    let host = spawn_app(&[("PUBLIC_METRICS", "false")]);
    let public = client.get(host.url("/metrics")).send().await.unwrap();
    assert_eq!(
        public.status(),
        404,
        "PUBLIC_METRICS=false outside production too"
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

/// With an OTLP endpoint, each request's span reaches the collector (the
/// real protobuf, decoded) with its route, component, admission wait and
/// the component's time; a trusted caller's `traceparent` is continued and
/// anyone else's is not, and the component is handed the span's own context.
#[tokio::test]
async fn request_spans_are_exported_over_otlp_continuing_trusted_callers() {
    const SENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SENT_PARENT: &str = "00f067aa0ba902b7";
    let collector = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let host = start_traced(
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    );
    // What the component saw as its `traceparent`: version, trace, span, flags.
    let seen_by_guest = |client: reqwest::Client, sent: String| {
        let url = host.url("/probe/header?arg=traceparent");
        async move {
            let reply = client
                .get(url)
                .header("traceparent", sent)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200);
            let json: serde_json::Value = reply.json().await.unwrap();
            let values = json["values"].as_array().expect("the header's values");
            assert_eq!(values.len(), 1, "{json}");
            let parts: Vec<String> = values[0]
                .as_str()
                .unwrap()
                .split('-')
                .map(str::to_owned)
                .collect();
            assert_eq!(parts.len(), 4, "{json}");
            parts
        }
    };

    let trusted = reqwest::Client::new();
    let parts = seen_by_guest(trusted, format!("00-{SENT_TRACE}-{SENT_PARENT}-01")).await;
    assert_eq!(parts[1], SENT_TRACE, "the caller's trace goes on");
    assert_ne!(
        parts[2], SENT_PARENT,
        "the guest's parent is the host's span"
    );
    let span = collector
        .wait_for(|s| hex(&s.span.trace_id) == SENT_TRACE)
        .await;
    assert_eq!(hex(&span.span.parent_span_id), SENT_PARENT);
    assert_eq!(hex(&span.span.span_id), parts[2]);
    assert_eq!(span.span.kind, SpanKind::Server as i32);
    assert_eq!(span.span.name, "GET /probe/...", "{span:#?}");
    assert_eq!(span.service.as_deref(), Some("mhmanus-host"));
    assert_eq!(
        span.attribute("http.route"),
        Some(&Value::StringValue("/probe/...".into()))
    );
    assert_eq!(
        span.attribute("component"),
        Some(&Value::StringValue("probe".into()))
    );
    assert_eq!(
        span.attribute("http.response.status_code"),
        Some(&Value::IntValue(200))
    );
    let micros = |key| match span.attribute(key) {
        Some(Value::IntValue(us)) => *us,
        other => panic!("{key}: {other:?} in {span:#?}"),
    };
    assert!(micros("admission_wait_us") >= 0);
    assert!(micros("guest_us") > 0, "the component took some time");
    assert!(
        span.span.end_time_unix_nano > span.span.start_time_unix_nano,
        "{span:#?}"
    );

    // From another address, not a trusted proxy: a trace of the host's own.
    let untrusted = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let forged = "11111111111111111111111111111111";
    let parts = seen_by_guest(untrusted, format!("00-{forged}-{SENT_PARENT}-01")).await;
    assert_ne!(parts[1], forged, "an untrusted caller picks no trace id");
    let own = collector
        .wait_for(|s| hex(&s.span.trace_id) == parts[1])
        .await;
    assert!(own.span.parent_span_id.is_empty(), "{own:#?}");
    assert_eq!(hex(&own.span.span_id), parts[2]);
}

/// Spans not yet sent when SIGTERM comes are sent before the process exits.
#[tokio::test]
async fn spans_still_buffered_are_sent_on_shutdown() {
    let collector = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut host = start_traced(
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
            // Longer than the test: only the shutdown can send it.
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    );
    let reply = reqwest::get(host.url("/probe/headers")).await.unwrap();
    assert_eq!(reply.status(), 200);
    host.terminate();
    let status = host.wait(Duration::from_secs(20)).expect("the host exits");
    assert!(status.success(), "{status:?}");
    collector
        .wait_for(|s| s.attribute("path") == Some(&Value::StringValue("/probe/headers".into())))
        .await;
}

/// gRPC is not built in: a host told to use it says so instead of
/// serving without the traces the operator asked for.
#[test]
fn an_unsupported_otlp_protocol_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    write_probe_manifest(dir.path());
    let stderr = start_failure(
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    );
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc") && stderr.contains("http/protobuf"),
        "{stderr}"
    );
}

fn write_probe_manifest(dir: &Path) {
    let manifest = TestManifest::new("traces").route("/probe/...", "probe", "spin-probe");
    std::fs::write(dir.join("spin.toml"), manifest.to_string()).unwrap();
}

/// The probe component alone, served with `env`.
fn start_traced(dir: &Path, env: &[(&str, &str)]) -> SpawnedHost {
    write_probe_manifest(dir);
    let data = dir.join("data");
    let mut all = vec![("DATA_DIR", data.to_str().unwrap())];
    all.extend_from_slice(env);
    SpawnedHost::start(dir, &all).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
