//! Access tokens at the door, refresh-token rotation, reuse detection and logout.

use futures::future::join_all;
use mhmanus_domain::auth::jwt::{Claims, DEFAULT_AUDIENCE, DEFAULT_ISSUER, Grant, JwtSettings};
use mhmanus_domain::auth::role::Role;
use mhmanus_tests::Reply;
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
    assert_eq!(reply.status, 200, "{}", reply.text());
    let rotated = reply.json();
    let second = text(&rotated["refresh_token"]);
    assert_ne!(first, second);
    assert_eq!(rotated["token_type"], "Bearer");
    let token = text(&rotated["access_token"]);
    assert_eq!(app.get_with("/v1/auth/profile", token).await.status, 200);

    // Presented again, even at once, the rotated-away token is reuse of a
    // copy (RFC 9700 4.14): the whole family dies, the successor's access
    // token with it.
    let reply = refresh(&app, first).await;
    problem(&reply, 401);
    assert!(header(&reply, "www-authenticate").contains("invalid_token"));
    problem(&refresh(&app, second).await, 401);
    problem(&app.get_with("/v1/auth/profile", token).await, 401);
}

/// With `refresh_reuse_grace_secs`, a duplicate within the window is only
/// refused (a client's retry); past it, reuse revokes the family.
async fn a_configured_grace_spares_a_duplicate(database: Database) {
    let app = AuthApp::start_with(database, |config| {
        config
            .variables
            .push(("refresh_reuse_grace_secs".into(), "1".into()));
    })
    .await;
    let (_, login) = app.session().await;
    let first = text(&login["refresh_token"]);
    let reply = refresh(&app, first).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let second = reply.json();

    problem(&refresh(&app, first).await, 401);
    let reply = refresh(&app, text(&second["refresh_token"])).await;
    assert_eq!(
        reply.status,
        200,
        "within the grace the family lives: {}",
        reply.text()
    );
    let third = reply.json();

    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    problem(&refresh(&app, first).await, 401);
    problem(&refresh(&app, text(&third["refresh_token"])).await, 401);
}

#[tokio::test]
async fn a_configured_grace_spares_a_duplicate_on_sqlite() {
    a_configured_grace_spares_a_duplicate(Database::Sqlite).await;
}

#[tokio::test]
async fn a_configured_grace_spares_a_duplicate_on_postgres() {
    a_configured_grace_spares_a_duplicate(Database::Postgres).await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family_on_sqlite() {
    rotation_and_reuse_detection(Database::Sqlite).await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family_on_postgres() {
    rotation_and_reuse_detection(Database::Postgres).await;
}

/// Ten parallel uses of one refresh token: nine are reuse. By default
/// that ends the session whoever won (at most one 200, and its tokens die
/// with the family); with a grace the duplicates are only refused, and the
/// one winner's session goes on.
async fn parallel_refreshes(database: Database, grace_secs: &str) {
    let app = AuthApp::start_with(database, |config| {
        config
            .variables
            .push(("refresh_reuse_grace_secs".into(), grace_secs.into()));
    })
    .await;
    let (_, login) = app.session().await;
    let token = text(&login["refresh_token"]);
    let replies = join_all((0..10).map(|_| refresh(&app, token))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 401)),
        "{statuses:?}"
    );
    let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    let session_lives = grace_secs != "0";
    if session_lives {
        assert_eq!(winners.len(), 1, "{statuses:?}");
    } else {
        assert!(winners.len() <= 1, "{statuses:?}");
    }
    for winner in winners {
        let tokens = winner.json();
        let profile = app
            .get_with("/v1/auth/profile", text(&tokens["access_token"]))
            .await;
        let successor = refresh(&app, text(&tokens["refresh_token"])).await;
        let expected = if session_lives { 200 } else { 401 };
        assert_eq!(
            (profile.status.as_u16(), successor.status.as_u16()),
            (expected, expected)
        );
    }
}

#[tokio::test]
async fn ten_parallel_uses_of_one_refresh_token_end_the_session_on_sqlite() {
    parallel_refreshes(Database::Sqlite, "0").await;
}

#[tokio::test]
async fn ten_parallel_uses_of_one_refresh_token_end_the_session_on_postgres() {
    parallel_refreshes(Database::Postgres, "0").await;
}

