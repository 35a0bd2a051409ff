//! PostgreSQL and pool failures as the WIT `error` a guest sees.

use deadpool_postgres::{PoolError, TimeoutType};

use super::address::redact;
use super::pools::MAX_POOL_SIZE;
use crate::bindings::spin::postgres::postgres::{DbError, Error, QueryError};

pub(super) fn pool_error(e: PoolError, address: &str) -> Error {
    let address = redact(address);
    Error::ConnectionFailed(match e {
        PoolError::Backend(e) => format!("cannot connect to {address}: {}", error_chain(&e)),
        PoolError::Timeout(TimeoutType::Wait) => format!(
            "timed out waiting for a free connection to {address} (all {MAX_POOL_SIZE} in use)"
        ),
        PoolError::Timeout(TimeoutType::Create) => format!("timed out connecting to {address}"),
        e => format!("cannot connect to {address}: {e}"),
    })
}

/// An error with its causes, as `a: b: c` (the driver's own `Display` names
/// only the outermost).
pub(super) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(super) fn error_text(e: &Error) -> String {
    match e {
        Error::ConnectionFailed(s)
        | Error::BadParameter(s)
        | Error::ValueConversionFailed(s)
        | Error::Other(s) => s.clone(),
        Error::QueryFailed(QueryError::Text(s)) => s.clone(),
        Error::QueryFailed(QueryError::DbError(e)) => e.as_text.clone(),
    }
}

pub(super) fn query_failed(e: tokio_postgres::Error) -> Error {
    let as_text = error_chain(&e);
    Error::QueryFailed(match e.as_db_error() {
        None => QueryError::Text(as_text),
        Some(db) => QueryError::DbError(DbError {
            as_text,
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: db_extras(db),
        }),
    })
}

/// The structured fields of a database error beyond those `db-error` names.
fn db_extras(db: &tokio_postgres::error::DbError) -> Vec<(String, String)> {
    let line = db.line().map(|l| l.to_string());
    [
        ("hint", db.hint()),
        ("schema", db.schema()),
        ("table", db.table()),
        ("column", db.column()),
        ("datatype", db.datatype()),
        ("constraint", db.constraint()),
        ("where", db.where_()),
        ("file", db.file()),
        ("line", line.as_deref()),
        ("routine", db.routine()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
    .collect()
}
