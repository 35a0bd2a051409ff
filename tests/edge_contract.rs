//! The edge contract, black-box: what a client sees around the components
//! (security headers, CORS, rate limits, problem answers, compression),
//! whichever runtime serves them. By default each test spawns the native
//! host; with `EDGE_BASE_URL` set, the tests ask that server instead:
//! `scripts/spin-check` points it at `spin up` on the same spin.toml, the
//! edge middleware in front of every component. Either way the server is
//! configured as `spawn` configures the host (`cors_origins` = ALLOWED,
//! `trusted_proxies` = TRUSTED).

use std::io::Read;

use mhmanus_tests::{SpawnedHost, spawn_app};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

const ALLOWED: &str = "https://app.example.com";
/// The tests' own address, trusted as a proxy in front of the server.
const TRUSTED: &str = "127.0.0.1";

/// The server under test: a host of its own, or `EDGE_BASE_URL`.
struct Server {
    base: String,
    _host: Option<SpawnedHost>,
}

fn server() -> Server {
    match std::env::var("EDGE_BASE_URL") {
        Ok(base) => Server { base, _host: None },
        Err(_) => {
            let host = spawn_app(&[("CORS_ORIGINS", ALLOWED), ("TRUSTED_PROXIES", TRUSTED)]);
            Server {
                base: host.base_url.clone(),
                _host: Some(host),
            }
        }
    }
}

impl Server {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send(reqwest::Method::GET, path, headers, None).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        json: Option<Value>,
    ) -> Response {
        let mut request = Client::new().request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(json) = json {
            request = request.json(&json);
        }
        request.send().await.expect("the server answers")
    }
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[track_caller]
fn assert_security_headers(response: &Response) {
    for (name, value) in [
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("origin-agent-cluster", "?1"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-dns-prefetch-control", "off"),
        ("x-download-options", "noopen"),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-permitted-cross-domain-policies", "none"),
        ("x-xss-protection", "0"),
    ] {
        assert_eq!(
            header(response, name),
            Some(value),
            "{name} on {} {}",
            response.status(),
            response.url()
        );
    }
    assert!(
        header(response, "content-security-policy")
            .is_some_and(|csp| csp.contains("default-src 'self'"))
    );
    assert_eq!(header(response, "x-powered-by"), None);
    // Over plain HTTP, as these tests ask (RFC 6797 §7.2).
    assert_eq!(header(response, "strict-transport-security"), None);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = server();
    for (path, status) in [
        ("/health", StatusCode::OK),
        ("/v1/auth/profile", StatusCode::UNAUTHORIZED),
        ("/no/such/route", StatusCode::NOT_FOUND),
    ] {
        let response = server.get(path, &[]).await;
        assert_eq!(response.status(), status, "{path}");
        assert_security_headers(&response);
    }
}

#[tokio::test]
async fn unknown_routes_and_versions_are_problems() {
    let server = server();
    let missing = server.get("/no/such/route", &[]).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        header(&missing, "content-type"),
        Some("application/problem+json")
    );
    let problem: Value = missing.json().await.unwrap();
    assert_eq!(problem["instance"], "/no/such/route", "{problem}");

    let unversioned = server.get("/v9/auth/login", &[]).await;
    assert_eq!(unversioned.status(), 404);
    assert_eq!(
        header(&unversioned, "content-type"),
        Some("application/problem+json")
    );
    let problem: Value = unversioned.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("supported: v1"),
        "{problem}"
    );
    assert_eq!(problem["supportedVersions"], serde_json::json!(["v1"]));
}

#[tokio::test]
async fn cors_answers_allowed_origins_only() {
    let server = server();
    let allowed = server.get("/health", &[("origin", ALLOWED)]).await;
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some(ALLOWED)
    );
    assert_eq!(
        header(&allowed, "access-control-allow-credentials"),
        Some("true")
    );
    let other = server
        .get("/health", &[("origin", "https://evil.example")])
        .await;
    assert_eq!(other.status(), 200);
    assert_eq!(header(&other, "access-control-allow-origin"), None);

    let preflight = server
        .send(
            reqwest::Method::OPTIONS,
            "/v1/auth/login",
            &[
                ("origin", ALLOWED),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        header(&preflight, "access-control-allow-origin"),
        Some(ALLOWED)
    );
    let methods = header(&preflight, "access-control-allow-methods")
        .unwrap()
        .to_ascii_uppercase();
    assert!(methods.contains("POST"), "{methods}");
    assert_eq!(header(&preflight, "access-control-max-age"), Some("600"));
    assert_security_headers(&preflight);
}

/// The original system's check: ten requests pass, the eleventh is refused.
#[tokio::test]
async fn ten_requests_then_429_on_the_rate_limit_route() {
    let server = server();
    for remaining in (0..10).rev() {
        let response = server.get("/production-test/rate-limit", &[]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "x-ratelimit-remaining"),
            Some(remaining.to_string().as_str())
        );
        assert_eq!(
            header(&response, "ratelimit-policy"),
            Some("\"default\";q=10;w=60")
        );
    }
    let refused = server.get("/production-test/rate-limit", &[]).await;
    assert_eq!(refused.status(), 429);
    assert!(header(&refused, "retry-after").is_some());
    assert_eq!(
        header(&refused, "content-type"),
        Some("application/problem+json")
    );
    assert_security_headers(&refused);
}

