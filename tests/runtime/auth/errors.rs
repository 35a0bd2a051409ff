//! Every bad request gets its own status as problem+json and changes nothing.

use serde_json::json;

use super::{AuthApp, Database, PASSWORD, header, invalid_fields, problem, unique_email};

#[tokio::test]
async fn malformed_wrong_type_and_oversized_bodies_are_refused() {
    let app = AuthApp::start(Database::Sqlite).await;
    let json_header = [("content-type", "application/json")];

    let reply = app
        .host
        .call("POST", "/v1/auth/register", &json_header, "{\"email\": ")
        .await;
    problem(&reply, 400);

    let body = json!({"email": unique_email(), "password": PASSWORD, "name": "X"}).to_string();
    let reply = app
        .host
        .call(
            "POST",
            "/v1/auth/register",
            &[("content-type", "text/plain")],
            body.clone(),
        )
        .await;
    problem(&reply, 415);

    // Past the component's own 16 KiB limit, within the host's 1 MiB: the
    // 413 is the component's.
    let huge = json!({"email": "a".repeat(64 * 1024), "password": PASSWORD, "name": "X"});
    let reply = app
        .host
        .call("POST", "/v1/auth/register", &json_header, huge.to_string())
        .await;
    problem(&reply, 413);

    // None of that registered anything; the well-formed request still can.
    let reply = app
        .host
        .call("POST", "/v1/auth/register", &json_header, body)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
}

#[tokio::test]
async fn invalid_fields_are_all_named_in_one_422() {
    let app = AuthApp::start(Database::Sqlite).await;
    let reply = app
        .post(
            "/v1/auth/register",
            &json!({"email": "not-an-email", "password": "short", "name": ""}),
        )
        .await;
    let mut fields = invalid_fields(&reply);
    fields.sort();
    assert_eq!(fields, ["email", "name", "password"]);

    let reply = app.post("/v1/auth/register", &json!({})).await;
    let mut fields = invalid_fields(&reply);
    fields.sort();
    assert_eq!(fields, ["email", "name", "password"]);

    let reply = app
        .post("/v1/auth/login", &json!({"email": 42, "password": null}))
        .await;
    let mut fields = invalid_fields(&reply);
    fields.sort();
    assert_eq!(fields, ["email", "password"]);

    let reply = app.post("/v1/auth/register", &json!(["a", "list"])).await;
    assert!(
        reply.status == 400 || reply.status == 422,
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = AuthApp::start(Database::Sqlite).await;
    problem(&app.host.get("/v1/auth/nope").await, 404);
    let reply = app.host.get("/v1/auth/login").await;
    problem(&reply, 405);
    assert!(header(&reply, "allow").contains("POST"));
}

/// A control character in any text field is refused before any query,
/// the same on both databases (PostgreSQL refuses a NUL in text: it was
/// a 503), with a 422 naming the field.
async fn control_characters_are_refused_before_any_query(database: Database) {
    let app = AuthApp::start(database).await;
    let (email, login) = app.session().await;
    let token = login["access_token"].as_str().unwrap();
    let cases = [
        (
            "/v1/auth/login",
            json!({"email": "a\u{0}@x.org", "password": PASSWORD}),
            "email",
        ),
        (
            "/v1/auth/login",
            json!({"email": email, "password": "pass\u{0}word!"}),
            "password",
        ),
        (
            "/v1/auth/register",
            json!({"email": "b\u{0}@x.org", "password": PASSWORD, "name": "X"}),
            "email",
        ),
        (
            "/v1/auth/register",
            json!({"email": unique_email(), "password": PASSWORD, "name": "X\u{1b}[2J"}),
            "name",
        ),
        (
            "/v1/auth/refresh",
            json!({"refresh_token": "x\u{0}"}),
            "refresh_token",
        ),
    ];
    for (path, body, field) in cases {
        let reply = app.post(path, &body).await;
        assert_eq!(invalid_fields(&reply), [field], "{path} {body}");
    }
    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"name": "Bob\u{7f}"}),
            Some(token),
        )
        .await;
    assert_eq!(invalid_fields(&reply), ["name"]);
    // A bidi override makes a name read otherwise than it is (issue 36's T7).
    let reply = app
        .json_call(
            "PATCH",
            "/v1/auth/profile",
            &json!({"name": "admin\u{202e}"}),
            Some(token),
        )
        .await;
    assert_eq!(invalid_fields(&reply), ["name"]);
    // Nothing changed: the account still logs in, nobody was registered.
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn control_characters_are_refused_before_any_query_on_sqlite() {
    control_characters_are_refused_before_any_query(Database::Sqlite).await;
}

#[tokio::test]
async fn control_characters_are_refused_before_any_query_on_postgres() {
    control_characters_are_refused_before_any_query(Database::Postgres).await;
}

/// A database that is down is a 503 problem, quickly, never a 500 or a hang.
#[tokio::test]
async fn an_unreachable_database_is_a_503() {
    let app = AuthApp::start_with(Database::Sqlite, |config| {
        config.variables.push((
            "database_url".into(),
            "postgres://postgres@127.0.0.1:1/postgres".into(),
        ));
    })
    .await;
    let started = std::time::Instant::now();
    let reply = app
        .post(
            "/v1/auth/register",
            &json!({"email": unique_email(), "password": PASSWORD, "name": "X"}),
        )
        .await;
    let problem = problem(&reply, 503);
    assert!(
        !reply.text().contains("127.0.0.1"),
        "no internals: {problem}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let reply = app.login(&unique_email(), PASSWORD).await;
    assert_eq!(reply.status, 503, "{}", reply.text());
}
