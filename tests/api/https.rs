//! HTTPS on the listener (`TLS_CERT`/`TLS_KEY`, as `spin up --tls-cert`),
//! with a certificate from the test's own CA: HTTP/1.1 and HTTP/2 by
//! ALPN with the security headers, HSTS over HTTPS only, a certificate
//! replaced on disk served to the next connection without a restart, and
//! plain HTTP to the HTTPS port refused in words.

use std::time::{Duration, Instant};

use mhmanus_tests::{ServerCert, TestCa, fatal_error, spawn_app, start_failure, workspace_root};

fn tls_env(cert: &ServerCert) -> [(&'static str, String); 2] {
    [
        ("TLS_CERT", cert.cert.to_str().unwrap().to_owned()),
        ("TLS_KEY", cert.key.to_str().unwrap().to_owned()),
    ]
}

#[tokio::test]
async fn serves_http1_and_http2_with_the_security_headers() {
    let ca = TestCa::new();
    let cert = ca.issue("server", &["localhost", "127.0.0.1"]);
    let env = tls_env(&cert);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let host = spawn_app(&env);
    assert!(host.base_url.starts_with("https://"), "{}", host.base_url);
    for (client, version) in [
        (ca.client().http1_only(), reqwest::Version::HTTP_11),
        (ca.client(), reqwest::Version::HTTP_2),
    ] {
        let client = client.build().unwrap();
        let answer = client.get(host.url("/health")).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.version(), version);
        let headers = answer.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["strict-transport-security"], "max-age=31536000; includeSubDomains",
            "HSTS over HTTPS"
        );
        assert!(headers.contains_key("x-request-id"));
        // The components answer through it too.
        let registered = client
            .post(host.url("/v1/auth/register"))
            .json(&serde_json::json!({"email": "not an email", "password": "x", "name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 422);
    }
}

#[tokio::test]
async fn plain_http_gets_no_hsts_and_the_https_port_refuses_it_in_words() {
    let plain = spawn_app(&[]);
    let answer = reqwest::get(plain.url("/health")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(!answer.headers().contains_key("strict-transport-security"));

    let ca = TestCa::new();
    let cert = ca.issue("server", &["127.0.0.1"]);
    let env = tls_env(&cert);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let host = spawn_app(&env);
    let refused = reqwest::get(host.url("/health").replace("https://", "http://"))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        problem["detail"],
        "this port speaks HTTPS: use an https:// URL"
    );
    // And the port still serves HTTPS afterwards.
    let client = ca.client().build().unwrap();
    assert_eq!(
        client
            .get(host.url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_certificate_replaced_on_disk_is_served_without_a_restart() {
    let first = TestCa::new();
    let cert = first.issue("server", &["127.0.0.1"]);
    let env = tls_env(&cert);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let host = spawn_app(&env);
    let old = first.client().build().unwrap();
    assert_eq!(
        old.get(host.url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A new CA's certificate written over the same files, as cert-manager does.
    let second = TestCa::new();
    let renewed = second.issue("renewed", &["127.0.0.1"]);
    std::fs::copy(&renewed.key, &cert.key).unwrap();
    std::fs::copy(&renewed.cert, &cert.cert).unwrap();
    let started = Instant::now();
    loop {
        // A new client each time: a new connection, a new handshake.
        let new = second.client().build().unwrap();
        if let Ok(answer) = new.get(host.url("/health/live")).send().await {
            assert_eq!(answer.status(), 200);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the renewed certificate was not served within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = host.log().join("\n");
    assert!(log.contains("TLS certificate reloaded"), "{log}");
}

#[test]
fn a_certificate_that_does_not_load_stops_start_up_in_one_line() {
    let ca = TestCa::new();
    let cert = ca.issue("server", &["127.0.0.1"]);
    let other = ca.issue("other", &["127.0.0.1"]);
    let data = tempfile::tempdir().unwrap();
    let data = data.path().to_str().unwrap();
    for (env, says) in [
        (
            vec![
                ("TLS_CERT", cert.cert.to_str().unwrap()),
                ("TLS_KEY", other.key.to_str().unwrap()),
            ],
            "does not go with TLS_CERT",
        ),
        (
            vec![("TLS_CERT", cert.cert.to_str().unwrap())],
            "HTTPS needs both",
        ),
        (
            vec![
                ("TLS_CERT", "/nowhere/cert.pem"),
                ("TLS_KEY", cert.key.to_str().unwrap()),
            ],
            "TLS_CERT /nowhere/cert.pem",
        ),
    ] {
        let mut env = env;
        env.push(("DATA_DIR", data));
        let error = fatal_error(&start_failure(&workspace_root(), &env));
        assert!(error.contains(says), "{error}");
    }
}
