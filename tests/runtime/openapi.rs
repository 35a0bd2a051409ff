//! `openapi.yaml` kept true: every route of spin.toml is documented and every
//! documented path is served; and every documented status of every
//! operation is produced for real, through the host's router, with a body
//! that validates against the documented schema and media type.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use mhmanus_edge_layers::rate_limit::policy::Policy;
use mhmanus_host::HostConfig;
use mhmanus_tests::{InProcessHost, workspace_root};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "openapi-tests-secret-of-32-bytes-ok!";
const PASSWORD: &str = "a documented passphrase";
const ADMIN_EMAIL: &str = "documented-admin@example.com";

/// The document, with its `$ref`s made absolute so a schema taken out of
/// it still resolves against it.
struct Spec {
    doc: Value,
}

const BASE: &str = "urn:mhmanus:openapi";

impl Spec {
    fn load() -> Spec {
        let text = std::fs::read_to_string(workspace_root().join("openapi.yaml")).unwrap();
        Spec {
            doc: serde_yaml_ng::from_str(&text).unwrap(),
        }
    }

    fn operations(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .iter()
                    .map(move |(method, op)| (path.as_str(), method.as_str(), op))
            })
    }

    /// Every (path, METHOD, status) the document promises.
    fn documented(&self) -> BTreeSet<(String, String, u16)> {
        self.operations()
            .flat_map(|(path, method, op)| {
                op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(move |status| {
                        (
                            path.to_owned(),
                            method.to_ascii_uppercase(),
                            status.parse().unwrap(),
                        )
                    })
            })
            .collect()
    }

    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str() {
            Some(reference) => self
                .doc
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling {reference}")),
            None => value,
        }
    }

    /// Checks an answer against the documented response.
    fn check(&self, key: &(String, String, u16), content_type: &str, body: &[u8]) {
        let (path, method, status) = key;
        let response = self.resolve(
            &self.doc["paths"][path][method.to_ascii_lowercase()]["responses"][status.to_string()],
        );
        let Some(content) = response["content"].as_object() else {
            assert!(
                body.is_empty(),
                "{key:?}: no content documented, got a body"
            );
            return;
        };
        let media = content_type.split(';').next().unwrap().trim();
        let schema = &content
            .get(media)
            .unwrap_or_else(|| panic!("{key:?}: {media} is not documented"))["schema"];
        if media == "text/plain" || media == "text/html" {
            return;
        }
        let instance: Value = serde_json::from_slice(body).unwrap();
        let registry = jsonschema::Registry::new()
            .add(BASE, absolute_refs(&self.doc))
            .unwrap()
            .prepare()
            .unwrap();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_registry(&registry)
            .build(&absolute_refs(schema))
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{key:?}: {errors:?}\n{instance}");
    }
}

