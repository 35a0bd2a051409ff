//! `components/auth` under the native runtime, from the repository's
//! spin.toml, against the default SQLite file and the real PostgreSQL.

mod accounts;
mod admin;
mod errors;
mod login;
mod migrations;
mod revocation;
mod tokens;

use mhmanus_domain::auth::email::key_of;
use mhmanus_domain::auth::jwt::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, JwtSettings};
use mhmanus_tests::{InProcessHost, POSTGRES_URL, Reply};
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "component-tests-secret-of-32-bytes-or-more";
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// Which database the component uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Database {
    Sqlite,
    Postgres,
}

pub(crate) struct AuthApp {
    pub host: InProcessHost,
    pub database: Database,
}

/// A write lock an operator's transaction holds; see `AuthApp::lock_address`.
pub(crate) enum AccountLock {
    Sqlite(rusqlite::Connection),
    /// The client and its backend's pid.
    Postgres(tokio_postgres::Client, i32),
}

impl AccountLock {
    pub(crate) async fn release(self) {
        match self {
            AccountLock::Sqlite(db) => db.execute_batch("COMMIT").unwrap(),
            AccountLock::Postgres(db, _) => db.batch_execute("COMMIT").await.unwrap(),
        }
    }

    /// Releases the lock once `count` sessions wait behind it, so they go
    /// on together (on SQLite, which does not show its waiters, after a
    /// second, which is plenty).
    pub(crate) async fn release_when_waited_on(self, count: usize) {
        match &self {
            AccountLock::Postgres(..) => self.wait_for_waiters(count).await,
            AccountLock::Sqlite(_) => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
        self.release().await;
    }

    /// Waits until `count` sessions wait behind this lock, directly or
    /// behind another waiter (PostgreSQL only: SQLite does not show its
    /// waiters).
    async fn wait_for_waiters(&self, count: usize) {
        let AccountLock::Postgres(_, holder) = self else {
            unreachable!("only PostgreSQL shows its lock waiters");
        };
        let (db, connection) = tokio_postgres::connect(POSTGRES_URL, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let query = "WITH RECURSIVE behind(pid) AS (SELECT $1::int UNION \
                     SELECT a.pid FROM pg_stat_activity a, behind \
                     WHERE behind.pid = ANY(pg_blocking_pids(a.pid))) \
                     SELECT count(*) - 1 FROM behind";
        for _ in 0..200 {
            let waiting: i64 = db.query_one(query, &[holder]).await.unwrap().get(0);
            if waiting as usize >= count {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{count} sessions never queued behind the lock");
    }
}

impl AuthApp {
    pub(crate) async fn start(database: Database) -> AuthApp {
        Self::start_with(database, |_| {}).await
    }

    pub(crate) async fn start_with(
        database: Database,
        configure: impl FnOnce(&mut mhmanus_host::HostConfig),
    ) -> AuthApp {
        let host = InProcessHost::start_repo(|config| {
            config.jwt_secret = Some(SECRET.into());
            if let Database::Postgres = database {
                config.database_url = Some(POSTGRES_URL.into());
            }
            configure(config);
        })
        .await
        .unwrap();
        AuthApp { host, database }
    }

    /// Runs one statement with one text parameter (`$1`) on the
    /// component's database, as an operator would.
    pub(crate) async fn sql(&self, statement: &str, param: &str) {
        match self.database {
            Database::Sqlite => {
                let path = self.host.data_dir().join("data/sqlite_db.db");
                let db = rusqlite::Connection::open(path).unwrap();
                db.execute(statement, [param]).unwrap();
            }
            Database::Postgres => {
                let (db, connection) = tokio_postgres::connect(POSTGRES_URL, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                db.execute(statement, &[&param]).await.unwrap();
            }
        }
    }

    /// The `roles` column of account `id`, as stored.
    pub(crate) async fn stored_roles(&self, id: &str) -> String {
        self.read_one("SELECT roles FROM users WHERE id = $1", id)
            .await
    }

    /// The one value `statement` reads with `$1` = `id`.
    async fn read_one<T>(&self, statement: &str, id: &str) -> T
    where
        T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>,
    {
        match self.database {
            Database::Sqlite => {
                let path = self.host.data_dir().join("data/sqlite_db.db");
                let db = rusqlite::Connection::open(path).unwrap();
                db.query_row(statement, [id], |row| row.get(0)).unwrap()
            }
            Database::Postgres => {
                let (db, connection) = tokio_postgres::connect(POSTGRES_URL, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                db.query_one(statement, &[&id]).await.unwrap().get(0)
            }
        }
    }

    /// Holds a write lock on the slow-down row of `email` (the whole file on
    /// SQLite) until the lock is released: the component's claims of
    /// attempts at that address queue meanwhile.
    pub(crate) async fn lock_address(&self, email: &str) -> AccountLock {
        let key = key_of(email).expect("an address");
        match self.database {
            Database::Sqlite => {
                let path = self.host.data_dir().join("data/sqlite_db.db");
                let db = rusqlite::Connection::open(path).unwrap();
                db.execute_batch("BEGIN IMMEDIATE").unwrap();
                AccountLock::Sqlite(db)
            }
            Database::Postgres => {
                let (db, connection) = tokio_postgres::connect(POSTGRES_URL, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                db.batch_execute("BEGIN").await.unwrap();
                // A fresh row, not yet committed: the claims' inserts wait
                // for this transaction.
                let now_ms = i64::try_from(
                    std::time::SystemTime::UNIX_EPOCH
                        .elapsed()
                        .unwrap()
                        .as_millis(),
                )
                .unwrap();
                db.execute(
                    "INSERT INTO login_attempts \
                     (email_key, failures, next_attempt_at, held_until, last_attempt_at) \
                     VALUES ($1, 0, 0, 0, $2)",
                    &[&key, &now_ms],
                )
                .await
                .unwrap();
                let pid: i32 = db
                    .query_one("SELECT pg_backend_pid()", &[])
                    .await
                    .unwrap()
                    .get(0);
                AccountLock::Postgres(db, pid)
            }
        }
    }

    /// How many password checks the slow-down counted for `email` since
    /// its last success: the attempts verified, not those refused.
    pub(crate) async fn counted_attempts(&self, email: &str) -> i64 {
        let key = key_of(email).expect("an address");
        self.read_one(
            "SELECT failures FROM login_attempts WHERE email_key = $1",
            &key,
        )
        .await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Reply {
        self.json_call("POST", path, body, None).await
    }

    pub(crate) async fn json_call(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Reply {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer));
        }
        self.host
            .call(method, path, &headers, body.to_string())
            .await
    }

    pub(crate) async fn get_with(&self, path: &str, token: &str) -> Reply {
        self.call_with("GET", path, token).await
    }

    /// A bodiless request with the bearer token.
    pub(crate) async fn call_with(&self, method: &str, path: &str, token: &str) -> Reply {
        let bearer = format!("Bearer {token}");
        self.host
            .call(method, path, &[("authorization", &bearer)], "")
            .await
    }

    /// Registers a fresh account and returns (email, user JSON).
    pub(crate) async fn register(&self) -> (String, Value) {
        let email = unique_email();
        let reply = self
            .post(
                "/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "name": "Test User"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        (email, reply.json())
    }

    pub(crate) async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers and logs in: (email, login JSON).
    pub(crate) async fn session(&self) -> (String, Value) {
        let (email, _) = self.register().await;
        let reply = self.login(&email, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        (email, reply.json())
    }
}

/// An address no other test (or earlier run against the shared PostgreSQL) uses.
pub(crate) fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The settings the component signs with, for checking and forging tokens.
pub(crate) fn jwt() -> JwtSettings {
    JwtSettings::new(
        SECRET.as_bytes(),
        DEFAULT_ISSUER,
        DEFAULT_AUDIENCE,
        3600,
        true,
    )
    .unwrap()
}

pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub(crate) fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Asserts a problem+json answer with `status` and returns it.
pub(crate) fn problem(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/problem+json");
    let problem = reply.json();
    assert_eq!(problem["status"], status);
    assert!(problem["title"].is_string());
    problem
}

/// The field names a 422 problem lists.
pub(crate) fn invalid_fields(reply: &Reply) -> Vec<String> {
    let problem = problem(reply, 422);
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors member: {}", reply.text()))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}
