//! SQL over Spin's SQLite or PostgreSQL, chosen by `database_url`.
//!
//! Query text is written once, PostgreSQL style (`$1, $2, ...` in increasing
//! order); for SQLite the placeholders become `?1, ?2, ...` (SQLite's
//! numbered parameters). Parameters and row values are a tiny enum, so the
//! queries never see which database they run on.

use spin_sdk::{pg, sqlite};

/// Any storage failure. The HTTP layer logs it and answers 503; its text
/// never reaches a client.
#[derive(Debug)]
pub struct StoreError(String);

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        StoreError(message.into())
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<sqlite::Error> for StoreError {
    fn from(e: sqlite::Error) -> Self {
        StoreError(format!("sqlite: {e:?}"))
    }
}

impl From<pg::Error> for StoreError {
    fn from(e: pg::Error) -> Self {
        StoreError(format!("postgres: {e}"))
    }
}

/// A parameter or a column value: integers, text and NULL are all the
/// components store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Int(i64),
    Text(String),
    Null,
}

impl From<i64> for Val {
    fn from(value: i64) -> Self {
        Val::Int(value)
    }
}

impl From<&str> for Val {
    fn from(value: &str) -> Self {
        Val::Text(value.to_owned())
    }
}

impl From<String> for Val {
    fn from(value: String) -> Self {
        Val::Text(value)
    }
}

/// One result row; typed getters turn a schema surprise into a `StoreError`
/// instead of a panic.
#[derive(Debug)]
pub struct Row(Vec<Val>);

impl Row {
    fn get(&self, index: usize) -> Result<&Val, StoreError> {
        self.0
            .get(index)
            .ok_or_else(|| StoreError::new(format!("row has no column {index}")))
    }

