//! The edge layers through the host's real router: security headers on
//! every answer, CORS from the allow-list, and compression that decodes back
//! to the very bytes the component sent.

mod host_health;
mod metrics;
mod password_work;
mod rate_limit;
mod request_limits;

use std::io::Read;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::Method;
use http_body_util::BodyExt;
use mhmanus_edge_layers as edge;
use mhmanus_edge_layers::EdgeConfig;
use mhmanus_edge_layers::rate_limit::policy::Policy;
use mhmanus_edge_layers::transport;
use mhmanus_host::HostConfig;
use mhmanus_tests::{InProcessHost, Reply, TestManifest};
use tower::ServiceExt;

/// The probe guest alone.
fn probe_app() -> TestManifest {
    TestManifest::new("edge").route("/probe/...", "probe", "spin-probe")
}

const ALLOWED: &str = "https://app.example.com";
const OTHER_ALLOWED: &str = "http://localhost:5173";

/// The security headers every answer carries, with their values.
const SECURITY_HEADERS: [(&str, &str); 12] = [
    (
        "content-security-policy",
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("origin-agent-cluster", "?1"),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
];

/// The settings the tests start from, whatever the environment says.
fn edge_config() -> EdgeConfig {
    let mut config = HostConfig::defaults("spin.toml", ".mhmanus").edge;
    config.cors_origins = vec![ALLOWED.into(), OTHER_ALLOWED.into()];
    config.cors_max_age_secs = 600;
    config.hsts_max_age_secs = 31_536_000;
    config.compression_min_bytes = 1024;
    config.api_versions = vec![1];
    config.api_default_version = 1;
    // Limits are tested on their own (rate_limit.rs); here they stay out of the way.
    config.rate_limit = Policy::Off;
    config.rate_limit_routes = vec![];
    config.trusted_proxies = vec![];
    config
}

/// The host in-process, and its whole router.
struct Edge {
    router: Router,
    host: InProcessHost,
}

/// Where test requests come from unless a test says otherwise.
const PEER: &str = "127.0.0.1:40000";

impl Edge {
    async fn probe(configure: impl FnOnce(&mut EdgeConfig)) -> Edge {
        Self::start(&probe_app(), |_| {}, configure).await
    }

    async fn start(
        manifest: &TestManifest,
        host: impl FnOnce(&mut HostConfig),
        edge: impl FnOnce(&mut EdgeConfig),
    ) -> Edge {
        let host = InProcessHost::start(manifest, with_edge(host, edge))
            .await
            .unwrap();
        Self::over(host)
    }

    /// The repository's spin.toml: the auth component answers problems.
    async fn repo(edge: impl FnOnce(&mut EdgeConfig)) -> Edge {
        Self::repo_with(|_| {}, edge).await
    }

    /// The repository's spin.toml, the host configured by `host` too.
    async fn repo_with(
        host: impl FnOnce(&mut HostConfig),
        edge: impl FnOnce(&mut EdgeConfig),
    ) -> Edge {
        let host = InProcessHost::start_repo(with_edge(
            |config| {
                config.jwt_secret = Some("edge-tests-secret-of-32-bytes-or-more".into());
                host(config);
            },
            edge,
        ))
        .await
        .unwrap();
        Self::over(host)
    }

    fn over(host: InProcessHost) -> Edge {
        Edge {
            router: host.router(),
            host,
        }
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, headers).await
    }

    async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        send(&self.router, method, path, headers).await
    }

    /// A GET from the TCP peer `peer`.
    async fn get_from(&self, peer: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        send_from(&self.router, peer, Method::GET, path, headers).await
    }
}

/// `host`'s settings, then the edge settings the tests start from, changed
/// by `edge`.
fn with_edge(
    host: impl FnOnce(&mut HostConfig),
    edge: impl FnOnce(&mut EdgeConfig),
) -> impl FnOnce(&mut HostConfig) {
    move |config| {
        host(config);
        config.edge = edge_config();
        edge(&mut config.edge);
    }
}

