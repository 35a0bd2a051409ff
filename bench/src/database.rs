//! Where a run's servers keep their accounts: the SQLite file each serves
//! by default, or a PostgreSQL database of their own, made for the run on
//! the local server and dropped after it.

use anyhow::Context as _;
use serde::Serialize;

/// The bench's PostgreSQL server (`BENCH_POSTGRES_URL` moves it).
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Database {
    Sqlite,
    Postgres,
    /// A scenario that reads no database (`Scenario::Hello`).
    None,
}

impl Database {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "pg",
            Database::None => "-",
        }
    }
}

/// A database made for one server of the run; `drop_all` removes them.
pub(crate) struct PostgresServer {
    admin: tokio_postgres::Client,
    base: url::Url,
    made: Vec<String>,
}

impl PostgresServer {
    /// The local PostgreSQL server, or why it cannot be used.
    pub(crate) async fn connect() -> anyhow::Result<PostgresServer> {
        let url = std::env::var("BENCH_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into());
        let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok(PostgresServer {
            admin,
            base: url.parse()?,
            made: vec![],
        })
    }

    /// A new, empty database; its URL.
    pub(crate) async fn create(&mut self, purpose: &str) -> anyhow::Result<String> {
        let name = format!("bench_{}_{purpose}", std::process::id());
        // One statement each: CREATE DATABASE refuses to run in a transaction.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            self.admin
                .batch_execute(&statement)
                .await
                .with_context(|| statement.clone())?;
        }
        self.made.push(name.clone());
        let mut url = self.base.clone();
        url.set_path(&name);
        Ok(url.to_string())
    }

    pub(crate) async fn drop_all(self) -> anyhow::Result<()> {
        for name in &self.made {
            self.admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        Ok(())
    }
}
