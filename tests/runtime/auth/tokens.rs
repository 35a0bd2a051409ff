//! Access tokens at the door, refresh-token rotation, reuse detection and logout.

use futures::future::join_all;
use mhmanus_domain::auth::jwt::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, JwtSettings};
use mhmanus_domain::auth::refresh;
use mhmanus_domain::auth::role::Role;
use serde_json::{Value, json};

use super::{AuthApp, Database, header, jwt, now_secs, problem};

fn text(value: &Value) -> &str {
    value.as_str().unwrap()
}

async fn refresh(app: &AuthApp, token: &str) -> mhmanus_tests::Reply {
    app.post("/v1/auth/refresh", &json!({"refresh_token": token}))
        .await
}

async fn rotation_and_reuse_detection(database: Database) {
    let app = AuthApp::start(database).await;
    let (_, login) = app.session().await;
    let first = text(&login["refresh_token"]);

    let reply = refresh(&app, first).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rotated = reply.json();
    let second = text(&rotated["refresh_token"]);
    assert_ne!(first, second);
    assert_eq!(rotated["token_type"], "Bearer");
    let token = text(&rotated["access_token"]);
    assert_eq!(app.get_with("/v1/auth/profile", token).await.status, 200);

    // At once, the rotated-away token is a duplicate: refused, the family lives.
    let reply = refresh(&app, first).await;
    problem(&reply, 401);
    assert!(header(&reply, "www-authenticate").contains("invalid_token"));
    let reply = refresh(&app, second).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let third = reply.json();

    // Past the grace it is reuse of a copy: the whole family dies.
    let grace = refresh::REUSE_GRACE_MS as u64 + 100;
    tokio::time::sleep(std::time::Duration::from_millis(grace)).await;
    problem(&refresh(&app, first).await, 401);
    problem(&refresh(&app, text(&third["refresh_token"])).await, 401);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family_on_sqlite() {
    rotation_and_reuse_detection(Database::Sqlite).await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family_on_postgres() {
    rotation_and_reuse_detection(Database::Postgres).await;
}

async fn one_winner_among_parallel_refreshes(database: Database) {
    let app = AuthApp::start(database).await;
    let (_, login) = app.session().await;
    let token = text(&login["refresh_token"]);
    let replies = join_all((0..10).map(|_| refresh(&app, token))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        9,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn ten_parallel_uses_of_one_refresh_token_succeed_once_on_sqlite() {
    one_winner_among_parallel_refreshes(Database::Sqlite).await;
}

#[tokio::test]
async fn ten_parallel_uses_of_one_refresh_token_succeed_once_on_postgres() {
    one_winner_among_parallel_refreshes(Database::Postgres).await;
}

#[tokio::test]
async fn logout_revokes_the_presented_token_or_all_of_them() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, login) = app.session().await;
    let access = text(&login["access_token"]);
    let other = app.login(&email, super::PASSWORD).await.json();

    let reply = app
        .json_call(
            "POST",
            "/v1/auth/logout",
            &json!({"refresh_token": login["refresh_token"]}),
            Some(access),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    problem(&refresh(&app, text(&login["refresh_token"])).await, 401);
    // Another session of the same account lives on ...
    let reply = refresh(&app, text(&other["refresh_token"])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let live = reply.json();

    // ... until logout of all of them.
    let reply = app
        .json_call(
            "POST",
            "/v1/auth/logout",
            &json!({"all": true}),
            Some(access),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    problem(&refresh(&app, text(&live["refresh_token"])).await, 401);

    // Logout needs a bearer token, and a token that can exist.
    let reply = app.post("/v1/auth/logout", &json!({"all": true})).await;
    problem(&reply, 401);
    let reply = app
        .json_call(
            "POST",
            "/v1/auth/logout",
            &json!({"refresh_token": ""}),
            Some(access),
        )
        .await;
    assert_eq!(super::invalid_fields(&reply), ["refresh_token"]);
}

/// The door of every bearer route: what is refused, and that a correctly
/// forged token (the secret's holder) is accepted, so the checks bite.
#[tokio::test]
async fn bearer_tokens_are_verified_at_the_door() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, login) = app.session().await;
    let claims = jwt().verify(text(&login["access_token"])).unwrap();
    let now = now_secs();

    let reply = app.runtime.get("/v1/auth/profile").await;
    problem(&reply, 401);
    assert_eq!(
        header(&reply, "www-authenticate"),
        "Bearer realm=\"mhmanus-edge\""
    );

    let wrong_key =
        JwtSettings::new(&[7u8; 40], DEFAULT_ISSUER, DEFAULT_AUDIENCE, 3600, true).unwrap();
    let other_issuer = JwtSettings::new(
        super::SECRET.as_bytes(),
        "someone-else",
        DEFAULT_AUDIENCE,
        3600,
        true,
    )
    .unwrap();
    let refused = [
        ("garbage", "not.a.jwt".to_owned()),
        (
            "wrong key",
            wrong_key.issue(&claims.sub, &email, &[Role::User], now).0,
        ),
        (
            "wrong issuer",
            other_issuer
                .issue(&claims.sub, &email, &[Role::User], now)
                .0,
        ),
        (
            "expired",
            jwt()
                .issue(&claims.sub, &email, &[Role::User], now - 7200)
                .0,
        ),
        (
            "not yet valid",
            jwt()
                .issue(&claims.sub, &email, &[Role::User], now + 7200)
                .0,
        ),
    ];
    for (why, token) in refused {
        let reply = app.get_with("/v1/auth/profile", &token).await;
        problem(&reply, 401);
        let challenge = header(&reply, "www-authenticate");
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{why}: {challenge}"
        );
    }

    let forged = jwt().issue(&claims.sub, &email, &[Role::User], now).0;
    let reply = app.get_with("/v1/auth/profile", &forged).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// However often it is renewed, a session ends 30 days after its login;
/// renewed before that, its token expires no later than that day.
#[tokio::test]
async fn a_session_ends_at_its_maximum_lifetime() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (_, login) = app.session().await;
    let refresh = |token: &Value| json!({"refresh_token": token});
    let reply = app
        .post("/v1/auth/refresh", &refresh(&login["refresh_token"]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let renewed = reply.json();
    let db = rusqlite::Connection::open(app.runtime.data_dir().join("data/sqlite_db.db")).unwrap();
    let day_ms: i64 = 24 * 3600 * 1000;
    let now_ms = now_secs() * 1000;
    let backdate = |days: i64| {
        db.execute(
            "UPDATE refresh_tokens SET family_started_at = ?1",
            [now_ms - days * day_ms],
        )
        .unwrap();
    };

    // Begun 20 days ago: renewed, but only up to day 30.
    backdate(20);
    let reply = app
        .post("/v1/auth/refresh", &refresh(&renewed["refresh_token"]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let last = reply.json();
    let expires: i64 = db
        .query_row(
            "SELECT max(expires_at) FROM refresh_tokens WHERE rotated_at IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        expires <= now_ms + 10 * day_ms + 60_000,
        "expires on day 30"
    );

    // Begun 31 days ago: over.
    backdate(31);
    let reply = app
        .post("/v1/auth/refresh", &refresh(&last["refresh_token"]))
        .await;
    problem(&reply, 401);
}