/// The CORS headers of an answer.
fn cors_headers(reply: &Reply) -> Vec<&str> {
    reply
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[track_caller]
fn assert_security_headers(reply: &Reply) {
    for (name, value) in SECURITY_HEADERS {
        let values: Vec<_> = reply.headers.get_all(name).iter().collect();
        assert_eq!(values, [value], "{name} on a {}", reply.status);
    }
    assert!(!reply.headers.contains_key("x-powered-by"));
}

async fn send(router: &Router, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
    send_from(router, PEER, method, path, headers).await
}

/// A request from `peer` over HTTPS (the listener marks each request of a
/// TLS connection), as the edge tests send them.
async fn send_from(
    router: &Router,
    peer: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = request_from(peer, method, path, headers);
    request.extensions_mut().insert(transport::Encrypted);
    Reply::read(router.clone().oneshot(request).await.unwrap()).await
}

/// A GET from `peer` over plain HTTP.
async fn get_plain_from(
    router: &Router,
    peer: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let request = request_from(peer, Method::GET, path, headers);
    Reply::read(router.clone().oneshot(request).await.unwrap()).await
}

fn request_from(
    peer: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> http::Request<Body> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "test.local");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    // What `into_make_service_with_connect_info` gives each request.
    request
        .extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    request
}

// --- security headers ---

#[tokio::test]
async fn security_headers_are_on_component_answers_and_host_answers() {
    let app = Edge::probe(|_| {}).await;

    let ok = app.get("/probe/headers", &[]).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("content-type"), Some("application/json"));
    assert_security_headers(&ok);

    // No route in the manifest: the runtime's 404 problem.
    let missing = app.get("/nowhere", &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    assert_security_headers(&missing);

    // A version the host does not serve: the versioning layer's 404 problem.
    let unversioned = app.get("/v9/probe/headers", &[]).await;
    assert_eq!(unversioned.status, 404);
    assert_security_headers(&unversioned);

    // The host's own route.
    let live = app.get("/health/live", &[]).await;
    assert_eq!(live.status, 200);
    assert_security_headers(&live);
}

#[tokio::test]
async fn security_headers_are_on_a_components_problem() {
    let app = Edge::repo(|_| {}).await;
    let unauthorized = app.get("/v1/auth/profile", &[]).await;
    assert_eq!(unauthorized.status, 401);
    assert_eq!(
        unauthorized.header("content-type"),
        Some("application/problem+json")
    );
    assert!(unauthorized.header("www-authenticate").is_some());
    assert_security_headers(&unauthorized);
}

/// HSTS only to a client that came over HTTPS: the listener's own TLS, or
/// a trusted proxy's `X-Forwarded-Proto: https`; never over plain HTTP, nor
/// on the word of a client.
#[tokio::test]
async fn hsts_only_over_https() {
    const PROXY: &str = "10.0.0.1:50000";
    let app =
        Edge::probe(|config| config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()]).await;
    let hsts = |reply: &Reply| reply.header("strict-transport-security").map(str::to_owned);
    let https = [("x-forwarded-proto", "https")];
    for path in ["/probe/headers", "/nowhere"] {
        assert!(hsts(&app.get(path, &[]).await).is_some(), "TLS to the host");
        assert_eq!(
            hsts(&get_plain_from(&app.router, PEER, path, &[]).await),
            None
        );
        assert!(hsts(&get_plain_from(&app.router, PROXY, path, &https).await).is_some());
        assert_eq!(
            hsts(&get_plain_from(&app.router, PEER, path, &https).await),
            None
        );
        let plain = get_plain_from(&app.router, PEER, path, &[]).await;
        assert_eq!(plain.header("x-frame-options"), Some("SAMEORIGIN"));
    }
}

#[tokio::test]
async fn hsts_is_left_out_when_its_max_age_is_zero() {
    let app = Edge::probe(|config| config.hsts_max_age_secs = 0).await;
    for path in ["/probe/headers", "/nowhere"] {
        let answer = app.get(path, &[]).await;
        assert!(!answer.headers.contains_key("strict-transport-security"));
        assert_eq!(answer.header("x-frame-options"), Some("SAMEORIGIN"));
    }
}

