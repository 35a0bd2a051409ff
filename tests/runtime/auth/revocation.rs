//! Authority follows the account, not the token (ASVS 5.0 7.4.1, 7.4.3,
//! 8.3.1): every bearer door reads the account, so a deleted account, a
//! removed role, a logout, a password change or an Admin's end-sessions
//! takes effect on the very next request, in auth and production-test
//! alike.

use mhmanus_domain::auth::jwt::{self, Grant};
use mhmanus_domain::auth::role::Role;
use serde_json::{Value, json};

use super::{AuthApp, Database, PASSWORD, header, now_secs, problem};

const ADMIN_PASSWORD: &str = "admin passphrase for revocation tests";

async fn app_with_admin(database: Database) -> (AuthApp, String) {
    let admin = super::unique_email();
    let app = AuthApp::start_with(database, |config| {
        config.admin_email = Some(admin.clone());
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    let login = app.login(&admin, ADMIN_PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text());
    (app, text(&login.json()["access_token"]).to_owned())
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap()
}

/// A fresh account: (id, login JSON).
async fn account(app: &AuthApp) -> (String, Value) {
    let (email, user) = app.register().await;
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text());
    (text(&user["id"]).to_owned(), login.json())
}

fn access(login: &Value) -> &str {
    text(&login["access_token"])
}

async fn set_roles(app: &AuthApp, token: &str, id: &str, roles: Value) -> mhmanus_tests::Reply {
    app.json_call(
        "PUT",
        &format!("/v1/users/{id}/roles"),
        &json!({"roles": roles}),
        Some(token),
    )
    .await
}

/// 401 with the RFC 6750 error for a token that can no longer be used.
fn refused(reply: &mhmanus_tests::Reply) {
    problem(reply, 401);
    assert!(
        header(reply, "www-authenticate").contains("error=\"invalid_token\""),
        "{}",
        reply.text()
    );
}

/// The finding: bob, made Admin, keeps Admin powers with his old token
/// after he is demoted and his sessions ended, and can re-grant them.
async fn a_demoted_admin_loses_admin_powers_at_once(database: Database) {
    let (app, admin) = app_with_admin(database).await;
    let (bob, _) = account(&app).await;
    let (carol, _) = account(&app).await;
    let reply = set_roles(&app, &admin, &bob, json!(["Admin", "User"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let bob_email = reply.json()["email"].as_str().unwrap().to_owned();
    let bob_login = app.login(&bob_email, PASSWORD).await.json();
    let bob_token = access(&bob_login);
    assert_eq!(app.get_with("/v1/users", bob_token).await.status, 200);

    let reply = set_roles(&app, &admin, &bob, json!(["User"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = app
        .call_with("DELETE", &format!("/v1/users/{bob}/sessions"), &admin)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());

    refused(&set_roles(&app, bob_token, &carol, json!(["Admin", "User"])).await);
    refused(&app.get_with("/v1/users", bob_token).await);
    refused(&app.get_with("/v1/production-test/admin", bob_token).await);
    // Carol got nothing.
    let carol_roles = app.stored_roles(&carol).await;
    assert!(!carol_roles.contains("Admin"), "{carol_roles}");
}

#[tokio::test]
async fn a_demoted_admin_loses_admin_powers_at_once_on_sqlite() {
    a_demoted_admin_loses_admin_powers_at_once(Database::Sqlite).await;
}

#[tokio::test]
async fn a_demoted_admin_loses_admin_powers_at_once_on_postgres() {
    a_demoted_admin_loses_admin_powers_at_once(Database::Postgres).await;
}

/// Roles come from the account's row: a token signed with the right
/// secret, in a live session, claiming Admin for a User, opens nothing.
async fn roles_are_read_from_the_account_not_the_token(database: Database) {
    let app = AuthApp::start(database).await;
    let (id, login) = account(&app).await;
    let claims = super::jwt().verify(access(&login)).unwrap();
    let grant = Grant {
        sub: &id,
        email: &claims.email,
        roles: &[Role::Admin, Role::User],
        sid: &claims.sid,
        generation: claims.generation,
    };
    let elevated = super::jwt().issue(grant, now_secs()).0;
    // The token itself is good: the profile opens ...
    assert_eq!(
        app.get_with("/v1/auth/profile", &elevated).await.status,
        200
    );
    // ... but the Admin doors read the account's roles.
    for path in ["/v1/users", "/v1/production-test/admin"] {
        let reply = app.get_with(path, &elevated).await;
        problem(&reply, 403);
        assert!(header(&reply, "www-authenticate").contains("insufficient_scope"));
    }
}

#[tokio::test]
async fn roles_are_read_from_the_account_not_the_token_on_sqlite() {
    roles_are_read_from_the_account_not_the_token(Database::Sqlite).await;
}

#[tokio::test]
async fn roles_are_read_from_the_account_not_the_token_on_postgres() {
    roles_are_read_from_the_account_not_the_token(Database::Postgres).await;
}

/// An account whose row is gone opens no door, Admin ones included.
async fn a_deleted_account_s_token_opens_nothing(database: Database) {
    let (app, admin) = app_with_admin(database).await;
    let (victim, _) = account(&app).await;
    let (gone, _) = account(&app).await;
    let reply = set_roles(&app, &admin, &gone, json!(["Admin", "User"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let gone_email = reply.json()["email"].as_str().unwrap().to_owned();
    let token = access(&app.login(&gone_email, PASSWORD).await.json()).to_owned();
    assert_eq!(app.get_with("/v1/users", &token).await.status, 200);

    app.sql("DELETE FROM users WHERE id = $1", &gone).await;
    refused(&app.get_with("/v1/auth/profile", &token).await);
    refused(&app.get_with("/v1/users", &token).await);
    refused(&set_roles(&app, &token, &victim, json!(["Admin"])).await);
    refused(
        &app.call_with("DELETE", &format!("/v1/users/{victim}/sessions"), &token)
            .await,
    );
    for route in ["protected", "admin", "all-features"] {
        refused(
            &app.get_with(&format!("/v1/production-test/{route}"), &token)
                .await,
        );
    }
}

#[tokio::test]
async fn a_deleted_account_s_token_opens_nothing_on_sqlite() {
    a_deleted_account_s_token_opens_nothing(Database::Sqlite).await;
}

#[tokio::test]
async fn a_deleted_account_s_token_opens_nothing_on_postgres() {
    a_deleted_account_s_token_opens_nothing(Database::Postgres).await;
}

/// Logout ends the session's access tokens; logout of all sessions, a
/// password change and an Admin's end-sessions end every one of the
/// account's, each on the next request.
async fn access_tokens_end_with_their_sessions(database: Database) {
    let (app, admin) = app_with_admin(database).await;
    let logout = |token: String, body: Value| {
        let app = &app;
        async move {
            let reply = app
                .json_call("POST", "/v1/auth/logout", &body, Some(&token))
                .await;
            assert_eq!(reply.status, 204, "{}", reply.text());
        }
    };
    let opens = |token: String| {
        let app = &app;
        async move {
            let profile = app.get_with("/v1/auth/profile", &token).await.status;
            let protected = app
                .get_with("/v1/production-test/protected", &token)
                .await
                .status;
            assert_eq!(profile, protected, "one door for both components");
            profile == 200
        }
    };

    // Logout of one session: its token ends, the other session's lives.
    let (email, first) = app.session().await;
    let second = app.login(&email, PASSWORD).await.json();
    logout(
        access(&first).to_owned(),
        json!({"refresh_token": first["refresh_token"]}),
    )
    .await;
    assert!(!opens(access(&first).to_owned()).await);
    assert!(opens(access(&second).to_owned()).await);

    // Logout of all of them.
    let third = app.login(&email, PASSWORD).await.json();
    logout(access(&second).to_owned(), json!({"all": true})).await;
    assert!(!opens(access(&second).to_owned()).await);
    assert!(!opens(access(&third).to_owned()).await);

    // A password change, from the session that makes it.
    let (email, login) = app.session().await;
    let other = app.login(&email, PASSWORD).await.json();
    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}),
            Some(access(&login)),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(!opens(access(&login).to_owned()).await);
    assert!(!opens(access(&other).to_owned()).await);

    // An Admin ending the sessions.
    let (id, login) = account(&app).await;
    assert!(opens(access(&login).to_owned()).await);
    let reply = app
        .call_with("DELETE", &format!("/v1/users/{id}/sessions"), &admin)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(!opens(access(&login).to_owned()).await);
    // The Admin's own token was not touched by any of it.
    assert_eq!(app.get_with("/v1/users", &admin).await.status, 200);
}

#[tokio::test]
async fn access_tokens_end_with_their_sessions_on_sqlite() {
    access_tokens_end_with_their_sessions(Database::Sqlite).await;
}

#[tokio::test]
async fn access_tokens_end_with_their_sessions_on_postgres() {
    access_tokens_end_with_their_sessions(Database::Postgres).await;
}

/// A refresh after a role change gives a token with the new roles, in the
/// same session: a role change does not sign anyone out.
#[tokio::test]
async fn a_role_change_ends_access_tokens_but_not_the_session() {
    let (app, admin) = app_with_admin(Database::Sqlite).await;
    let (id, login) = account(&app).await;
    let reply = set_roles(&app, &admin, &id, json!(["Developer", "User"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    refused(&app.get_with("/v1/auth/profile", access(&login)).await);
    let renewed = app
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let token = access(&renewed.json()).to_owned();
    let claims = super::jwt().verify(&token).unwrap();
    assert_eq!(claims.roles, vec![Role::User, Role::Developer]);
    assert_eq!(app.get_with("/v1/auth/profile", &token).await.status, 200);
}

/// A token of the kind issued before tokens carried their session (typed
/// `JWT`, no `sid`) is refused: issue 36's T9 ended the transition early,
/// as the last such token expired within an hour of the upgrade.
#[tokio::test]
async fn a_token_from_before_sessions_is_refused() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (id, login) = account(&app).await;
    let claims = super::jwt().verify(access(&login)).unwrap();
    let now = now_secs();
    // What this service issued before access tokens carried a session:
    // typed plain JWT, without `sid` and `gen`.
    let before_sessions = json!({
        "sub": id, "email": claims.email, "roles": ["User"],
        "iat": now, "nbf": now, "exp": now + 3600,
        "iss": jwt::DEFAULT_ISSUER, "aud": jwt::DEFAULT_AUDIENCE, "jti": "before-sessions",
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &before_sessions,
        &jsonwebtoken::EncodingKey::from_secret(super::SECRET.as_bytes()),
    )
    .unwrap();
    refused(&app.get_with("/v1/auth/profile", &token).await);
    assert_eq!(
        app.get_with("/v1/auth/profile", access(&login))
            .await
            .status,
        200
    );
}
