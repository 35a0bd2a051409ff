//! `components/production-test` under the native runtime, from the
//! repository's spin.toml: each route, redaction with known secrets, the
//! bearer and role doors, and `all-features` against SQLite, the real
//! PostgreSQL and Redis, an unreachable database, and no host layers.

use mhmanus_host::HostConfig;
use mhmanus_tests::{InProcessHost, POSTGRES_URL, REDIS_URL, Reply};
use serde_json::Value;

/// Secrets whose first four characters appear nowhere else in a report.
const SECRET: &str = "Zq9!production-test-secret-of-32-bytes";
const ADMIN_PASSWORD: &str = "Kx7#an admin passphrase";
const DB_PASSWORD: &str = "Pw4sDatabasePassword";
const REDIS_PASSWORD: &str = "Rd5sRedisPassword";
const PASSWORD: &str = "Tq8$ a user passphrase";

/// A fresh account's access token.
async fn user_token(app: &InProcessHost) -> String {
    let (_, login) = app.sign_up(PASSWORD).await;
    login["access_token"].as_str().unwrap().to_owned()
}

/// An address of this test's own, for the bootstrap Admin.
fn admin_email() -> String {
    format!("admin-{}@example.com", uuid::Uuid::new_v4().simple())
}

async fn start(configure: impl FnOnce(&mut HostConfig)) -> InProcessHost {
    InProcessHost::start_repo(|config| {
        config.jwt_secret = Some(SECRET.into());
        configure(config);
    })
    .await
    .unwrap()
}

async fn get(app: &InProcessHost, path: &str, token: Option<&str>) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("authorization", b)])
        .unwrap_or_default();
    app.call("GET", path, &headers, "").await
}

/// The entry for `feature` in an all-features report.
fn feature<'a>(report: &'a Value, feature: &str) -> &'a Value {
    report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feature"] == feature)
        .unwrap_or_else(|| panic!("no {feature} in {report}"))
}

