//! The schema migrates itself, once, even when two hosts start together.

use serde_json::json;

use super::{AuthApp, Database, PASSWORD, unique_email};

#[tokio::test]
async fn two_hosts_starting_together_on_an_empty_postgres_migrate_once() {
    let name = format!("auth_migrations_{}", uuid::Uuid::new_v4().simple());
    let (admin, connection) =
        tokio_postgres::connect(mhmanus_tests::POSTGRES_URL, tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");

    let start = || {
        AuthApp::start_with(Database::Sqlite, |config| {
            config.database_url = Some(url.clone().into());
        })
    };
    let (first, second) = tokio::join!(start(), start());
    let body = || json!({"email": unique_email(), "password": PASSWORD, "name": "X"});
    let (one, two) = (body(), body());
    let (a, b) = tokio::join!(
        first.post("/v1/auth/register", &one),
        second.post("/v1/auth/register", &two)
    );
    assert_eq!(
        (a.status.as_u16(), b.status.as_u16()),
        (201, 201),
        "{} / {}",
        a.text(),
        b.text()
    );

    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let versions: Vec<i64> = db
        .query(
            "SELECT version::bigint FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(!versions.is_empty());
    let mut unique = versions.clone();
    unique.dedup();
    assert_eq!(versions, unique, "each migration applied once");
    let users: i64 = db
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 2);

    drop((first, second, db));
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// The SQLite file keeps accounts across a restart of the host.
#[tokio::test]
async fn accounts_survive_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let email = unique_email();
    {
        let app =
            AuthApp::start_with(Database::Sqlite, |config| config.data_dir = data.clone()).await;
        let reply = app
            .post(
                "/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "name": "X"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
    let app = AuthApp::start_with(Database::Sqlite, |config| config.data_dir = data.clone()).await;
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}