#[tokio::test]
async fn within_a_grace_ten_parallel_uses_succeed_once_on_sqlite() {
    parallel_refreshes(Database::Sqlite, "10").await;
}

#[tokio::test]
async fn within_a_grace_ten_parallel_uses_succeed_once_on_postgres() {
    parallel_refreshes(Database::Postgres, "10").await;
}

/// Issue 36's T1: a thief rotates the victim's refresh token; the victim
/// logs out with the old one, which ends the session, the thief's tokens
/// included. That stays so when the old token's row expires and a later
/// login purges expired rows: the session does not come back to life.
async fn a_logged_out_session_stays_dead_after_a_purge(database: Database) {
    let app = AuthApp::start(database).await;
    let (email, victim) = app.session().await;
    let victim_refresh = text(&victim["refresh_token"]);
    let thief = refresh(&app, victim_refresh).await.json();
    let (thief_access, thief_refresh) =
        (text(&thief["access_token"]), text(&thief["refresh_token"]));
    let reply = app
        .json_call(
            "POST",
            "/v1/auth/logout",
            &json!({"refresh_token": victim_refresh}),
            Some(text(&victim["access_token"])),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    problem(&app.get_with("/v1/auth/profile", thief_access).await, 401);
    // Fourteen days pass for the victim's old token, not yet for the thief's.
    app.sql(
        "UPDATE refresh_tokens SET expires_at = 1 WHERE token_hash = $1",
        &mhmanus_domain::auth::refresh::hash(victim_refresh),
    )
    .await;
    assert_eq!(app.login(&email, super::PASSWORD).await.status, 200);
    problem(&app.get_with("/v1/auth/profile", thief_access).await, 401);
    problem(&refresh(&app, thief_refresh).await, 401);
}

#[tokio::test]
async fn a_logged_out_session_stays_dead_after_a_purge_on_sqlite() {
    a_logged_out_session_stays_dead_after_a_purge(Database::Sqlite).await;
}

#[tokio::test]
async fn a_logged_out_session_stays_dead_after_a_purge_on_postgres() {
    a_logged_out_session_stays_dead_after_a_purge(Database::Postgres).await;
}

/// Issue 36's T2: logins with the old password racing a password change
/// (at +0, 20, 40, 60 ms, in several trials) either finish before it, and
/// the change ends their sessions, or are refused: no session of the old
/// password survives it.
async fn no_session_of_the_old_password_survives_its_change(database: Database) {
    const NEW: &str = "a brand new passphrase";
    let app = AuthApp::start(database).await;
    for _ in 0..6 {
        let (email, session) = app.session().await;
        let access = text(&session["access_token"]).to_owned();
        let body = json!({"currentPassword": super::PASSWORD, "newPassword": NEW});
        let change = app.json_call("PATCH", "/v1/auth/profile", &body, Some(&access));
        let logins = join_all((0..4u64).map(|i| {
            let (app, email) = (&app, &email);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(20 * i)).await;
                app.login(email, super::PASSWORD).await
            }
        }));
        let (changed, logins) = futures::join!(change, logins);
        assert_eq!(changed.status, 200, "{}", changed.text());
        for login in logins.iter().filter(|login| login.status == 200) {
            let tokens = login.json();
            problem(&refresh(&app, text(&tokens["refresh_token"])).await, 401);
            problem(
                &app.get_with("/v1/auth/profile", text(&tokens["access_token"]))
                    .await,
                401,
            );
        }
        assert_eq!(app.login(&email, NEW).await.status, 200);
    }
}

#[tokio::test]
async fn no_session_of_the_old_password_survives_its_change_on_sqlite() {
    no_session_of_the_old_password_survives_its_change(Database::Sqlite).await;
}

