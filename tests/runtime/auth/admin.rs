//! The bootstrap Admin and user administration.

use mhmanus_tests::POSTGRES_URL;
use serde_json::{Value, json};

use super::{AuthApp, Database, PASSWORD, header, invalid_fields, problem, unique_email};

const ADMIN_PASSWORD: &str = "admin passphrase for tests";

async fn admin_app(database: Database) -> (AuthApp, String) {
    let admin = unique_email();
    let app = AuthApp::start_with(database, |config| {
        config.admin_email = Some(admin.clone());
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    (app, admin)
}

async fn token(app: &AuthApp, email: &str, password: &str) -> String {
    let reply = app.login(email, password).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
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

async fn end_sessions(app: &AuthApp, token: &str, id: &str) -> mhmanus_tests::Reply {
    app.call_with("DELETE", &format!("/v1/users/{id}/sessions"), token)
        .await
}

async fn admin_bootstrap_and_role_management(database: Database) {
    let (app, admin) = admin_app(database).await;
    let admin_token = token(&app, &admin, ADMIN_PASSWORD).await;
    let profile = app.get_with("/v1/auth/profile", &admin_token).await.json();
    let admin_id = profile["id"].as_str().unwrap().to_owned();
    assert!(
        profile["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("Admin")),
        "{profile}"
    );

    let (email, user) = app.register().await;
    let user_token = token(&app, &email, PASSWORD).await;
    let id = user["id"].as_str().unwrap();

    // A User may not list users or change roles.
    let reply = app.get_with("/v1/users", &user_token).await;
    problem(&reply, 403);
    assert!(header(&reply, "www-authenticate").contains("insufficient_scope"));
    problem(
        &set_roles(&app, &user_token, id, json!(["Admin"])).await,
        403,
    );

    // An Admin may.
    let reply = set_roles(&app, &admin_token, id, json!(["Developer", "User"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["roles"], json!(["User", "Developer"]));
    let relogin = token(&app, &email, PASSWORD).await;
    let profile = app.get_with("/v1/auth/profile", &relogin).await.json();
    assert_eq!(profile["roles"], json!(["User", "Developer"]));

    assert_eq!(
        invalid_fields(&set_roles(&app, &admin_token, id, json!(["Root"])).await),
        ["roles"]
    );
    assert_eq!(
        invalid_fields(&set_roles(&app, &admin_token, id, json!([])).await),
        ["roles"]
    );
    // Not even an Admin changes their own roles (no self-grant, no lock-out).
    problem(
        &set_roles(&app, &admin_token, &admin_id, json!(["User"])).await,
        403,
    );

    let missing = uuid::Uuid::new_v4().to_string();
    problem(
        &set_roles(&app, &admin_token, &missing, json!(["User"])).await,
        404,
    );

    let reply = app
        .get_with("/v1/users?page=1&perPage=2", &admin_token)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.json();
    assert_eq!(page["page"], 1);
    assert_eq!(page["perPage"], 2);
    assert!(page["total"].as_u64().unwrap() >= 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(!reply.text().contains("argon2"));
    assert_eq!(
        invalid_fields(&app.get_with("/v1/users?perPage=1000", &admin_token).await),
        ["perPage"]
    );
}

#[tokio::test]
async fn the_bootstrap_admin_manages_roles_on_sqlite() {
    admin_bootstrap_and_role_management(Database::Sqlite).await;
}

#[tokio::test]
async fn the_bootstrap_admin_manages_roles_on_postgres() {
    admin_bootstrap_and_role_management(Database::Postgres).await;
}

/// Bootstrapping again (a restart, another instance) neither duplicates the
/// account nor resets its password.
#[tokio::test]
async fn the_admin_bootstrap_is_idempotent() {
    let admin = unique_email();
    let first = AuthApp::start_with(Database::Postgres, |config| {
        config.admin_email = Some(admin.clone());
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    token(&first, &admin, ADMIN_PASSWORD).await;
    let second = AuthApp::start_with(Database::Postgres, |config| {
        config.admin_email = Some(admin.to_uppercase());
        config.admin_password = Some("a different password now".into());
    })
    .await;
    let admin_token = token(&second, &admin, ADMIN_PASSWORD).await;
    assert_eq!(
        second
            .login(&admin, "a different password now")
            .await
            .status,
        401
    );
    assert_eq!(second.get_with("/v1/users", &admin_token).await.status, 200);
    let (db, connection) = tokio_postgres::connect(POSTGRES_URL, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = db
        .query_one(
            "SELECT count(*) FROM users WHERE email_key = $1",
            &[&admin.to_lowercase()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
}

/// Issue 36's T3: an Admin the bootstrap made promotes another account,
/// which demotes the bootstrap account. New instances (a restart, a scale
/// up), even with a changed `admin_password`, leave the demotion standing,
/// and the reports call the account retired, not a failed bootstrap.
async fn a_demoted_bootstrap_admin_stays_demoted(database: Database) {
    let dir = tempfile::tempdir().unwrap();
    let admin = unique_email();
    let start = |password: &'static str| {
        let (data, admin) = (dir.path().to_owned(), admin.clone());
        AuthApp::start_with(database, move |config| {
            config.data_dir = data;
            config.admin_email = Some(admin);
            config.admin_password = Some(password.into());
        })
    };
    let app = start(ADMIN_PASSWORD).await;
    let admin_token = token(&app, &admin, ADMIN_PASSWORD).await;
    let admin_id = app.get_with("/v1/auth/profile", &admin_token).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (email, user) = app.register().await;
    let id = user["id"].as_str().unwrap();
    let reply = set_roles(&app, &admin_token, id, json!(["Admin", "User"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let other_token = token(&app, &email, PASSWORD).await;
    let reply = set_roles(&app, &other_token, &admin_id, json!(["User"])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    drop(app);

    for password in [ADMIN_PASSWORD, "a later admin passphrase"] {
        let app = start(password).await;
        let demoted = token(&app, &admin, ADMIN_PASSWORD).await;
        let profile = app.get_with("/v1/auth/profile", &demoted).await.json();
        assert_eq!(profile["roles"], json!(["User"]), "{password}");
        problem(&app.get_with("/v1/users", &demoted).await, 403);
        let config = app.host.get("/v1/production-test/config").await.json();
        assert_eq!(config["admin"]["state"], "retired", "{config}");
        let health = app.host.get("/health").await.json();
        assert_eq!(health["checks"]["admin:bootstrap"][0]["status"], "pass");
    }
}

#[tokio::test]
async fn a_demoted_bootstrap_admin_stays_demoted_on_sqlite() {
    a_demoted_bootstrap_admin_stays_demoted(Database::Sqlite).await;
}

#[tokio::test]
async fn a_demoted_bootstrap_admin_stays_demoted_on_postgres() {
    a_demoted_bootstrap_admin_stays_demoted(Database::Postgres).await;
}

/// An account someone registered under the admin address before the
/// operator configured it is not promoted unless it has that password.
#[tokio::test]
async fn the_bootstrap_does_not_promote_a_stranger_s_account() {
    let admin = unique_email();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let early =
        AuthApp::start_with(Database::Sqlite, |config| config.data_dir = data.clone()).await;
    let reply = early
        .post(
            "/v1/auth/register",
            &json!({"email": admin, "password": PASSWORD, "name": "Squatter"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    drop(early);

    let app = AuthApp::start_with(Database::Sqlite, |config| {
        config.data_dir = data;
        config.admin_email = Some(admin.clone());
        config.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    let squatter = token(&app, &admin, PASSWORD).await;
    let profile = app.get_with("/v1/auth/profile", &squatter).await.json();
    assert_eq!(profile["roles"], json!(["User"]));
    problem(&app.get_with("/v1/users", &squatter).await, 403);

    // Nothing claims an Admin was bootstrapped: the configuration report
    // says so, and /health warns (still 200: the service serves).
    let config = app.host.get("/v1/production-test/config").await.json();
    assert_eq!(config["admin"]["configured"], false, "{config}");
    assert_eq!(config["admin"]["state"], "not-promoted");
    let health = app.host.get("/health").await;
    assert_eq!(health.status, 200, "{}", health.text());
    let check = &health.json()["checks"]["admin:bootstrap"][0];
    assert_eq!(check["status"], "warn", "{}", health.text());
    assert_eq!(check["observedValue"], "not-promoted");
    assert!(!health.text().contains(&admin));
}

/// ASVS 7.4.5: an Admin ends every session of one account, at once; other
/// accounts' sessions (the Admin's own) are untouched.
async fn an_admin_ends_a_user_s_sessions(database: Database) {
    let (app, admin) = admin_app(database).await;
    let admin_login = app.login(&admin, ADMIN_PASSWORD).await.json();
    let admin_token = admin_login["access_token"].as_str().unwrap();
    let (email, first) = app.session().await;
    let second = app.login(&email, PASSWORD).await.json();
    let user_token = first["access_token"].as_str().unwrap();
    let id = app.get_with("/v1/auth/profile", user_token).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Only an Admin may, and only for an account that exists.
    problem(&end_sessions(&app, user_token, &id).await, 403);
    let missing = uuid::Uuid::new_v4().to_string();
    problem(&end_sessions(&app, admin_token, &missing).await, 404);

    let reply = end_sessions(&app, admin_token, &id).await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    for session in [&first, &second] {
        let refresh = app
            .post(
                "/v1/auth/refresh",
                &json!({"refresh_token": session["refresh_token"]}),
            )
            .await;
        problem(&refresh, 401);
    }
    // Ending them again changes nothing; the Admin's own session lives on,
    // and the user can sign in again.
    assert_eq!(end_sessions(&app, admin_token, &id).await.status, 204);
    let refresh = app
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": admin_login["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, 200, "{}", refresh.text());
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn an_admin_ends_a_user_s_sessions_on_sqlite() {
    an_admin_ends_a_user_s_sessions(Database::Sqlite).await;
}

#[tokio::test]
async fn an_admin_ends_a_user_s_sessions_on_postgres() {
    an_admin_ends_a_user_s_sessions(Database::Postgres).await;
}