fn absolute_refs(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) if r.starts_with('#') => {
                        (k.clone(), json!(format!("{BASE}{r}")))
                    }
                    _ => (k.clone(), absolute_refs(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(absolute_refs).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_path_is_served() {
    let spec = Spec::load();
    let host = InProcessHost::start_repo(|config| config.jwt_secret = Some(SECRET.into()))
        .await
        .unwrap();
    let documented: Vec<&str> = spec.operations().map(|(path, _, _)| path).collect();
    let manifest: toml::Table = std::fs::read_to_string(workspace_root().join("spin.toml"))
        .unwrap()
        .parse()
        .unwrap();
    for trigger in manifest["trigger"]["http"].as_array().unwrap() {
        let base = trigger["route"].as_str().unwrap().trim_end_matches("/...");
        // Unversioned routes are the /v1 ones, served for the original clients.
        let canonical = if base.starts_with("/health") || base.starts_with("/v1") {
            base.to_owned()
        } else {
            format!("/v1{base}")
        };
        assert!(
            documented.iter().any(|path| path.starts_with(&canonical)),
            "spin.toml route {base} has no documented path"
        );
    }
    let host_routes = ["/health/live", "/metrics", "/openapi.json", "/docs"];
    for path in documented {
        let concrete = path.replace("{id}", "some-id");
        assert!(
            host_routes.contains(&path) || host.components().routes().serves(&concrete),
            "{path} is documented but nothing serves it"
        );
    }
}

/// Which router a call goes to.
#[derive(Clone, Copy)]
enum Host {
    /// SQLite, limits off.
    Normal,
    /// Every route limited to one request a minute.
    Limited,
    /// The components' database unreachable.
    Broken,
    /// An unusable access-token lifetime: the token routes cannot serve.
    Misconfigured,
    /// `APP_ENV=production`: `/metrics` off the public address,
    /// `all-features` an Admin's.
    Production,
}

struct Call {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn call(method: &'static str, path: &str) -> Call {
    Call {
        method,
        path: path.to_owned(),
        headers: vec![],
        body: String::new(),
    }
}

impl Call {
    fn json(mut self, body: Value) -> Call {
        self.headers
            .push(("content-type", "application/json".into()));
        self.body = body.to_string();
        self
    }

    fn raw(mut self, content_type: &str, body: impl Into<String>) -> Call {
        self.headers.push(("content-type", content_type.to_owned()));
        self.body = body.into();
        self
    }

    fn bearer(mut self, token: &str) -> Call {
        self.headers
            .push(("authorization", format!("Bearer {token}")));
        self
    }
}

async fn router(host: Host) -> Router {
    let host = InProcessHost::start_repo(|config: &mut HostConfig| {
        config.jwt_secret = Some(SECRET.into());
        config.admin_email = Some(ADMIN_EMAIL.into());
        config.admin_password = Some(PASSWORD.into());
        if let Host::Production = host {
            config.app_env = Some("production".into());
            config.jwt_secret =
                Some(format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4()).into());
            config.admin_email = None;
            config.admin_password = None;
        }
        // The machine's own disk must not decide the health answers here.
        config.server.health.disk_warn_percent = 100;
        config.server.health.disk_fail_percent = 100;
        match host {
            Host::Broken => config.variables.push((
                "database_url".into(),
                "postgres://postgres@127.0.0.1:1/postgres".into(),
            )),
            Host::Misconfigured => config
                .variables
                .push(("access_token_ttl_secs".into(), "-1".into())),
            _ => {}
        }
        config.edge.rate_limit_routes = vec![];
        config.edge.rate_limit = match host {
            Host::Limited => "1/60s".parse().unwrap(),
            _ => Policy::Off,
        };
    })
    .await
    .unwrap();
    let router = host.router();
    // The data directory must outlive the test.
    std::mem::forget(host);
    router
}

async fn send(router: &Router, call: &Call) -> (u16, String, bytes::Bytes) {
    let mut request = http::Request::builder()
        .method(call.method)
        .uri(&call.path)
        .header("host", "api.test");
    for (name, value) in &call.headers {
        request = request.header(*name, value);
    }
    let mut request = request.body(Body::from(call.body.clone())).unwrap();
    request.extensions_mut().insert(ConnectInfo(
        "127.0.0.1:40000".parse::<SocketAddr>().unwrap(),
    ));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, body)
}

/// (documented path, method, status, which host, the request that produces it).
type Scenario = (&'static str, &'static str, u16, Host, Call);

/// What the scenarios need: a real account's tokens and an Admin's.
struct Fixtures {
    email: &'static str,
    registration: Value,
    access: String,
    refresh: String,
    spare_refresh: String,
    admin: String,
    roles_path: String,
    big: String,
    /// A User's access token on the production host.
    production_access: String,
}

/// One line per documented (path, method, status) but the 429s.
#[rustfmt::skip]
fn scenarios(f: &Fixtures) -> Vec<Scenario> {
    use Host::*;
    let (access, admin, roles_path, big, email) = (&f.access, &f.admin, &f.roles_path, &f.big, f.email);
    let registration = f.registration.clone();
    let sessions_path = roles_path.replace("/roles", "/sessions");
    let login = || call("POST", "/v1/auth/login").json(json!({"email": email, "password": PASSWORD}));
    vec![
        ("/health/live", "get", 200, Normal, call("GET", "/health/live")),
        ("/health/ready", "get", 200, Normal, call("GET", "/health/ready")),
        ("/health/ready", "get", 503, Broken, call("GET", "/health/ready")),
        ("/health", "get", 200, Normal, call("GET", "/health")),
        ("/health", "get", 503, Broken, call("GET", "/health")),
        ("/v1/auth/register", "post", 201, Normal, call("POST", "/v1/auth/register").json(json!({"email": "second@example.com", "password": PASSWORD, "name": "Second"}))),
        ("/v1/auth/register", "post", 400, Normal, call("POST", "/v1/auth/register").raw("application/json", "{not json")),
        ("/v1/auth/register", "post", 409, Normal, call("POST", "/v1/auth/register").json(registration.clone())),
        ("/v1/auth/register", "post", 413, Normal, call("POST", "/v1/auth/register").json(json!({"name": big}))),
        ("/v1/auth/register", "post", 415, Normal, call("POST", "/v1/auth/register").raw("text/plain", "{}")),
        ("/v1/auth/register", "post", 422, Normal, call("POST", "/v1/auth/register").json(json!({}))),
        ("/v1/auth/register", "post", 503, Broken, call("POST", "/v1/auth/register").json(registration.clone())),
        ("/v1/auth/login", "post", 200, Normal, login()),
        ("/v1/auth/login", "post", 400, Normal, call("POST", "/v1/auth/login").raw("application/json", "[")),
        ("/v1/auth/login", "post", 401, Normal, call("POST", "/v1/auth/login").json(json!({"email": email, "password": "not the passphrase"}))),
        ("/v1/auth/login", "post", 413, Normal, call("POST", "/v1/auth/login").json(json!({"email": big}))),
        ("/v1/auth/login", "post", 415, Normal, call("POST", "/v1/auth/login").raw("text/plain", "{}")),
        ("/v1/auth/login", "post", 422, Normal, call("POST", "/v1/auth/login").json(json!({}))),
        ("/v1/auth/login", "post", 503, Broken, login()),
        ("/v1/auth/refresh", "post", 200, Normal, call("POST", "/v1/auth/refresh").json(json!({"refresh_token": f.refresh}))),
        ("/v1/auth/refresh", "post", 400, Normal, call("POST", "/v1/auth/refresh").raw("application/json", "nope")),
        ("/v1/auth/refresh", "post", 401, Normal, call("POST", "/v1/auth/refresh").json(json!({"refresh_token": "not-a-token"}))),
        ("/v1/auth/refresh", "post", 413, Normal, call("POST", "/v1/auth/refresh").json(json!({"refresh_token": big}))),
        ("/v1/auth/refresh", "post", 415, Normal, call("POST", "/v1/auth/refresh").raw("text/plain", "{}")),
        ("/v1/auth/refresh", "post", 422, Normal, call("POST", "/v1/auth/refresh").json(json!({}))),
        ("/v1/auth/refresh", "post", 503, Broken, call("POST", "/v1/auth/refresh").json(json!({"refresh_token": "x"}))),
        ("/v1/auth/logout", "post", 204, Normal, call("POST", "/v1/auth/logout").bearer(access).json(json!({"refresh_token": f.spare_refresh}))),
        ("/v1/auth/logout", "post", 400, Normal, call("POST", "/v1/auth/logout").bearer(access).raw("application/json", "{")),
        ("/v1/auth/logout", "post", 401, Normal, call("POST", "/v1/auth/logout").json(json!({"all": true}))),
        ("/v1/auth/logout", "post", 413, Normal, call("POST", "/v1/auth/logout").bearer(access).json(json!({"refresh_token": big}))),
        ("/v1/auth/logout", "post", 415, Normal, call("POST", "/v1/auth/logout").bearer(access).raw("text/plain", "{}")),
        ("/v1/auth/logout", "post", 422, Normal, call("POST", "/v1/auth/logout").bearer(access).json(json!({}))),
        ("/v1/auth/logout", "post", 503, Broken, call("POST", "/v1/auth/logout").bearer(access).json(json!({"all": true}))),
        ("/v1/auth/profile", "get", 200, Normal, call("GET", "/v1/auth/profile").bearer(access)),
        ("/v1/auth/profile", "get", 401, Normal, call("GET", "/v1/auth/profile")),
        ("/v1/auth/profile", "get", 503, Broken, call("GET", "/v1/auth/profile").bearer(access)),
        ("/v1/auth/profile", "patch", 200, Normal, call("PATCH", "/v1/auth/profile").bearer(access).json(json!({"name": "Renamed"}))),
        ("/v1/auth/profile", "patch", 400, Normal, call("PATCH", "/v1/auth/profile").bearer(access).raw("application/json", "{")),
        ("/v1/auth/profile", "patch", 401, Normal, call("PATCH", "/v1/auth/profile").json(json!({"name": "x"}))),
        ("/v1/auth/profile", "patch", 413, Normal, call("PATCH", "/v1/auth/profile").bearer(access).json(json!({"name": big}))),
        ("/v1/auth/profile", "patch", 415, Normal, call("PATCH", "/v1/auth/profile").bearer(access).raw("text/plain", "{}")),
        ("/v1/auth/profile", "patch", 422, Normal, call("PATCH", "/v1/auth/profile").bearer(access).json(json!({}))),
        ("/v1/auth/profile", "patch", 503, Broken, call("PATCH", "/v1/auth/profile").bearer(access).json(json!({"name": "x"}))),
        ("/v1/users", "get", 200, Normal, call("GET", "/v1/users?page=1&perPage=5").bearer(admin)),
        ("/v1/users", "get", 401, Normal, call("GET", "/v1/users")),
        ("/v1/users", "get", 403, Normal, call("GET", "/v1/users").bearer(access)),
        ("/v1/users", "get", 422, Normal, call("GET", "/v1/users?page=0").bearer(admin)),
        ("/v1/users", "get", 503, Broken, call("GET", "/v1/users").bearer(admin)),
        ("/v1/users/{id}/roles", "put", 200, Normal, call("PUT", roles_path).bearer(admin).json(json!({"roles": ["User", "Developer"]}))),
        ("/v1/users/{id}/roles", "put", 400, Normal, call("PUT", roles_path).bearer(admin).raw("application/json", "{")),
        ("/v1/users/{id}/roles", "put", 401, Normal, call("PUT", roles_path).json(json!({"roles": ["User"]}))),
        ("/v1/users/{id}/roles", "put", 403, Normal, call("PUT", roles_path).bearer(access).json(json!({"roles": ["Admin"]}))),
        ("/v1/users/{id}/roles", "put", 404, Normal, call("PUT", "/v1/users/no-such-user/roles").bearer(admin).json(json!({"roles": ["User"]}))),
        ("/v1/users/{id}/roles", "put", 413, Normal, call("PUT", roles_path).bearer(admin).json(json!({"roles": [big]}))),
        ("/v1/users/{id}/roles", "put", 415, Normal, call("PUT", roles_path).bearer(admin).raw("text/plain", "{}")),
        ("/v1/users/{id}/roles", "put", 422, Normal, call("PUT", roles_path).bearer(admin).json(json!({"roles": ["Emperor"]}))),
        ("/v1/users/{id}/roles", "put", 503, Broken, call("PUT", roles_path).bearer(admin).json(json!({"roles": ["User"]}))),
        ("/v1/users/{id}/sessions", "delete", 204, Normal, call("DELETE", &sessions_path).bearer(admin)),
        ("/v1/users/{id}/sessions", "delete", 401, Normal, call("DELETE", &sessions_path)),
        ("/v1/users/{id}/sessions", "delete", 403, Normal, call("DELETE", &sessions_path).bearer(access)),
        ("/v1/users/{id}/sessions", "delete", 404, Normal, call("DELETE", "/v1/users/no-such-user/sessions").bearer(admin)),
        ("/v1/users/{id}/sessions", "delete", 503, Broken, call("DELETE", &sessions_path).bearer(admin)),
        ("/v1/production-test/config", "get", 200, Normal, call("GET", "/v1/production-test/config")),
        ("/v1/production-test/rate-limit", "get", 200, Normal, call("GET", "/v1/production-test/rate-limit")),
        ("/v1/production-test/protected", "get", 200, Normal, call("GET", "/v1/production-test/protected").bearer(access)),
        ("/v1/production-test/protected", "get", 401, Normal, call("GET", "/v1/production-test/protected")),
        ("/v1/production-test/protected", "get", 503, Misconfigured, call("GET", "/v1/production-test/protected").bearer(access)),
        ("/v1/production-test/admin", "get", 200, Normal, call("GET", "/v1/production-test/admin").bearer(admin)),
        ("/v1/production-test/admin", "get", 401, Normal, call("GET", "/v1/production-test/admin")),
        ("/v1/production-test/admin", "get", 403, Normal, call("GET", "/v1/production-test/admin").bearer(access)),
        ("/v1/production-test/admin", "get", 503, Misconfigured, call("GET", "/v1/production-test/admin").bearer(admin)),
        ("/v1/production-test/compression", "get", 200, Normal, call("GET", "/v1/production-test/compression")),
        ("/v1/production-test/all-features", "get", 200, Normal, call("GET", "/v1/production-test/all-features").bearer(access)),
        ("/v1/production-test/all-features", "get", 401, Normal, call("GET", "/v1/production-test/all-features")),
        ("/v1/production-test/all-features", "get", 503, Broken, call("GET", "/v1/production-test/all-features").bearer(access)),
        ("/v1/production-test/all-features", "get", 403, Production, call("GET", "/v1/production-test/all-features").bearer(&f.production_access)),
        ("/metrics", "get", 200, Normal, call("GET", "/metrics")),
        ("/metrics", "get", 404, Production, call("GET", "/metrics")),
        ("/openapi.json", "get", 200, Normal, call("GET", "/openapi.json")),
        ("/docs", "get", 200, Normal, call("GET", "/docs")),
    ]
}

#[tokio::test]
async fn every_documented_status_is_answered_as_documented() {
    let spec = Spec::load();
    let (normal, limited, broken, misconfigured, production) = (
        router(Host::Normal).await,
        router(Host::Limited).await,
        router(Host::Broken).await,
        router(Host::Misconfigured).await,
        router(Host::Production).await,
    );
    let routers = |host: Host| match host {
        Host::Normal => &normal,
        Host::Limited => &limited,
        Host::Broken => &broken,
        Host::Misconfigured => &misconfigured,
        Host::Production => &production,
    };

    // A real account and its tokens, and a target for the Admin routes.
    let email = "documented@example.com";
    let registration = json!({"email": email, "password": PASSWORD, "name": "Doc"});
    let (status, _, _) = send(
        &normal,
        &call("POST", "/v1/auth/register").json(registration.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let login =
        || call("POST", "/v1/auth/login").json(json!({"email": email, "password": PASSWORD}));
    let tokens = |body: bytes::Bytes| -> (String, String) {
        let tokens: Value = serde_json::from_slice(&body).unwrap();
        (
            tokens["access_token"].as_str().unwrap().to_owned(),
            tokens["refresh_token"].as_str().unwrap().to_owned(),
        )
    };
    let (access, refresh) = tokens(send(&normal, &login()).await.2);
    let (_, spare_refresh) = tokens(send(&normal, &login()).await.2);
    // The bootstrap Admin.
    let admin_login = json!({"email": ADMIN_EMAIL, "password": PASSWORD});
    let (admin, _) = tokens(
        send(&normal, &call("POST", "/v1/auth/login").json(admin_login))
            .await
            .2,
    );
    // The Admin routes' target is another account, so `access` outlives
    // the role change and the ended sessions.
    let target = json!({"email": "target@example.com", "password": PASSWORD, "name": "Target"});
    let (status, _, body) = send(&normal, &call("POST", "/v1/auth/register").json(target)).await;
    assert_eq!(status, 201);
    let target: Value = serde_json::from_slice(&body).unwrap();
    let target_id = target["id"].as_str().unwrap();
    let roles_path = format!("/v1/users/{target_id}/roles");
    let big = "x".repeat(20 * 1024);
    // A User of the production host (its own database and secret).
    let (status, _, _) = send(
        &production,
        &call("POST", "/v1/auth/register").json(registration.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let (production_access, _) = tokens(send(&production, &login()).await.2);

    let fixtures = Fixtures {
        email,
        registration,
        access,
        refresh,
        spare_refresh,
        admin,
        roles_path,
        big,
        production_access,
    };
    let scenarios = scenarios(&fixtures);

    let mut walked = BTreeSet::new();
    for (path, method, expected, host, call) in &scenarios {
        let (status, content_type, body) = send(routers(*host), call).await;
        let key = (path.to_string(), method.to_ascii_uppercase(), *expected);
        assert_eq!(
            status,
            *expected,
            "{} {}: {}",
            call.method,
            call.path,
            String::from_utf8_lossy(&body)
        );
        spec.check(&key, &content_type, &body);
        walked.insert(key);
    }
    // 429: every limited operation, the second time within the minute.
    for (path, method, op) in spec.operations() {
        if op["responses"].get("429").is_none() {
            continue;
        }
        let concrete = path.replace("{id}", target_id);
        let verb = match method {
            "get" => "GET",
            "post" => "POST",
            "patch" => "PATCH",
            "put" => "PUT",
            "delete" => "DELETE",
            other => panic!("undocumented verb {other}"),
        };
        let mut second = None;
        for _ in 0..2 {
            second = Some(send(&limited, &call(verb, &concrete)).await);
        }
        let (status, content_type, body) = second.unwrap();
        let key = (path.to_owned(), verb.to_owned(), 429);
        assert_eq!(status, 429, "{key:?}");
        spec.check(&key, &content_type, &body);
        walked.insert(key);
    }
    let documented = spec.documented();
    let missing: Vec<_> = documented.difference(&walked).collect();
    assert!(
        missing.is_empty(),
        "documented but never produced: {missing:?}"
    );
    let undocumented: Vec<_> = walked.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "produced but not documented: {undocumented:?}"
    );
}