#[tokio::test]
async fn no_session_of_the_old_password_survives_its_change_on_postgres() {
    no_session_of_the_old_password_survives_its_change(Database::Postgres).await;
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
    assert_eq!(reply.status, 204, "{}", reply.text());
    problem(&refresh(&app, text(&login["refresh_token"])).await, 401);
    // Another session of the same account lives on ...
    let reply = refresh(&app, text(&other["refresh_token"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let live = reply.json();

    // Logout needs a bearer token, and a token that can exist.
    let live_access = text(&live["access_token"]);
    let reply = app.post("/v1/auth/logout", &json!({"all": true})).await;
    problem(&reply, 401);
    let reply = app
        .json_call(
            "POST",
            "/v1/auth/logout",
            &json!({"refresh_token": ""}),
            Some(live_access),
        )
        .await;
    assert_eq!(super::invalid_fields(&reply), ["refresh_token"]);

    // ... until logout of all of them.
    let reply = app
        .json_call(
            "POST",
            "/v1/auth/logout",
            &json!({"all": true}),
            Some(live_access),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    problem(&refresh(&app, text(&live["refresh_token"])).await, 401);
}

fn grant(claims: &Claims) -> Grant<'_> {
    Grant {
        sub: &claims.sub,
        email: &claims.email,
        roles: &[Role::User],
        sid: &claims.sid,
        generation: claims.generation,
    }
}

/// Signs `claims` as bent by a test, with `header`.
fn signed(header: &jsonwebtoken::Header, claims: &Value) -> String {
    jsonwebtoken::encode(
        header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(super::SECRET.as_bytes()),
    )
    .unwrap()
}

/// The door of every bearer route: what is refused, and that a correctly
/// forged token (the secret's holder) is accepted, so the checks bite.
async fn bearer_tokens_are_verified_at_the_door(database: Database) {
    let app = AuthApp::start(database).await;
    let (_, login) = app.session().await;
    let claims = jwt().verify(text(&login["access_token"])).unwrap();
    let now = now_secs();

    let reply = app.host.get("/v1/auth/profile").await;
    problem(&reply, 401);
    assert_eq!(
        header(&reply, "www-authenticate"),
        "Bearer realm=\"mhmanus-edge\""
    );

    let wrong_key =
        JwtSettings::new(&[7u8; 40], DEFAULT_ISSUER, DEFAULT_AUDIENCE, 3600, false).unwrap();
    let other_issuer = JwtSettings::new(
        super::SECRET.as_bytes(),
        "someone-else",
        DEFAULT_AUDIENCE,
        3600,
        false,
    )
    .unwrap();
    let longer_lived = JwtSettings::new(
        super::SECRET.as_bytes(),
        DEFAULT_ISSUER,
        DEFAULT_AUDIENCE,
        7200,
        false,
    )
    .unwrap();
    // RFC 8725: the type, `crit`, and the times a token claims.
    let as_json = serde_json::to_value(&claims).unwrap();
    let mut typed = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    typed.typ = Some("at+jwt".into());
    let mut critical = typed.clone();
    critical.crit = Some(vec!["exp".into()]);
    let mut untyped = typed.clone();
    untyped.typ = None;
    let mut issued_ahead = as_json.clone();
    issued_ahead["iat"] = json!(now + 600);
    let refused = [
        ("garbage", "not.a.jwt".to_owned()),
        ("wrong key", wrong_key.issue(grant(&claims), now).0),
        ("wrong issuer", other_issuer.issue(grant(&claims), now).0),
        ("expired", jwt().issue(grant(&claims), now - 7200).0),
        ("not yet valid", jwt().issue(grant(&claims), now + 7200).0),
        (
            "longer lived than issued",
            longer_lived.issue(grant(&claims), now).0,
        ),
        ("crit", signed(&critical, &as_json)),
        ("no typ", signed(&untyped, &as_json)),
        (
            "JWT typ with a session",
            signed(&jsonwebtoken::Header::default(), &as_json),
        ),
        ("issued in the future", signed(&typed, &issued_ahead)),
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

    let forged = jwt().issue(grant(&claims), now).0;
    let reply = app.get_with("/v1/auth/profile", &forged).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        app.get_with("/v1/auth/profile", &signed(&typed, &as_json))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn bearer_tokens_are_verified_at_the_door_on_sqlite() {
    bearer_tokens_are_verified_at_the_door(Database::Sqlite).await;
}

#[tokio::test]
async fn bearer_tokens_are_verified_at_the_door_on_postgres() {
    bearer_tokens_are_verified_at_the_door(Database::Postgres).await;
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
    assert_eq!(reply.status, 200, "{}", reply.text());
    let renewed = reply.json();
    let db = rusqlite::Connection::open(app.host.data_dir().join("data/sqlite_db.db")).unwrap();
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
    assert_eq!(reply.status, 200, "{}", reply.text());
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
