//! What the service accepted outlives the process: accounts, roles and
//! refresh-token state survive a graceful restart and a `kill -9` (mid-load:
//! every acknowledged registration is there after it), on SQLite and on
//! PostgreSQL; and two hosts starting at once migrate the schema once.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhmanus_tests::{SpawnedHost, TestDatabase, workspace_root};
use serde_json::{Value, json};

const SECRET: &str = "durability-tests-secret-of-32-bytes!";
const ADMIN: (&str, &str) = ("admin@durable.example", "admin passphrase 42");
const PASSWORD: &str = "a durable passphrase";

/// Where the accounts live: the SQLite file in the data directory, or a
/// PostgreSQL database of the test's own.
enum Store {
    Sqlite,
    Postgres(TestDatabase),
}

impl Store {
    async fn postgres() -> Store {
        Store::Postgres(TestDatabase::create().await)
    }

    fn start(&self, data: &Path) -> SpawnedHost {
        let url = match self {
            Store::Sqlite => None,
            Store::Postgres(database) => Some(database.url()),
        };
        let mut env = vec![
            ("DATA_DIR", data.to_str().unwrap()),
            ("JWT_SECRET", SECRET),
            ("ADMIN_EMAIL", ADMIN.0),
            ("ADMIN_PASSWORD", ADMIN.1),
            ("RATE_LIMIT", "off"),
            (
                "RATE_LIMIT_ROUTES",
                "/v1/auth/login=off,/v1/auth/register=off",
            ),
            // Parallel registrations wait on the database (a migration, an
            // outage): the password-work budget is tested on its own.
            ("MAX_PASSWORD_CHECKS", "64"),
        ];
        if let Some(url) = &url {
            env.push(("DATABASE_URL", url));
        }
        SpawnedHost::start(&workspace_root(), &env).unwrap()
    }

    /// A count from the store itself, not through the service.
    async fn count(&self, data: &Path, sql: &str) -> i64 {
        match self {
            Store::Sqlite => {
                let db = rusqlite::Connection::open(data.join("sqlite_db.db")).unwrap();
                db.query_row(sql, [], |row| row.get(0)).unwrap()
            }
            Store::Postgres(database) => database
                .client()
                .await
                .query_one(sql, &[])
                .await
                .unwrap()
                .get(0),
        }
    }

    async fn remove(self) {
        if let Store::Postgres(database) = self {
            database.remove().await;
        }
    }
}