/// No component sets `X-Powered-By` or its own security headers, so a
/// stand-in route does, under the same edge layers the router applies.
#[tokio::test]
async fn the_host_overrides_a_components_headers_and_drops_x_powered_by() {
    let inner = Router::new().route(
        "/",
        axum::routing::get(|| async {
            (
                [
                    ("x-powered-by", "Express"),
                    ("x-frame-options", "ALLOWALL"),
                    ("content-security-policy", "default-src *"),
                ],
                "hello",
            )
        }),
    );
    let router = edge::apply(inner, &edge_config()).unwrap();
    let answer = send(&router, Method::GET, "/", &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(&answer.body[..], b"hello");
    assert_security_headers(&answer);
}

// --- CORS ---

#[tokio::test]
async fn an_allowed_origin_is_echoed_with_credentials() {
    let app = Edge::probe(|_| {}).await;
    for origin in [ALLOWED, OTHER_ALLOWED] {
        let answer = app.get("/probe/headers", &[("origin", origin)]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("access-control-allow-origin"), Some(origin));
        assert_eq!(
            answer.header("access-control-allow-credentials"),
            Some("true")
        );
        assert!(
            answer.list("vary").contains(&"origin".into()),
            "{:?}",
            answer.headers
        );
        assert_eq!(
            answer.list("access-control-expose-headers"),
            [
                "ratelimit",
                "ratelimit-policy",
                "retry-after",
                "x-request-id"
            ]
        );
        assert_security_headers(&answer);
    }
}

#[tokio::test]
async fn a_disallowed_origin_is_not_echoed() {
    let app = Edge::probe(|_| {}).await;
    for origin in [
        "https://evil.example",
        "https://app.example.com.evil.example",
        "null",
    ] {
        let answer = app.get("/probe/headers", &[("origin", origin)]).await;
        assert_eq!(answer.status, 200, "the component still answers");
        assert_eq!(answer.header("access-control-allow-origin"), None);
        assert_eq!(answer.header("access-control-allow-credentials"), None);
        assert!(answer.list("vary").contains(&"origin".into()));
        let preflight = app
            .send(
                Method::OPTIONS,
                "/probe/headers",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                ],
            )
            .await;
        assert_eq!(preflight.header("access-control-allow-origin"), None);
        assert_eq!(preflight.header("access-control-allow-credentials"), None);
    }
}

#[tokio::test]
async fn a_preflight_answers_with_methods_headers_and_max_age() {
    let app = Edge::probe(|config| config.cors_max_age_secs = 900).await;
    let preflight = app
        .send(
            Method::OPTIONS,
            "/v1/auth/login",
            &[
                ("origin", ALLOWED),
                ("access-control-request-method", "PATCH"),
                (
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
            ],
        )
        .await;
    assert_eq!(preflight.status, 200);
    assert!(preflight.body.is_empty());
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(ALLOWED)
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        preflight.list("access-control-allow-methods"),
        ["get", "post", "put", "patch", "delete", "options"]
    );
    assert_eq!(
        preflight.list("access-control-allow-headers"),
        ["authorization", "content-type", "x-request-id"]
    );
    assert_eq!(preflight.header("access-control-max-age"), Some("900"));
    assert!(preflight.list("vary").contains(&"origin".into()));
    assert_security_headers(&preflight);
}

#[tokio::test]
async fn no_cors_headers_without_allowed_origins() {
    let app = Edge::probe(|config| config.cors_origins = vec![String::new()]).await;
    let answer = app.get("/probe/headers", &[("origin", ALLOWED)]).await;
    assert_eq!(answer.status, 200);
    assert!(cors_headers(&answer).is_empty(), "{:?}", answer.headers);
    assert!(!answer.list("vary").contains(&"origin".into()));
    let preflight = app
        .send(
            Method::OPTIONS,
            "/probe/headers",
            &[
                ("origin", ALLOWED),
                ("access-control-request-method", "POST"),
            ],
        )
        .await;
    assert!(
        cors_headers(&preflight).is_empty(),
        "{:?}",
        preflight.headers
    );
    assert_security_headers(&preflight);
}