/// Login and register have their own quota (5 per minute), per address,
/// on the versioned and unversioned paths together.
#[tokio::test]
async fn login_and_register_are_limited_per_address() {
    let server = server();
    for path in ["/auth/login", "/auth/register"] {
        let versioned = format!("/v1{path}");
        for attempt in 0..6 {
            // Alternating: both spellings of the route share one quota.
            let path = if attempt % 2 == 0 { path } else { &versioned };
            let email = format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple());
            let body = serde_json::json!({"email": email, "password": "x"});
            let response = server
                .send(reqwest::Method::POST, path, &[], Some(body))
                .await;
            if attempt < 5 {
                assert_ne!(response.status(), 429, "{path} attempt {attempt}");
            } else {
                assert_eq!(response.status(), 429, "{path} attempt {attempt}");
                assert_eq!(
                    header(&response, "ratelimit-policy"),
                    Some("\"route\";q=5;w=60")
                );
            }
        }
    }
}

#[tokio::test]
async fn the_compression_route_is_gzipped_for_clients_that_take_it() {
    let server = server();
    let compressed = server
        .get(
            "/production-test/compression",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(compressed.status(), 200);
    assert_eq!(header(&compressed, "content-encoding"), Some("gzip"));
    let bytes = compressed.bytes().await.unwrap();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut json)
        .expect("a gzip body");
    assert!(
        json.len() > bytes.len(),
        "{} -> {}",
        bytes.len(),
        json.len()
    );
    serde_json::from_str::<Value>(&json).expect("JSON inside");

    let plain = server.get("/production-test/compression", &[]).await;
    assert_eq!(header(&plain, "content-encoding"), None);
}

/// `trusted_proxies` (TRUSTED_PROXIES) names the tests' own address, as
/// `server` configures both runtimes: behind that proxy, each client its
/// `X-Forwarded-For` names has a limit of its own; a peer that is not a
/// trusted proxy cannot choose its address by writing the header.
#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_limited_apart() {
    let server = server();
    let codes = |responses: Vec<Response>| {
        responses
            .iter()
            .map(|r| r.status().as_u16())
            .collect::<Vec<_>>()
    };
    let mut expected = vec![200; 10];
    expected.push(429);
    for _ in 0..2 {
        // Addresses of their own, so reruns against one server start afresh.
        // Each in a /64 of its own: the limiter counts IPv6 clients by /64.
        let client = format!("2001:db8:{:x}::1", rand_u16());
        let mut responses = Vec::new();
        for _ in 0..11 {
            let forwarded = [("x-forwarded-for", client.as_str())];
            responses.push(server.get("/production-test/rate-limit", &forwarded).await);
        }
        assert_eq!(
            codes(responses),
            expected,
            "client {client} behind the proxy"
        );
    }
    // From a loopback address of its own, not trusted: a new forwarded
    // address each time changes nothing.
    let [a, b] = rand_u16().to_be_bytes();
    let untrusted = Client::builder()
        .local_address(std::net::IpAddr::from([127, 3, a, b]))
        .build()
        .unwrap();
    let mut responses = Vec::new();
    for _ in 0..11 {
        let spoofed = format!("2001:db8:{:x}::1", rand_u16());
        responses.push(
            untrusted
                .get(format!("{}/production-test/rate-limit", server.base))
                .header("x-forwarded-for", spoofed)
                .send()
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        codes(responses),
        expected,
        "a spoofed header from an untrusted peer"
    );
}

fn rand_u16() -> u16 {
    let bytes = uuid::Uuid::new_v4();
    u16::from_be_bytes([bytes.as_bytes()[0], bytes.as_bytes()[1]])
}

/// Every answer has a request id: a sensible one the client sent comes
/// back, anything else is replaced.
#[tokio::test]
async fn every_answer_has_a_request_id() {
    let server = server();
    for path in ["/health", "/v1/nowhere", "/v1/auth/profile"] {
        let fresh = server.get(path, &[]).await;
        let id = header(&fresh, "x-request-id").expect("an id").to_owned();
        assert_eq!(id.len(), 36, "a UUID on {path}: {id}");
        let kept = server.get(path, &[("x-request-id", "contract-42")]).await;
        assert_eq!(header(&kept, "x-request-id"), Some("contract-42"));
        let replaced = server.get(path, &[("x-request-id", "not sensible")]).await;
        let id = header(&replaced, "x-request-id").expect("an id");
        assert_ne!(id, "not sensible");
    }
}

/// An answer whose type could be gzipped says it varies by
/// `Accept-Encoding`, even when small or asked for without gzip.
#[tokio::test]
async fn answers_that_could_be_gzipped_vary_by_accept_encoding() {
    let server = server();
    for (path, headers) in [
        ("/health", &[][..]),
        ("/health", &[("accept-encoding", "gzip")][..]),
        ("/production-test/compression", &[][..]),
    ] {
        let response = server.get(path, headers).await;
        let vary: Vec<String> = response
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect();
        assert!(
            vary.iter().any(|v| v.contains("accept-encoding")),
            "{path} {headers:?}: vary {vary:?}"
        );
    }
}