async fn call(method: &str, url: String, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn login(host: &SpawnedHost, email: &str, password: &str) -> (u16, Value) {
    let body = json!({"email": email, "password": password});
    call("POST", host.url("/v1/auth/login"), None, Some(body)).await
}

async fn refresh(host: &SpawnedHost, token: &str) -> (u16, Value) {
    let body = json!({"refresh_token": token});
    call("POST", host.url("/v1/auth/refresh"), None, Some(body)).await
}

fn restart_gracefully(mut host: SpawnedHost, store: &Store, data: &Path) -> SpawnedHost {
    host.terminate();
    let status = host.wait(Duration::from_secs(20)).expect("the host exits");
    assert!(status.success(), "{status}");
    store.start(data)
}

async fn survives_restart_and_kill(store: Store) {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let host = store.start(data);

    let account = json!({"email": "kept@durable.example", "password": PASSWORD, "name": "Kept"});
    let (status, user) = call("POST", host.url("/v1/auth/register"), None, Some(account)).await;
    assert_eq!(status, 201, "{user}");
    let (_, admin) = login(&host, ADMIN.0, ADMIN.1).await;
    let admin_token = admin["access_token"].as_str().unwrap().to_owned();
    let roles = json!({"roles": ["User", "Developer"]});
    let path = format!("/v1/users/{}/roles", user["id"].as_str().unwrap());
    let (status, _) = call("PUT", host.url(&path), Some(&admin_token), Some(roles)).await;
    assert_eq!(status, 200);
    let (_, session) = login(&host, "kept@durable.example", PASSWORD).await;
    let first = session["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = refresh(&host, &first).await;
    assert_eq!(status, 200);
    let rotated_at = Instant::now();
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();

    // A graceful restart keeps the account, its roles and the session.
    let host = restart_gracefully(host, &store, data);
    let (status, session) = login(&host, "kept@durable.example", PASSWORD).await;
    assert_eq!(status, 200);
    let token = session["access_token"].as_str().unwrap();
    let (_, profile) = call("GET", host.url("/v1/auth/profile"), Some(token), None).await;
    assert_eq!(profile["roles"], json!(["User", "Developer"]));
    let (status, third) = refresh(&host, &second).await;
    assert_eq!(
        status, 200,
        "the rotated-to token still works after the restart"
    );
    let third = third["refresh_token"].as_str().unwrap().to_owned();

    // Under load, kill -9: every acknowledged registration is kept.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (url, acknowledged, stop) = (
                host.url("/v1/auth/register"),
                acknowledged.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let email = format!("{}@load.example", uuid::Uuid::new_v4().simple());
                    let body = json!({"email": email, "password": PASSWORD, "name": "Load"});
                    match client.post(&url).json(&body).send().await {
                        Ok(answer) if answer.status() == 201 => {
                            acknowledged.lock().unwrap().push(email)
                        }
                        // The process is gone: connections fail from here on.
                        Ok(_) | Err(_) => {}
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(host); // SIGKILL
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(!acknowledged.is_empty());
    let listed = acknowledged
        .iter()
        .map(|email| format!("'{email}'"))
        .collect::<Vec<_>>()
        .join(",");
    let kept = store
        .count(
            data,
            &format!("SELECT count(*) FROM users WHERE email IN ({listed})"),
        )
        .await;
    assert_eq!(
        kept,
        acknowledged.len() as i64,
        "acknowledged accounts were lost"
    );

    let host = store.start(data);
    let (status, _) = login(&host, acknowledged.last().unwrap(), PASSWORD).await;
    assert_eq!(status, 200);
    // The refresh-token family survived too: presenting its rotated-away
    // first token now is reuse of a copy, and ends the whole family.
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(rotated_at.elapsed())).await;
    assert_eq!(refresh(&host, &first).await.0, 401);
    assert_eq!(
        refresh(&host, &third).await.0,
        401,
        "the family was revoked"
    );
    drop(host);
    store.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_accounts_roles_and_sessions_survive_a_restart_and_a_kill_9() {
    survives_restart_and_kill(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_accounts_roles_and_sessions_survive_a_restart_and_a_kill_9() {
    survives_restart_and_kill(Store::postgres().await).await;
}

async fn migrate_once(store: Store) {
    let data = tempfile::tempdir().unwrap();
    let (one, two) = (store.start(data.path()), store.start(data.path()));
    // The schema is made on the first request either host serves: send
    // them all at once, to both.
    let registrations = (0..8).map(|i| {
        let host = if i % 2 == 0 { &one } else { &two };
        let body = json!({"email": format!("first{i}@migrate.example"), "password": PASSWORD, "name": "First"});
        call("POST", host.url("/v1/auth/register"), None, Some(body))
    });
    let answers = futures::future::join_all(registrations).await;
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
    }
    let (recorded, distinct) = (
        store
            .count(data.path(), "SELECT count(*) FROM schema_migrations")
            .await,
        store
            .count(
                data.path(),
                "SELECT count(DISTINCT version) FROM schema_migrations",
            )
            .await,
    );
    assert_eq!(recorded, distinct, "each migration was recorded once");
    assert!(recorded >= 2, "every migration ran: {recorded}");
    assert_eq!(
        store.count(data.path(), "SELECT count(*) FROM users").await,
        9
    );
    drop((one, two));
    store.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_starting_together_on_sqlite_migrate_once() {
    migrate_once(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_starting_together_on_postgres_migrate_once() {
    migrate_once(Store::postgres().await).await;
}

/// Upgrading to migration 3 rekeys stored emails as registration now keys
/// them, and reports (in the log, once) an account whose stored email is a
/// look-alike (finding F7): here one registered with a Kelvin sign, which
/// the previous release keyed as `kate@example.com`, squatting kate.
#[tokio::test]
async fn the_email_migration_reports_look_alike_accounts() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::Sqlite;
    let host = store.start(data.path());
    let client = reqwest::Client::new();
    let account = json!({"email": "bob@example.com", "password": PASSWORD, "name": "Bob"});
    let registered = client
        .post(host.url("/v1/auth/register"))
        .json(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    drop(host);

    // The database as the previous release left it: migration 3 not yet
    // applied, and the squatter keyed as that release keyed it.
    let db = rusqlite::Connection::open(data.path().join("sqlite_db.db")).unwrap();
    db.execute_batch(
        "DELETE FROM schema_migrations WHERE version = 3;
         ALTER TABLE users DROP COLUMN session_generation;
         INSERT INTO users (id, email, email_key, name, password_hash, roles, created_at, updated_at)
         VALUES ('kelvin', '\u{212a}ate@example.com', 'kate@example.com', 'K', 'x', '[\"User\"]', 1, 1);",
    )
    .unwrap();
    drop(db);

    let host = store.start(data.path());
    let login = json!({"email": "bob@example.com", "password": PASSWORD});
    let answer = client
        .post(host.url("/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "accounts in normal form carry on");
    let log = host.log().join("\n");
    assert!(
        log.contains(
            "account kelvin: its email is not in normal form (it looks like Kate@example.com)"
        ),
        "{log}"
    );
    assert!(log.contains("applied migration 3"), "{log}");
}
