//! Registration, the profile, and password changes.

use futures::future::join_all;
use serde_json::json;

use super::{AuthApp, Database, PASSWORD, header, invalid_fields, jwt, problem, unique_email};

async fn register_login_and_read_the_profile(database: Database) {
    let app = AuthApp::start(database).await;
    let email = unique_email();
    let reply = app
        .post(
            "/v1/auth/register",
            &json!({"email": format!("  {}  ", email.to_uppercase()), "password": PASSWORD, "name": " Ada "}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let user = reply.json();
    assert_eq!(user["email"], email.to_uppercase(), "trimmed, as typed");
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["roles"], json!(["User"]));
    assert!(user["id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(!reply.text().contains("argon2") && !reply.text().contains("password"));

    // Emails compare case-insensitively.
    let reply = app.login(&email, PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let login = reply.json();
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 3600);
    assert_eq!(login["refresh_token"].as_str().unwrap().len(), 43);
    let claims = jwt()
        .verify(login["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.sub, user["id"].as_str().unwrap());
    assert_eq!(claims.exp - claims.iat, 3600);

    let token = login["access_token"].as_str().unwrap();
    for path in ["/v1/auth/profile", "/auth/profile"] {
        let reply = app.get_with(path, token).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.json()["id"], user["id"]);
        assert_eq!(reply.json()["email"], user["email"]);
    }
}

#[tokio::test]
async fn register_login_and_profile_on_sqlite() {
    register_login_and_read_the_profile(Database::Sqlite).await;
}

#[tokio::test]
async fn register_login_and_profile_on_postgres() {
    register_login_and_read_the_profile(Database::Postgres).await;
}

/// The original system's curl examples, verbatim apart from the host.
#[tokio::test]
async fn the_original_unversioned_routes_and_test_password_work() {
    let app = AuthApp::start(Database::Sqlite).await;
    let reply = app
        .post(
            "/auth/register",
            &json!({"email":"test@example.com","password":"Test123!","name":"Test User"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let reply = app
        .post(
            "/auth/login",
            &json!({"email":"test@example.com","password":"Test123!"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_with("/auth/profile", &token).await.status, 200);
}

async fn one_account_per_email(database: Database) {
    let app = AuthApp::start(database).await;
    let email = unique_email();
    let attempts = (0..20).map(|i| {
        let body = json!({"email": if i % 2 == 0 { email.clone() } else { email.to_uppercase() }, "password": PASSWORD, "name": "Racer"});
        let app = &app;
        async move { app.post("/v1/auth/register", &body).await }
    });
    let replies = join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, 19),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let conflict = replies.iter().find(|r| r.status == 409).unwrap();
    problem(conflict, 409);
}

#[tokio::test]
async fn twenty_parallel_registrations_of_one_email_create_one_account_on_sqlite() {
    one_account_per_email(Database::Sqlite).await;
}

#[tokio::test]
async fn twenty_parallel_registrations_of_one_email_create_one_account_on_postgres() {
    one_account_per_email(Database::Postgres).await;
}

#[tokio::test]
async fn the_password_policy_rejects_weak_passwords_and_accepts_long_ones() {
    let app = AuthApp::start(Database::Sqlite).await;
    let email = unique_email();
    for (password, why) in [
        ("short1!", "too short"),
        ("password123", "common"),
        ("Qwertyuiop", "common, any case"),
        (email.as_str(), "the email"),
    ] {
        let reply = app
            .post(
                "/v1/auth/register",
                &json!({"email": email, "password": password, "name": "X"}),
            )
            .await;
        assert_eq!(invalid_fields(&reply), ["password"], "{why}");
    }
    let too_long = "a".repeat(129);
    let reply = app
        .post(
            "/v1/auth/register",
            &json!({"email": email, "password": too_long, "name": "X"}),
        )
        .await;
    assert_eq!(invalid_fields(&reply), ["password"]);

    // 128 characters are kept whole: the 127-character prefix does not log in.
    let longest = format!("{}Z", "b7".repeat(63) + "x");
    assert_eq!(longest.chars().count(), 128);
    let reply = app
        .post(
            "/v1/auth/register",
            &json!({"email": email, "password": longest, "name": "X"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(app.login(&email, &longest[..127]).await.status, 401);
    assert_eq!(app.login(&email, &longest).await.status, 200);
}

#[tokio::test]
async fn profile_updates_the_name_and_changes_the_password_with_the_current_one() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, login) = app.session().await;
    let token = login["access_token"].as_str().unwrap();
    let refresh_token = login["refresh_token"].as_str().unwrap();

    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"name": "Renamed"}),
            Some(token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["name"], "Renamed");
    assert_eq!(
        app.get_with("/v1/auth/profile", token).await.json()["name"],
        "Renamed"
    );

    // A new password needs the current one, and the right one.
    let new_password = "a brand new passphrase";
    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"newPassword": new_password}),
            Some(token),
        )
        .await;
    assert_eq!(invalid_fields(&reply), ["currentPassword"]);
    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"currentPassword": "not it at all", "newPassword": new_password}),
            Some(token),
        )
        .await;
    assert_eq!(invalid_fields(&reply), ["currentPassword"]);
    assert_eq!(app.login(&email, PASSWORD).await.status, 200, "unchanged");

    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"currentPassword": PASSWORD, "newPassword": new_password}),
            Some(token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(app.login(&email, PASSWORD).await.status, 401);
    assert_eq!(app.login(&email, new_password).await.status, 200);
    // Changing the password ends every refresh session.
    let reply = app
        .post("/v1/auth/refresh", &json!({"refresh_token": refresh_token}))
        .await;
    problem(&reply, 401);
}

