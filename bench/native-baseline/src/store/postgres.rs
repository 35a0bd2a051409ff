//! The accounts in PostgreSQL, on the schema the auth component migrates
//! to (`migrations/postgres`), with the statements it runs for the routes
//! the bench drives: a pool of connections, statements prepared once per
//! connection, as a native service would.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use mhmanus_domain::auth::throttle;
use tokio_postgres::{NoTls, Row};

use super::User;

const SCHEMA: [&str; 5] = [
    include_str!("../../../../migrations/postgres/0001_accounts.sql"),
    include_str!("../../../../migrations/postgres/0002_session_start.sql"),
    include_str!("../../../../migrations/postgres/0003_session_generation.sql"),
    include_str!("../../../../migrations/postgres/0004_login_attempts.sql"),
    include_str!("../../../../migrations/postgres/0005_admin_bootstrap.sql"),
];
/// The host's pool size per address.
const POOL_SIZE: usize = 16;

pub struct Postgres {
    pool: Pool,
}

impl Postgres {
    /// A pool on `url`, the schema created if the database has none.
    pub async fn open(url: &str) -> anyhow::Result<Postgres> {
        let manager = Manager::from_config(
            url.parse()?,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .build()?;
        let client = pool.get().await?;
        let migrated: bool = client
            .query_one("SELECT to_regclass('users') IS NOT NULL", &[])
            .await?
            .get(0);
        if !migrated {
            client
                .batch_execute(&format!("BEGIN; {}; COMMIT;", SCHEMA.join(";")))
                .await?;
        }
        Ok(Postgres { pool })
    }

    async fn one_row(
        &self,
        statement: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> anyhow::Result<Option<Row>> {
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(statement).await?;
        Ok(client.query_opt(&statement, params).await?)
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        self.one_row("SELECT 1", &[]).await.map(drop)
    }

    pub async fn user_by_id(&self, id: String) -> anyhow::Result<Option<User>> {
        self.user_where("id", &id).await
    }

    pub async fn user_by_email_key(&self, key: String) -> anyhow::Result<Option<User>> {
        self.user_where("email_key", &key).await
    }

    async fn user_where(&self, column: &str, value: &str) -> anyhow::Result<Option<User>> {
        let row = self
            .one_row(
                &format!("SELECT {} FROM users WHERE {column} = $1", super::COLUMNS),
                &[&value],
            )
            .await?;
        Ok(row.map(|row| User {
            id: row.get(0),
            email: row.get(1),
            name: row.get(2),
            password_hash: row.get(3),
            roles: row.get(4),
            created_at: row.get(5),
            updated_at: row.get(6),
            session_generation: row.get(7),
        }))
    }

    /// The bearer door's one read (the auth component's statement).
    pub async fn standing(
        &self,
        id: String,
        sid: String,
        now_ms: i64,
    ) -> anyhow::Result<Option<(String, i64, bool)>> {
        let row = self
            .one_row(
                "SELECT roles, session_generation, \
                 EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $2 AND user_id = $1 \
                 AND expires_at > $3) AND NOT EXISTS (SELECT 1 FROM refresh_tokens \
                 WHERE family_id = $2 AND revoked_at IS NOT NULL) \
                 FROM users WHERE id = $1",
                &[&id, &sid, &now_ms],
            )
            .await?;
        Ok(row.map(|row| (row.get(0), row.get(1), row.get(2))))
    }

    /// A login attempt claimed before its password is verified (see the
    /// SQLite store).
    pub async fn claim_check(
        &self,
        email_key: String,
        now_ms: i64,
        hold_until: i64,
    ) -> anyhow::Result<Option<i64>> {
        let free = i64::from(throttle::FREE_FAILURES);
        let row = self
            .one_row(
                "INSERT INTO login_attempts \
                 (email_key, failures, next_attempt_at, held_until, last_attempt_at) \
                 VALUES ($1, 1, 0, 0, $2) ON CONFLICT (email_key) DO UPDATE SET \
                 failures = login_attempts.failures + 1, held_until = \
                 CASE WHEN login_attempts.failures >= $3 THEN $4 ELSE login_attempts.held_until END, \
                 last_attempt_at = $2 WHERE login_attempts.next_attempt_at <= $2 \
                 AND login_attempts.held_until <= $2 RETURNING failures",
                &[&email_key, &now_ms, &free, &hold_until],
            )
            .await?;
        Ok(row.map(|row| row.get(0)))
    }

    pub async fn clear_attempts(
        &self,
        email_key: String,
        forget_before: i64,
    ) -> anyhow::Result<()> {
        self.one_row(
            "DELETE FROM login_attempts WHERE email_key = $1 OR last_attempt_at < $2",
            &[&email_key, &forget_before],
        )
        .await
        .map(drop)
    }

    /// What a login writes (see the SQLite store).
    pub async fn start_session(
        &self,
        user_id: String,
        token_hash: String,
        family_id: String,
        now_ms: i64,
        expires_at: i64,
    ) -> anyhow::Result<()> {
        let client = self.pool.get().await?;
        let expired = client
            .prepare_cached(
                "DELETE FROM refresh_tokens WHERE user_id = $1 AND family_id IN \
                 (SELECT family_id FROM refresh_tokens WHERE user_id = $1 \
                 GROUP BY family_id HAVING MAX(expires_at) <= $2)",
            )
            .await?;
        client.execute(&expired, &[&user_id, &now_ms]).await?;
        let insert = client
            .prepare_cached(
                "INSERT INTO refresh_tokens (token_hash, user_id, family_id, family_started_at, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .await?;
        client
            .execute(
                &insert,
                &[&token_hash, &user_id, &family_id, &now_ms, &expires_at],
            )
            .await?;
        // The component's check that the session generation held.
        let generation = client
            .prepare_cached("SELECT session_generation FROM users WHERE id = $1")
            .await?;
        client.query_one(&generation, &[&user_id]).await?;
        Ok(())
    }
}
