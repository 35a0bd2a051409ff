//! The accounts a run logs in and reads: written straight into a server's
//! SQLite file or PostgreSQL database (the schema the auth component
//! migrates to), all with one
//! password and one precomputed argon2id hash of it, so seeding 100,000
//! takes a second rather than hours of hashing. Each has one session (a
//! refresh-token family), which its access token names, as login's would.

use std::path::Path;
use std::time::Duration;

use mhmanus_domain::auth::jwt::{self, Grant, JwtSettings};
use mhmanus_domain::auth::password;
use mhmanus_domain::auth::role::Role;
use mhmanus_domain::clock;
use rusqlite::params;

use crate::server::JWT_SECRET;

pub(crate) const PASSWORD: &str = "benchmark passphrase 42";

pub(crate) fn id(i: usize) -> String {
    format!("bench-{i:06}")
}

/// Account `i`'s one session.
pub(crate) fn session(i: usize) -> String {
    format!("bench-session-{i:06}")
}

pub(crate) fn email(i: usize) -> String {
    format!("user{i}@bench.example")
}

pub(crate) struct Accounts {
    hash: String,
    jwt: JwtSettings,
}

impl Accounts {
    pub(crate) fn new() -> anyhow::Result<Accounts> {
        let jwt = JwtSettings::new(
            JWT_SECRET.as_bytes(),
            jwt::DEFAULT_ISSUER,
            jwt::DEFAULT_AUDIENCE,
            // What the servers accept: their lifetime (an hour; a run is shorter).
            jwt::DEFAULT_TTL_SECS,
            false,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Accounts {
            hash: password::hash(PASSWORD),
            jwt,
        })
    }

    /// Makes sure accounts `0..count` exist in the SQLite file `db`.
    pub(crate) fn seed(&self, db: &Path, count: usize) -> anyhow::Result<()> {
        let mut conn = rusqlite::Connection::open(db)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO users (id, email, email_key, name, password_hash, roles, \
                 failed_logins, next_login_at, created_at, updated_at) \
                 VALUES (?1, ?2, ?2, ?3, ?4, 'User', 0, 0, ?5, ?5)",
            )?;
            let mut session = tx.prepare(
                "INSERT OR IGNORE INTO refresh_tokens (token_hash, user_id, family_id, \
                 family_started_at, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            )?;
            let now = clock::now_ms();
            let day_ms = 24 * 3600 * 1000;
            for i in 0..count {
                insert.execute(params![
                    id(i),
                    email(i),
                    format!("Bench User {i}"),
                    self.hash,
                    now
                ])?;
                session.execute(params![
                    format!("bench-token-{i:06}"),
                    id(i),
                    self::session(i),
                    now,
                    now + day_ms,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes sure accounts `0..count` exist in the PostgreSQL database at
    /// `url` (schema already migrated): the same rows as `seed`, made by
    /// the server in two statements.
    pub(crate) async fn seed_postgres(&self, url: &str, count: usize) -> anyhow::Result<()> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let connection = tokio::spawn(connection);
        let now = clock::now_ms();
        let day_ms: i64 = 24 * 3600 * 1000;
        let last = i64::try_from(count)? - 1;
        client
            .execute(
                "INSERT INTO users (id, email, email_key, name, password_hash, roles, \
                 failed_logins, next_login_at, created_at, updated_at) \
                 SELECT 'bench-' || lpad(i::text, 6, '0'), 'user' || i || '@bench.example', \
                 'user' || i || '@bench.example', 'Bench User ' || i, $1, 'User', 0, 0, $2, $2 \
                 FROM generate_series(0, $3::bigint) AS i ON CONFLICT DO NOTHING",
                &[&self.hash, &now, &last],
            )
            .await?;
        client
            .execute(
                "INSERT INTO refresh_tokens (token_hash, user_id, family_id, \
                 family_started_at, created_at, expires_at) \
                 SELECT 'bench-token-' || lpad(i::text, 6, '0'), 'bench-' || lpad(i::text, 6, '0'), \
                 'bench-session-' || lpad(i::text, 6, '0'), $1, $1, $2 \
                 FROM generate_series(0, $3::bigint) AS i ON CONFLICT DO NOTHING",
                &[&now, &(now + day_ms), &last],
            )
            .await?;
        drop(client);
        connection.await??;
        Ok(())
    }

    /// An access token for account `i`, as login would issue it.
    pub(crate) fn token(&self, i: usize) -> String {
        let now = clock::secs(clock::now_ms());
        let (id, email, sid) = (id(i), email(i), session(i));
        let grant = Grant {
            sub: &id,
            email: &email,
            roles: &[Role::User],
            sid: &sid,
            generation: 0,
        };
        self.jwt.issue(grant, now).0
    }
}

/// `count` account numbers below `of`, spread evenly and shuffled (a fixed
/// sequence, so every server is asked for the same accounts).
pub(crate) fn picks(count: usize, of: usize) -> Vec<usize> {
    let count = count.min(of);
    let mut picks: Vec<usize> = (0..count).map(|k| k * of / count).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..picks.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        picks.swap(i, (state % (i as u64 + 1)) as usize);
    }
    picks
}
