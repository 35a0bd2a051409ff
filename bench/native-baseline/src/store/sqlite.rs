//! The accounts in SQLite, on the schema the auth component migrates to
//! (`migrations/sqlite`), with the statements it runs for the routes the
//! bench drives. Connections are kept open between requests and statements
//! cached, as a native service would; every statement runs on the blocking
//! pool, as the host runs `spin:sqlite`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use mhmanus_domain::auth::throttle;
use rusqlite::{Connection, OptionalExtension, params};

use super::{COLUMNS, User};

const SCHEMA: [&str; 5] = [
    include_str!("../../../../migrations/sqlite/0001_accounts.sql"),
    include_str!("../../../../migrations/sqlite/0002_session_start.sql"),
    include_str!("../../../../migrations/sqlite/0003_session_generation.sql"),
    include_str!("../../../../migrations/sqlite/0004_login_attempts.sql"),
    include_str!("../../../../migrations/sqlite/0005_admin_bootstrap.sql"),
];
/// The host's `spin:sqlite` waits as long for another writer.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Sqlite {
    path: std::path::PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Sqlite {
    /// `DATA_DIR/sqlite_db.db` (the host's name for the default database),
    /// created with the schema if it has none.
    pub fn open(data_dir: &Path) -> anyhow::Result<Sqlite> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let store = Sqlite {
            path: data_dir.join("sqlite_db.db"),
            idle: Arc::default(),
        };
        let conn = store.connect()?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        let migrated: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'users'",
            [],
            |row| row.get(0),
        )?;
        if !migrated {
            conn.execute_batch(&format!("BEGIN; {}; COMMIT;", SCHEMA.join(";")))?;
        }
        Ok(store)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// Runs `work` on a pooled connection, on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let idle = self.idle.clone();
        let result = tokio::task::spawn_blocking(move || {
            let result = work(&conn);
            idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
            result
        })
        .await?;
        Ok(result?)
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())))
            .await
    }

    pub async fn user_by_id(&self, id: String) -> anyhow::Result<Option<User>> {
        self.with(move |conn| one(conn, "id", &id)).await
    }

    pub async fn user_by_email_key(&self, key: String) -> anyhow::Result<Option<User>> {
        self.with(move |conn| one(conn, "email_key", &key)).await
    }

    /// The bearer door's one read: the account's roles and session
    /// generation, and whether the session `sid` is alive (the auth
    /// component's statement).
    pub async fn standing(
        &self,
        id: String,
        sid: String,
        now_ms: i64,
    ) -> anyhow::Result<Option<(String, i64, bool)>> {
        self.with(move |conn| {
            conn.prepare_cached(
                "SELECT roles, session_generation, CASE WHEN \
                 EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = ?2 AND user_id = ?1 \
                 AND expires_at > ?3) AND NOT EXISTS (SELECT 1 FROM refresh_tokens \
                 WHERE family_id = ?2 AND revoked_at IS NOT NULL) THEN 1 ELSE 0 END \
                 FROM users WHERE id = ?1",
            )?
            .query_row(params![id, sid, now_ms], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)? == 1))
            })
            .optional()
        })
        .await
    }

    /// A login attempt claimed before its password is verified, by its
    /// address's key: the failure count with it, `None` inside a slow-down
    /// delay or a hold; an attempt past the free ones holds the address
    /// until `hold_until`.
    pub async fn claim_check(
        &self,
        email_key: String,
        now_ms: i64,
        hold_until: i64,
    ) -> anyhow::Result<Option<i64>> {
        self.with(move |conn| {
            conn.prepare_cached(
                "INSERT INTO login_attempts \
                 (email_key, failures, next_attempt_at, held_until, last_attempt_at) \
                 VALUES (?1, 1, 0, 0, ?2) ON CONFLICT (email_key) DO UPDATE SET \
                 failures = login_attempts.failures + 1, held_until = \
                 CASE WHEN login_attempts.failures >= ?3 THEN ?4 ELSE login_attempts.held_until END, \
                 last_attempt_at = ?2 WHERE login_attempts.next_attempt_at <= ?2 \
                 AND login_attempts.held_until <= ?2 RETURNING failures",
            )?
            .query_row(
                params![email_key, now_ms, throttle::FREE_FAILURES, hold_until],
                |row| row.get(0),
            )
            .optional()
        })
        .await
    }

    /// A successful check clears the address's count, and forgets the
    /// addresses quiet for a day (`forget_before`).
    pub async fn clear_attempts(
        &self,
        email_key: String,
        forget_before: i64,
    ) -> anyhow::Result<()> {
        self.with(move |conn| {
            conn.prepare_cached(
                "DELETE FROM login_attempts WHERE email_key = ?1 OR last_attempt_at < ?2",
            )?
            .execute(params![email_key, forget_before])
            .map(drop)
        })
        .await
    }

    /// What a login writes: the account's expired refresh tokens go, the new
    /// one (by hash) starts a family.
    pub async fn start_session(
        &self,
        user_id: String,
        token_hash: String,
        family_id: String,
        now_ms: i64,
        expires_at: i64,
    ) -> anyhow::Result<()> {
        self.with(move |conn| {
            conn.prepare_cached(
                "DELETE FROM refresh_tokens WHERE user_id = ?1 AND family_id IN \
                 (SELECT family_id FROM refresh_tokens WHERE user_id = ?1 \
                 GROUP BY family_id HAVING MAX(expires_at) <= ?2)",
            )?
            .execute(params![user_id, now_ms])?;
            conn.prepare_cached(
                "INSERT INTO refresh_tokens (token_hash, user_id, family_id, family_started_at, \
                 created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            )?
            .execute(params![token_hash, user_id, family_id, now_ms, expires_at])?;
            // The component's check that the session generation held.
            conn.prepare_cached("SELECT session_generation FROM users WHERE id = ?1")?
                .query_row(params![user_id], |row| row.get::<_, i64>(0))
                .map(drop)
        })
        .await
    }
}

fn one(conn: &Connection, column: &str, value: &str) -> rusqlite::Result<Option<User>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE {column} = ?1"))?
        .query_row(params![value], |row| {
            Ok(User {
                id: row.get(0)?,
                email: row.get(1)?,
                name: row.get(2)?,
                password_hash: row.get(3)?,
                roles: row.get(4)?,
                created_at: row.get(5)?,
                updated_at: row.get(6)?,
                session_generation: row.get(7)?,
            })
        })
        .optional()
}