    pub fn int(&self, index: usize) -> Result<i64, StoreError> {
        match self.get(index)? {
            Val::Int(value) => Ok(*value),
            other => Err(StoreError::new(format!(
                "column {index}: expected an integer, got {other:?}"
            ))),
        }
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        match self.get(index)? {
            Val::Null => Ok(None),
            _ => self.int(index).map(Some),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, StoreError> {
        match self.get(index)? {
            Val::Text(value) => Ok(value.clone()),
            Val::Int(_) => Err(StoreError::new(format!(
                "column {index}: expected text, got an integer"
            ))),
            Val::Null => Err(StoreError::new(format!(
                "column {index}: expected text, got NULL"
            ))),
        }
    }
}

/// Which SQL dialect a statement must be written in (migrations differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One open connection (one database session), opened per request.
pub enum Db {
    Sqlite(sqlite::Connection),
    Postgres(pg::Connection),
}

impl Db {
    /// A `postgres://` or `postgresql://` URL opens PostgreSQL; anything else
    /// (normally empty) the component's default SQLite database.
    pub async fn open(database_url: &str) -> Result<Db, StoreError> {
        if is_postgres(database_url) {
            Ok(Db::Postgres(pg::Connection::open(database_url).await?))
        } else {
            let db = Db::Sqlite(sqlite::Connection::open_default().await?);
            // SQLite enforces foreign keys (and so `ON DELETE CASCADE`) only
            // when each connection asks; PostgreSQL always does. It must be
            // set outside a transaction, which a fresh connection is (and
            // so cannot be turned off inside a migration: one that rebuilds
            // a referenced table must allow for it). Set only when off:
            // setting it expires the connection's prepared statements, and
            // a runtime may hand out a connection it has set up before.
            let enforced = db.query_opt("PRAGMA foreign_keys", &[]).await?;
            if !matches!(enforced.map(|row| row.int(0)), Some(Ok(1))) {
                db.execute("PRAGMA foreign_keys = ON", &[]).await?;
            }
            Ok(db)
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement and returns its rows (a `SELECT` or `... RETURNING`).
    pub async fn query(&self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(conn) => {
                let result = conn
                    .execute(sqlite_placeholders(sql), params.iter().map(to_sqlite))
                    .await?;
                result
                    .collect()
                    .await?
                    .into_iter()
                    .map(|row| row.values.into_iter().map(from_sqlite).collect())
                    .collect::<Result<Vec<_>, _>>()
                    .map(|rows| rows.into_iter().map(Row).collect())
            }
            Db::Postgres(conn) => {
                let params: Vec<pg::ParameterValue> = params.iter().map(to_pg).collect();
                let mut result = conn.query(sql, params).await?;
                let mut rows = Vec::new();
                while let Some(values) = result.rows().next().await {
                    let row = values
                        .into_iter()
                        .map(from_pg)
                        .collect::<Result<Vec<_>, _>>()?;
                    rows.push(Row(row));
                }
                result.result().await?;
                Ok(rows)
            }
        }
    }

    /// Runs a statement whose rows (if any) are not wanted.
    pub async fn execute(&self, sql: &str, params: &[Val]) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(conn) => {
                let result = conn
                    .execute(sqlite_placeholders(sql), params.iter().map(to_sqlite))
                    .await?;
                // The statement is finished (and its error known) only once
                // the result is read to the end.
                result.collect().await?;
                Ok(())
            }
            Db::Postgres(conn) => {
                let params: Vec<pg::ParameterValue> = params.iter().map(to_pg).collect();
                conn.execute(sql, params).await?;
                Ok(())
            }
        }
    }

    /// The first row of a query, if any.
    pub async fn query_opt(&self, sql: &str, params: &[Val]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `$1` -> `?1`: SQLite's numbered parameters bind by the same index.
///
/// Only for the components' own query text, which has no `$` inside
/// string literals.
pub fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn to_sqlite(value: &Val) -> sqlite::Value {
    match value {
        Val::Int(i) => sqlite::Value::Integer(*i),
        Val::Text(s) => sqlite::Value::Text(s.clone()),
        Val::Null => sqlite::Value::Null,
    }
}

fn from_sqlite(value: sqlite::Value) -> Result<Val, StoreError> {
    match value {
        sqlite::Value::Integer(i) => Ok(Val::Int(i)),
        sqlite::Value::Text(s) => Ok(Val::Text(s)),
        sqlite::Value::Null => Ok(Val::Null),
        other => Err(StoreError::new(format!(
            "sqlite: unexpected column value {other:?}"
        ))),
    }
}

fn to_pg(value: &Val) -> pg::ParameterValue {
    match value {
        Val::Int(i) => pg::ParameterValue::Int64(*i),
        Val::Text(s) => pg::ParameterValue::Str(s.clone()),
        Val::Null => pg::ParameterValue::DbNull,
    }
}

fn from_pg(value: pg::DbValue) -> Result<Val, StoreError> {
    match value {
        pg::DbValue::Int64(i) => Ok(Val::Int(i)),
        pg::DbValue::Int32(i) => Ok(Val::Int(i.into())),
        pg::DbValue::Int16(i) => Ok(Val::Int(i.into())),
        pg::DbValue::Str(s) => Ok(Val::Text(s)),
        pg::DbValue::DbNull => Ok(Val::Null),
        other => Err(StoreError::new(format!(
            "postgres: unexpected column value {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_sqlite_parameters() {
        assert_eq!(
            sqlite_placeholders("UPDATE t SET a = $1 WHERE b = $2 AND c = $10"),
            "UPDATE t SET a = ?1 WHERE b = ?2 AND c = ?10"
        );
        assert_eq!(sqlite_placeholders("SELECT '$' || x$"), "SELECT '$' || x$");
    }

    #[test]
    fn postgres_urls_are_recognised() {
        assert!(is_postgres("postgres://u@h/db"));
        assert!(is_postgres("postgresql://u@h/db"));
        assert!(!is_postgres(""));
        assert!(!is_postgres("sqlite://x"));
    }
}
