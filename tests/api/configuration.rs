//! One typed configuration: flags over environment over `.env` over the
//! optional TOML file; production refuses what would be unsafe, in one line.

use mhmanus_tests::{SpawnedHost, fatal_error, spawn_app, start_failure, workspace_root};

/// Two requests to one route: the second tells whether a 1/60s limit is on.
async fn second_status(host: &SpawnedHost) -> u16 {
    let client = reqwest::Client::new();
    let mut status = 0;
    for _ in 0..2 {
        status = client
            .get(host.url("/v1/auth/profile"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    status
}

#[tokio::test]
async fn the_config_file_fills_what_the_environment_leaves_unset() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("host.toml");
    std::fs::write(&file, "rate_limit = \"1/60s\"\nhsts_max_age_secs = 0\n").unwrap();
    let data = dir.path().join("data");
    let (file, data) = (file.to_str().unwrap(), data.to_str().unwrap());

    let host = SpawnedHost::start(
        &workspace_root(),
        &[("DATA_DIR", data), ("MHMANUS_CONFIG", file)],
    )
    .unwrap();
    assert_eq!(second_status(&host).await, 429, "the file's limit applies");
    let reply = reqwest::get(host.url("/health/live")).await.unwrap();
    assert!(!reply.headers().contains_key("strict-transport-security"));
    drop(host);

    let host = SpawnedHost::start(
        &workspace_root(),
        &[
            ("DATA_DIR", data),
            ("MHMANUS_CONFIG", file),
            ("RATE_LIMIT", "off"),
        ],
    )
    .unwrap();
    assert_eq!(second_status(&host).await, 401, "the environment wins");
}

#[test]
fn an_unknown_key_in_the_config_file_is_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("host.toml");
    std::fs::write(&file, "rate_limt = \"1/60s\"\n").unwrap();
    let error = fatal_error(&start_failure(
        &workspace_root(),
        &[("MHMANUS_CONFIG", file.to_str().unwrap())],
    ));
    assert!(
        error.contains("unknown key \"rate_limt\"") && error.contains("host.toml"),
        "{error}"
    );
}

#[test]
fn production_refuses_a_weak_admin_password_and_wildcard_cors() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path().to_str().unwrap();
    let secret = "a-production-secret-of-at-least-32-bytes";
    let stderr = start_failure(
        &workspace_root(),
        &[
            ("DATA_DIR", data),
            ("APP_ENV", "production"),
            ("JWT_SECRET", secret),
            ("ADMIN_EMAIL", "root@example.com"),
            ("ADMIN_PASSWORD", "password123"),
        ],
    );
    assert!(stderr.contains("ADMIN_PASSWORD: "), "{stderr}");
    assert!(!stderr.contains("password123"), "never shown: {stderr}");

    let stderr = start_failure(
        &workspace_root(),
        &[
            ("DATA_DIR", data),
            ("APP_ENV", "production"),
            ("JWT_SECRET", secret),
            ("CORS_ORIGINS", "*"),
        ],
    );
    assert!(stderr.contains("credentials"), "{stderr}");
}

/// What compose writes for an unset `${KEY:-}`: an empty variable is unset.
#[tokio::test]
async fn empty_variables_mean_unset_even_in_production() {
    let host = spawn_app(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET", "a-production-secret-of-at-least-32-bytes"),
        ("ADMIN_EMAIL", ""),
        ("ADMIN_PASSWORD", ""),
        ("CORS_ORIGINS", ""),
        ("TRUSTED_PROXIES", ""),
        ("RATE_LIMIT", ""),
    ]);
    // The default limit applies: RATE_LIMIT= neither failed nor turned it off.
    let reply = reqwest::get(host.url("/production-test/rate-limit"))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["ratelimit-policy"], "\"default\";q=10;w=60");
}

/// `APP_ENV=prod` is not production, and not development either: the host
/// says which values it takes, in one line, instead of guessing.
#[test]
fn an_unknown_app_env_stops_start_up_naming_the_accepted_values() {
    let data = tempfile::tempdir().unwrap();
    for variable in ["APP_ENV", "NODE_ENV"] {
        let error = fatal_error(&start_failure(
            &workspace_root(),
            &[
                ("DATA_DIR", data.path().to_str().unwrap()),
                (variable, "prod"),
            ],
        ));
        assert!(
            error.contains("\"prod\"") && error.contains("development, production or test"),
            "{variable}: {error}"
        );
    }
}

/// Production refuses a secret an attacker could guess, however long.
#[test]
fn production_refuses_a_predictable_jwt_secret() {
    let data = tempfile::tempdir().unwrap();
    for secret in ["a".repeat(64), "secret".repeat(8)] {
        let stderr = start_failure(
            &workspace_root(),
            &[
                ("DATA_DIR", data.path().to_str().unwrap()),
                ("APP_ENV", "production"),
                ("JWT_SECRET", &secret),
            ],
        );
        assert!(
            stderr.contains("JWT_SECRET: ") && stderr.contains("predictable"),
            "{stderr}"
        );
        assert!(!stderr.contains(&secret), "never shown: {stderr}");
    }
}
