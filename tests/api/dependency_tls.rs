//! PostgreSQL and Redis over TLS, against servers the test starts with a
//! certificate from its own CA: each `sslmode` as libpq means it, the
//! host's own sessions encrypted as the server sees them, a certificate
//! that does not match refused at start-up in one line, and `rediss://`
//! for the components' Redis, their key-value store and the rate limiter.

use mhmanus_tests::{
    OwnPostgres, OwnRedis, TestCa, fatal_error, spawn_app, start_failure, workspace_root,
};

async fn admin(server: &OwnPostgres) -> tokio_postgres::Client {
    let url = server.url("127.0.0.1", "?sslmode=disable");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// The server's clock, to tell the sessions begun since from older ones.
async fn server_now(server: &OwnPostgres) -> std::time::SystemTime {
    let row = admin(server).await.query_one("SELECT now()", &[]).await;
    row.unwrap().get(0)
}

/// The host's sessions on `server` begun since `since`: how many, and
/// whether all are encrypted.
async fn host_sessions(server: &OwnPostgres, since: std::time::SystemTime) -> (i64, bool) {
    let row = admin(server)
        .await
        .query_one(
            "SELECT count(*), coalesce(bool_and(s.ssl), false) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'mhmanus-host' AND a.backend_start >= $1",
            &[&since],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Why a host refused to start, said once.
fn refusal(env: &[(&str, &str)]) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut all = vec![("DATA_DIR", data.path().to_str().unwrap())];
    all.extend_from_slice(env);
    fatal_error(&start_failure(&workspace_root(), &all))
}

#[tokio::test]
async fn every_sslmode_means_what_it_means_in_libpq() {
    let ca = TestCa::new();
    // Named for localhost only: 127.0.0.1 is a name the certificate lacks.
    let cert = ca.issue("postgres", &["localhost"]);
    let server = OwnPostgres::start(Some(&cert));
    let root = format!("&sslrootcert={}", ca.cert.display());
    for (host, query, encrypted) in [
        ("127.0.0.1", "?sslmode=disable".to_owned(), false),
        ("127.0.0.1", String::new(), true), // prefer, the default
        ("127.0.0.1", "?sslmode=require".to_owned(), true),
        ("127.0.0.1", format!("?sslmode=verify-ca{root}"), true),
        ("localhost", format!("?sslmode=verify-full{root}"), true),
    ] {
        let url = server.url(host, &query);
        let since = server_now(&server).await;
        let app = spawn_app(&[("DATABASE_URL", &url)]);
        // Accounts are written and read through the host's pool.
        app.sign_up().await;
        let (sessions, all_encrypted) = host_sessions(&server, since).await;
        assert!(sessions > 0, "{url}: the host holds sessions");
        assert_eq!(all_encrypted, encrypted, "{url}");
        drop(app);
    }
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_stops_start_up_in_one_line() {
    let ca = TestCa::new();
    let cert = ca.issue("postgres", &["localhost"]);
    let server = OwnPostgres::start(Some(&cert));
    let root = format!("&sslrootcert={}", ca.cert.display());
    // The name in the address is not the certificate's.
    let url = server.url("127.0.0.1", &format!("?sslmode=verify-full{root}"));
    let line = refusal(&[("DATABASE_URL", &url)]);
    assert!(line.contains("DATABASE_URL"), "{line}");
    assert!(
        line.contains(&format!("127.0.0.1:{}", server.port)),
        "{line}"
    );
    assert!(line.contains("not valid for name"), "{line}");
    // A CA that did not sign it.
    let other = TestCa::new();
    let url = server.url(
        "localhost",
        &format!("?sslmode=verify-full&sslrootcert={}", other.cert.display()),
    );
    let line = refusal(&[("DATABASE_URL", &url)]);
    assert!(line.contains("UnknownIssuer"), "{line}");
    // verify-ca, and require with a root file, check the chain too.
    for mode in ["verify-ca", "require"] {
        let url = server.url(
            "127.0.0.1",
            &format!("?sslmode={mode}&sslrootcert={}", other.cert.display()),
        );
        let line = refusal(&[("DATABASE_URL", &url)]);
        assert!(line.contains("UnknownIssuer"), "{mode}: {line}");
    }
    // A chain check without a name check needs a CA file, as in libpq.
    let url = server.url("localhost", "?sslmode=verify-ca");
    let line = refusal(&[("DATABASE_URL", &url)]);
    assert!(line.contains("needs sslrootcert=<file>"), "{line}");
}

#[tokio::test]
async fn tls_required_of_a_server_without_it_stops_start_up() {
    let server = OwnPostgres::start(None);
    let line = refusal(&[("DATABASE_URL", &server.url("127.0.0.1", "?sslmode=require"))]);
    assert!(line.contains("server does not support TLS"), "{line}");
    // prefer goes on in clear, as libpq does.
    let since = server_now(&server).await;
    let app = spawn_app(&[("DATABASE_URL", &server.url("127.0.0.1", ""))]);
    app.sign_up().await;
    let (sessions, encrypted) = host_sessions(&server, since).await;
    assert!(sessions > 0 && !encrypted, "prefer without TLS on offer");
}

#[tokio::test]
async fn rediss_serves_the_components_the_key_value_store_and_the_limiter() {
    let ca = TestCa::new();
    let cert = ca.issue("redis", &["localhost"]);
    let redis = OwnRedis::start_tls(&ca, &cert);
    let ca_file = ca.cert.to_str().unwrap();
    let app = spawn_app(&[
        ("REDIS_URL", &redis.url("localhost")),
        ("REDIS_CA_FILE", ca_file),
    ]);
    let client = reqwest::Client::new();
    // spin:redis (the health component's PING) and the limiter's store.
    let health: serde_json::Value = client
        .get(app.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Not the overall status: the disk check may warn on a full machine.
    assert_eq!(health["checks"]["redis:responseTime"][0]["status"], "pass");
    assert_eq!(
        health["checks"]["rate-limiter:backend"][0]["status"],
        "pass"
    );
    // Key-value and a Redis key written and read back, through TLS.
    let token = app.sign_up().await;
    let features: serde_json::Value = client
        .get(app.url("/v1/production-test/all-features"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let status = |name: &str| {
        features["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["feature"] == name)
            .map(|f| f["status"].clone())
    };
    assert_eq!(status("redis"), Some("pass".into()), "{features:#}");
    assert_eq!(status("key-value"), Some("pass".into()), "{features:#}");
    // The limiter counts in that Redis: ten, then refused.
    let mut codes = Vec::new();
    for _ in 0..11 {
        let response = client
            .get(app.url("/v1/production-test/rate-limit"))
            .send()
            .await
            .unwrap();
        codes.push(response.status().as_u16());
    }
    assert_eq!(codes[..10], [200; 10]);
    assert_eq!(codes[10], 429);
}

#[tokio::test]
async fn a_redis_url_that_can_never_work_stops_start_up_in_one_line() {
    let ca = TestCa::new();
    let cert = ca.issue("redis", &["localhost"]);
    let redis = OwnRedis::start_tls(&ca, &cert);
    // The system's roots do not know the test CA.
    let line = refusal(&[("REDIS_URL", &redis.url("localhost"))]);
    assert!(line.starts_with("REDIS_URL rediss://localhost:"), "{line}");
    assert!(line.contains("UnknownIssuer"), "{line}");
    // TLS to a server that speaks none (the plain Redis CI runs).
    let line = refusal(&[("REDIS_URL", "rediss://127.0.0.1:6379")]);
    assert!(
        line.contains("REDIS_URL") && line.contains("plain Redis"),
        "{line}"
    );
    // Not Redis at all.
    let line = refusal(&[("REDIS_URL", "mysql://127.0.0.1:3306")]);
    assert!(line.contains("rediss://host:6379 for TLS"), "{line}");
}