#[test]
fn a_wildcard_or_an_invalid_origin_is_refused() {
    for (entries, named) in [
        (vec![ALLOWED, "*"], "\"*\""),
        (
            vec!["https://ok.example", "not an origin"],
            "\"not an origin\"",
        ),
        (
            vec!["https://app.example.com/"],
            "\"https://app.example.com/\"",
        ),
        (
            vec!["https://bad.example\u{1}"],
            "\"https://bad.example\\u{1}\"",
        ),
    ] {
        let mut config = edge_config();
        config.cors_origins = entries.iter().map(|e| e.to_string()).collect();
        let error = format!("{:#}", edge::cors::layer(&config).unwrap_err());
        assert!(
            error.contains("CORS_ORIGINS") && error.contains(named),
            "{error}"
        );
    }
    let mut config = edge_config();
    config.cors_origins = vec!["*".into()];
    let error = format!("{:#}", edge::cors::layer(&config).unwrap_err());
    assert!(error.contains("credentials"), "{error}");
}

// --- compression ---

/// A query long enough that the probe's JSON of its `spin-*` headers
/// (the full URL among them) is about 20 KB.
fn large_path() -> String {
    format!("/probe/headers?pad={}", "edge-compression-".repeat(1200))
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::stream::decode_all(body).unwrap(),
        other => panic!("no decoder for {other}"),
    }
    out
}

#[tokio::test]
async fn gzip_br_and_zstd_decode_to_the_identity_body() {
    let app = Edge::probe(|_| {}).await;
    let path = large_path();

    let identity = app.get(&path, &[]).await;
    assert_eq!(identity.status, 200);
    assert_eq!(identity.header("content-encoding"), None);
    assert!(
        identity.body.len() > 20_000,
        "{} bytes",
        identity.body.len()
    );
    assert!(identity.list("vary").contains(&"accept-encoding".into()));
    let json: serde_json::Value = serde_json::from_slice(&identity.body).unwrap();
    assert!(json["spin-full-url"].as_str().unwrap().ends_with(&path));

    for encoding in ["gzip", "br", "zstd"] {
        let answer = app.get(&path, &[("accept-encoding", encoding)]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-encoding"), Some(encoding));
        assert_eq!(answer.header("content-length"), None);
        assert!(answer.list("vary").contains(&"accept-encoding".into()));
        assert!(
            answer.body.len() < identity.body.len() / 4,
            "{encoding}: {} bytes",
            answer.body.len()
        );
        assert_eq!(decode(encoding, &answer.body), identity.body, "{encoding}");
        assert_security_headers(&answer);
    }

    // The client's preference decides among the three.
    let preferred = app
        .get(
            &path,
            &[("accept-encoding", "gzip;q=0.5, br;q=1.0, zstd;q=0.8")],
        )
        .await;
    assert_eq!(preferred.header("content-encoding"), Some("br"));
    let refused = app
        .get(&path, &[("accept-encoding", "identity, gzip;q=0")])
        .await;
    assert_eq!(refused.header("content-encoding"), None);
    assert_eq!(refused.body, identity.body);
}

#[tokio::test]
async fn compression_keeps_cors_vary_and_cors_keeps_compressions() {
    let app = Edge::probe(|_| {}).await;
    let answer = app
        .get(
            &large_path(),
            &[("origin", ALLOWED), ("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(answer.header("content-encoding"), Some("gzip"));
    let vary = answer.list("vary");
    assert!(
        vary.contains(&"origin".into()) && vary.contains(&"accept-encoding".into()),
        "{vary:?}"
    );
    assert_eq!(answer.header("access-control-allow-origin"), Some(ALLOWED));
}

#[tokio::test]
async fn a_body_under_the_minimum_is_sent_as_it_is() {
    let app = Edge::probe(|_| {}).await;
    let identity = app.get("/probe/headers", &[]).await;
    assert!(identity.body.len() < 1024, "{} bytes", identity.body.len());
    let small = app
        .get("/probe/headers", &[("accept-encoding", "gzip, br, zstd")])
        .await;
    assert_eq!(small.status, 200);
    assert_eq!(small.header("content-encoding"), None);
    assert_eq!(small.body, identity.body);

    // The same body over a lower minimum is compressed.
    let app = Edge::probe(|config| config.compression_min_bytes = 64).await;
    let compressed = app
        .get("/probe/headers", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(compressed.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &compressed.body), identity.body);
}