/// A password change checks the current password under the login's
/// slow-down: a stolen token cannot guess it faster than a login could.
#[tokio::test]
async fn guessing_the_current_password_slows_down_as_logins_do() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, session) = app.session().await;
    let token = session["access_token"].as_str().unwrap();
    let change = |current: &str| json!({"currentPassword": current, "newPassword": "a brand new passphrase"});
    for _ in 0..5 {
        let reply = app
            .json_call(
                "PATCH",
                "/v1/auth/profile",
                &change("not it at all"),
                Some(token),
            )
            .await;
        assert_eq!(invalid_fields(&reply), ["currentPassword"]);
    }
    let reply = app
        .json_call("PATCH", "/v1/auth/profile", &change(PASSWORD), Some(token))
        .await;
    problem(&reply, 429);
    assert_eq!(header(&reply, "retry-after"), "1");
    // The same address: a login waits too.
    problem(&app.login(&email, PASSWORD).await, 429);
}

#[tokio::test]
async fn nobody_grants_themselves_a_role() {
    let app = AuthApp::start(Database::Sqlite).await;
    let reply = app
        .post(
            "/v1/auth/register",
            &json!({"email": unique_email(), "password": PASSWORD, "name": "X", "roles": ["Admin"]}),
        )
        .await;
    assert_eq!(invalid_fields(&reply), ["roles"]);

    let (_, login) = app.session().await;
    let token = login["access_token"].as_str().unwrap();
    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"roles": ["Admin"]}),
            Some(token),
        )
        .await;
    assert!(invalid_fields(&reply).contains(&"roles".to_owned()));
    let profile = app.get_with("/v1/auth/profile", token).await.json();
    assert_eq!(profile["roles"], json!(["User"]));
}

/// A deleted account takes its sessions with it: its refresh tokens go
/// with the row, and its still-unexpired access token opens nothing.
#[tokio::test]
async fn a_deleted_account_ends_its_sessions() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, login) = app.session().await;
    let db = rusqlite::Connection::open(app.host.data_dir().join("data/sqlite_db.db")).unwrap();
    db.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    db.execute(
        "DELETE FROM users WHERE email_key = ?1",
        [email.to_lowercase()],
    )
    .unwrap();
    let token = login["access_token"].as_str().unwrap();
    let reply = app.get_with("/v1/auth/profile", token).await;
    problem(&reply, 401);
    let refresh = json!({"refresh_token": login["refresh_token"]});
    problem(&app.post("/v1/auth/refresh", &refresh).await, 401);
    let left: i64 = db
        .query_row("SELECT count(*) FROM refresh_tokens", [], |row| row.get(0))
        .unwrap();
    assert_eq!(left, 0, "the refresh tokens went with the account");
}

/// Addresses a person cannot tell from the Admin's do not make accounts
/// of their own: a look-alike that normal forms and case folding equate
/// (a Kelvin sign, fullwidth letters) is the same account, one that they
/// cannot (invisible characters, a Cyrillic letter among Latin ones, a
/// whole local part in Cyrillic letters that pass for Latin) is refused,
/// on both databases.
async fn look_alike_emails_are_one_account_or_none(database: Database) {
    let app = AuthApp::start(database).await;
    let local = format!("kate{}", uuid::Uuid::new_v4().simple());
    let email = format!("{local}@example.com");
    let register = |email: String| {
        let app = &app;
        async move {
            app.post(
                "/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "name": "Kate"}),
            )
            .await
        }
    };
    // The Kelvin sign (U+212A) first, as the squatter did: stored as the
    // plain letter, so the account shows what it is.
    let kelvin = format!("\u{212a}{}", &email[1..]);
    let reply = register(kelvin.clone()).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["email"], format!("K{}", &email[1..]));
    problem(&register(email.clone()).await, 409);
    let fullwidth: String = local
        .chars()
        .map(|c| char::from_u32(c as u32 - 0x21 + 0xff01).unwrap())
        .collect();
    problem(&register(format!("{fullwidth}@example.com")).await, 409);
    // One account: every form signs in to it.
    for form in [&email, &kelvin, &email.to_uppercase()] {
        assert_eq!(app.login(form, PASSWORD).await.status, 200, "{form}");
    }

    let coco = uuid::Uuid::new_v4().as_u128() % 1_000_000_000;
    let latin = register(format!("coco{coco}@example.com")).await;
    assert_eq!(latin.status, 201, "{}", latin.text());
    for look_alike in [
        format!("{}\u{200b}{}", &local[..2], &email[2..]),
        format!("{}\u{ad}{}", &local[..2], &email[2..]),
        format!("\u{43a}{}", &email[1..]), // Cyrillic к
        // Wholly in Cyrillic letters that pass for Latin ones (T7): сосо,
        // beside the Latin coco registered first.
        format!("\u{441}\u{43e}\u{441}\u{43e}{coco}@example.com"),
    ] {
        let reply = register(look_alike.clone()).await;
        assert_eq!(invalid_fields(&reply), ["email"], "{look_alike:?}");
    }

    // A domain with a Cyrillic е is another domain, and is shown as one:
    // in its ASCII form, not as the Latin name it imitates (T7).
    let reply = register(format!("{local}@p\u{435}ntest.example")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(
        reply.json()["email"],
        format!("{local}@xn--pntest-3of.example")
    );
}

#[tokio::test]
async fn look_alike_emails_are_one_account_or_none_on_sqlite() {
    look_alike_emails_are_one_account_or_none(Database::Sqlite).await;
}

#[tokio::test]
async fn look_alike_emails_are_one_account_or_none_on_postgres() {
    look_alike_emails_are_one_account_or_none(Database::Postgres).await;
}
