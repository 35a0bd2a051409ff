//! Where the baseline keeps its accounts: SQLite in the data directory, as
//! the host's default, or PostgreSQL when `DATABASE_URL` names one.

mod postgres;
mod sqlite;

use std::path::Path;

use postgres::Postgres;
use sqlite::Sqlite;

/// An account, as the routes need it.
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub roles: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub session_generation: i64,
}

const COLUMNS: &str =
    "id, email, name, password_hash, roles, created_at, updated_at, session_generation";

pub enum Store {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

/// Runs the same method on whichever store this is.
macro_rules! either {
    ($store:expr, $method:ident($($arg:expr),*)) => {
        match $store {
            Store::Sqlite(store) => store.$method($($arg),*).await,
            Store::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// PostgreSQL at `database_url` when it is one, else SQLite in `data_dir`.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Store> {
        Ok(match database_url {
            Some(url) => Store::Postgres(Postgres::open(url).await?),
            None => Store::Sqlite(Sqlite::open(data_dir)?),
        })
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        either!(self, ping())
    }

    pub async fn user_by_id(&self, id: String) -> anyhow::Result<Option<User>> {
        either!(self, user_by_id(id))
    }

    pub async fn user_by_email_key(&self, key: String) -> anyhow::Result<Option<User>> {
        either!(self, user_by_email_key(key))
    }

    pub async fn standing(
        &self,
        id: String,
        sid: String,
        now_ms: i64,
    ) -> anyhow::Result<Option<(String, i64, bool)>> {
        either!(self, standing(id, sid, now_ms))
    }

    pub async fn claim_check(
        &self,
        email_key: String,
        now_ms: i64,
        hold_until: i64,
    ) -> anyhow::Result<Option<i64>> {
        either!(self, claim_check(email_key, now_ms, hold_until))
    }

    pub async fn clear_attempts(
        &self,
        email_key: String,
        forget_before: i64,
    ) -> anyhow::Result<()> {
        either!(self, clear_attempts(email_key, forget_before))
    }

    pub async fn start_session(
        &self,
        user_id: String,
        token_hash: String,
        family_id: String,
        now_ms: i64,
        expires_at: i64,
    ) -> anyhow::Result<()> {
        either!(
            self,
            start_session(user_id, token_hash, family_id, now_ms, expires_at)
        )
    }
}