#[tokio::test]
async fn config_shows_the_settings_and_none_of_the_secrets() {
    let database_url = format!("postgres://postgres:{DB_PASSWORD}@127.0.0.1:5432/postgres");
    let redis_url = format!("redis://:{REDIS_PASSWORD}@127.0.0.1:6379");
    let admin = admin_email();
    let app = start(|config| {
        config.database_url = Some(database_url.clone().into());
        config.admin_email = Some(admin.clone());
        config.admin_password = Some(ADMIN_PASSWORD.into());
        // Only the components see this Redis (the host's own would try AUTH).
        config
            .variables
            .push(("redis_url".into(), redis_url.clone()));
    })
    .await;
    // The Admin exists once auth has served (it bootstraps on its first request).
    let admin_login = app.sign_in(&admin, ADMIN_PASSWORD).await;
    let admin_token = admin_login["access_token"].as_str().unwrap();

    // Anyone sees the settings, not where the databases are.
    let reply = get(&app, "/v1/production-test/config", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let public = reply.json();
    for url in [&public["database"]["url"], &public["redis"]["url"]] {
        assert_eq!(url, "[shown to an Admin only]");
    }
    assert!(!reply.text().contains("127.0.0.1"), "{}", reply.text());
    let user = user_token(&app).await;
    let as_user = get(&app, "/v1/production-test/config", Some(&user)).await;
    assert_eq!(
        as_user.json()["database"]["url"],
        "[shown to an Admin only]"
    );

    let reply = get(&app, "/v1/production-test/config", Some(admin_token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for secret in [SECRET, ADMIN_PASSWORD, DB_PASSWORD, REDIS_PASSWORD] {
        assert!(
            !reply.text().contains(&secret[..4]),
            "{} leaked: {}",
            &secret[..4],
            reply.text()
        );
    }
    let config = reply.json();
    assert_eq!(config["runtime"], "mhmanus-host");
    assert_eq!(config["database"]["backend"], "postgres");
    assert_eq!(
        config["database"]["url"],
        "postgres://postgres:[redacted]@127.0.0.1:5432/postgres"
    );
    assert_eq!(config["redis"]["url"], "redis://:[redacted]@127.0.0.1:6379");
    assert_eq!(config["tokens"]["secret"], "[redacted]");
    assert_eq!(config["tokens"]["accessTokenTtlSecs"], 3600);
    assert_eq!(config["admin"]["configured"], true);
    assert_eq!(config["admin"]["state"], "bootstrapped");
    assert!(
        !reply.text().contains(&admin),
        "who the Admin is stays private"
    );
    assert_eq!(config["admin"]["password"], "[redacted]");
    assert_eq!(config["keyValue"]["backend"], "redis");
    let layers = config["edgeLayers"].as_array().unwrap();
    assert!(layers.contains(&"rate-limit".into()) && layers.contains(&"compression".into()));
}

#[tokio::test]
async fn rate_limit_says_whom_it_saw_and_whether_a_limiter_is_in_front() {
    let app = start(|_| {}).await;
    let reply = get(&app, "/production-test/rate-limit", None).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    // The address, not the connection's port.
    assert_eq!(body["clientAddr"], "127.0.0.1");
    assert_eq!(body["rateLimited"], true);

    let unlimited = start(|config| {
        config.edge.rate_limit = "off".parse().unwrap();
        config.edge.rate_limit_routes = vec![];
    })
    .await;
    let body = get(&unlimited, "/v1/production-test/rate-limit", None)
        .await
        .json();
    assert_eq!(body["rateLimited"], false);
}

/// The bootstrap Admin's email `start` configured.
fn app_admin(app: &InProcessHost) -> String {
    app.config.admin_email.clone().expect("an admin configured")
}

#[tokio::test]
async fn protected_and_admin_check_the_token_and_the_role() {
    let admin = admin_email();
    let app = start(|config| {
        config.admin_email = Some(admin);
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    let missing = get(&app, "/v1/production-test/protected", None).await;
    assert_eq!(missing.status, 401);
    assert!(
        missing.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let forged = get(&app, "/v1/production-test/protected", Some("not.a.jwt")).await;
    assert_eq!(forged.status, 401);
    assert!(
        forged.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let user = user_token(&app).await;
    let reply = get(&app, "/v1/production-test/protected", Some(&user)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["roles"], serde_json::json!(["User"]));
    let refused = get(&app, "/v1/production-test/admin", Some(&user)).await;
    assert_eq!(refused.status, 403);
    let admin = app.sign_in(&app_admin(&app), ADMIN_PASSWORD).await;
    let admin = admin["access_token"].as_str().unwrap();
    let reply = get(&app, "/production-test/admin", Some(admin)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["roles"], serde_json::json!(["Admin", "User"]));
}

/// `all-features` hashes a password and reaches every backend: in
/// production only an Admin may run it (issue 36's T4 and T9).
#[tokio::test]
async fn in_production_all_features_is_an_admin_s() {
    let admin = admin_email();
    let app = start(|config| {
        config.app_env = Some("production".into());
        config.admin_email = Some(admin);
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    let user = user_token(&app).await;
    let refused = get(&app, "/v1/production-test/all-features", Some(&user)).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    let admin = app.sign_in(&app_admin(&app), ADMIN_PASSWORD).await;
    let admin = admin["access_token"].as_str().unwrap();
    let reply = get(&app, "/v1/production-test/all-features", Some(admin)).await;
    let features = reply.json()["features"].as_array().map_or(0, Vec::len);
    assert!(features > 0, "{}", reply.text());
}

#[tokio::test]
async fn compression_serves_the_same_large_body_every_time() {
    let app = start(|_| {}).await;
    let first = get(&app, "/v1/production-test/compression", None).await;
    let second = get(&app, "/production-test/compression", None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.content_type(), "application/json");
    assert!(
        (90_000..=120_000).contains(&first.text().len()),
        "{}",
        first.text().len()
    );
    assert_eq!(first.text(), second.text());
}

#[tokio::test]
async fn other_methods_and_routes_are_problems() {
    let app = start(|_| {}).await;
    let post = app
        .call("POST", "/v1/production-test/config", &[], "")
        .await;
    assert_eq!(post.status, 405);
    assert_eq!(post.headers["allow"], "GET, HEAD");
    let head = app
        .call("HEAD", "/v1/production-test/config", &[], "")
        .await;
    assert_eq!(head.status, 200);
    let missing = get(&app, "/v1/production-test/nothing", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.content_type(), "application/problem+json");
}

#[tokio::test]
async fn all_features_pass_on_sqlite_with_redis_unconfigured() {
    let app = start(|_| {}).await;
    assert_eq!(
        get(&app, "/v1/production-test/all-features", None)
            .await
            .status,
        401
    );
    let reply = get(
        &app,
        "/v1/production-test/all-features",
        Some(&user_token(&app).await),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["status"], "pass");
    let database = feature(&report, "database");
    assert_eq!(database["status"], "pass");
    assert_eq!(database["evidence"]["backend"], "sqlite");
    assert!(database["latencyMs"].as_f64().unwrap() >= 0.0);
    for name in ["authentication", "key-value", "jwt", "password-hashing"] {
        assert_eq!(feature(&report, name)["status"], "pass", "{name}: {report}");
    }
    assert_eq!(feature(&report, "redis")["status"], "unavailable");
    for layer in ["compression", "security-headers", "rate-limit"] {
        let entry = feature(&report, layer);
        assert_eq!(entry["status"], "pass", "{layer}");
        assert_eq!(entry["evidence"]["providedBy"], "mhmanus-host");
    }
}

#[tokio::test]
async fn all_features_pass_on_postgres_and_redis() {
    let app = start(|config| {
        config.database_url = Some(POSTGRES_URL.into());
        config.redis_url = Some(REDIS_URL.into());
    })
    .await;
    let reply = get(
        &app,
        "/v1/production-test/all-features",
        Some(&user_token(&app).await),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    assert_eq!(
        feature(&report, "database")["evidence"]["backend"],
        "postgres"
    );
    assert_eq!(feature(&report, "redis")["status"], "pass", "{report}");
    assert_eq!(feature(&report, "key-value")["status"], "pass", "{report}");
    assert_eq!(report["summary"]["fail"], 0);
}

#[tokio::test]
async fn an_unreachable_database_fails_all_features_with_503() {
    let app = start(|config| {
        // The component's own setting; the host checks only DATABASE_URL.
        config.variables.push((
            "database_url".into(),
            "postgres://postgres@127.0.0.1:1/postgres".into(),
        ));
    })
    .await;
    // The bearer door reads the account: without its database nobody is
    // let in, and the answer says the database is unavailable.
    let token = mhmanus_tests::access_token(SECRET, "user-42", &[]);
    let reply = get(&app, "/v1/production-test/all-features", Some(&token)).await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/problem+json");
    assert!(reply.text().contains("database"), "{}", reply.text());
    assert!(!reply.text().contains("127.0.0.1"), "{}", reply.text());
}

#[tokio::test]
async fn without_the_hosts_layers_their_features_are_unavailable_not_failed() {
    // What plain Spin gives the component: the manifest defaults.
    let app = start(|config| {
        config
            .variables
            .push(("host_runtime".into(), "spin".into()));
        config.variables.push(("edge_layers".into(), String::new()));
    })
    .await;
    let reply = get(
        &app,
        "/v1/production-test/all-features",
        Some(&user_token(&app).await),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["runtime"], "spin");
    for layer in ["compression", "security-headers", "rate-limit"] {
        let entry = feature(&report, layer);
        assert_eq!(entry["status"], "unavailable", "{layer}");
        assert!(
            entry["evidence"]["reason"]
                .as_str()
                .unwrap()
                .contains("spin")
        );
    }
    assert_eq!(report["summary"]["fail"], 0);
    let rate_limit = get(&app, "/v1/production-test/rate-limit", None)
        .await
        .json();
    assert_eq!(rate_limit["rateLimited"], false);
}

/// The repository's spin.toml as the host would take it from a user who
/// wants the edge middleware composed, not replaced: the middleware no
/// longer native, and production-test without the host's `edge_layers`.
fn repo_manifest_composing_the_edge_middleware() -> String {
    let root = mhmanus_tests::workspace_root();
    let text = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    let composed = text
        .replace(
            "[component.edge-middleware.tool.mhmanus-host]\nnative = true\n",
            "",
        )
        .replace("edge_layers = \"{{ edge_layers }}\"\n", "")
        .replace(
            "source = \"target/",
            &format!("source = \"{}/target/", root.display()),
        );
    assert!(
        !composed.contains("edge-middleware.tool") && !composed.contains("{{ edge_layers }}"),
        "spin.toml changed shape; update this test"
    );
    composed
}

#[tokio::test]
async fn the_edge_middleware_attests_its_layers_to_all_features() {
    let manifest = repo_manifest_composing_the_edge_middleware();
    let app = InProcessHost::start(&manifest, |config| {
        config.jwt_secret = Some(SECRET.into());
    })
    .await
    .unwrap();
    let token = user_token(&app).await;
    let reply = get(&app, "/v1/production-test/all-features", Some(&token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    for layer in ["compression", "security-headers", "rate-limit"] {
        let entry = feature(&report, layer);
        assert_eq!(entry["status"], "pass", "{layer}: {report}");
        assert_eq!(entry["evidence"]["providedBy"], "edge-middleware");
    }

    // A client's own attestation, even one signed right, is replaced.
    let claimed = mhmanus_edge_rules::attestation::Attestation {
        by: "a-client".into(),
        layers: vec!["security-headers".into()],
    }
    .sign(SECRET.as_bytes());
    let header = [(mhmanus_edge_rules::attestation::HEADER, claimed.as_str())];
    let reply = app
        .call("GET", "/v1/production-test/config", &header, "")
        .await;
    assert_eq!(reply.json()["edgeProvidedBy"], "edge-middleware");
}

#[tokio::test]
async fn without_the_middleware_a_clients_attestation_counts_for_nothing() {
    let manifest = repo_manifest_composing_the_edge_middleware()
        .replace(
            "dependencies.middleware = [{ component = \"edge-middleware\", inherit_configuration = [\"variables\", \"key_value_stores\"] }]\n",
            "",
        );
    let app = InProcessHost::start(&manifest, |config| {
        config.jwt_secret = Some(SECRET.into());
    })
    .await
    .unwrap();
    let forged = mhmanus_edge_rules::attestation::Attestation {
        by: "edge-middleware".into(),
        layers: vec!["rate-limit".into()],
    }
    .sign(b"a secret the client guessed");
    let header = [(mhmanus_edge_rules::attestation::HEADER, forged.as_str())];
    let reply = app
        .call("GET", "/v1/production-test/rate-limit", &header, "")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["rateLimited"], false, "{}", reply.text());
}
