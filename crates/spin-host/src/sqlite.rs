//! `spin:sqlite`: each label a component lists in `sqlite_databases` is a
//! SQLite file in the data directory (`default` is `sqlite_db.db`, as in
//! Spin). While a guest holds a connection it is its own rusqlite
//! connection, so `last-insert-rowid` and `changes` mean what they say;
//! closed, it goes back to the database's idle connections for the next
//! open (opening a file and reading its schema costs more than most
//! statements), unless a transaction was left open. Spin itself shares one
//! connection per database among all guests. Statements are prepared once
//! per connection, run on the blocking pool, and rows stream to the guest.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::types::{Value as SqlValue, ValueRef};
use tokio::sync::{mpsc, oneshot};
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::spin::sqlite::sqlite::{self as wit, Error, QueryResult, RowResult, Value};
use super::streams::{CHANNEL_CAPACITY, ChannelProducer};
use super::{Spin, SpinView};

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections kept per database; more concurrent opens make new ones.
const MAX_IDLE: usize = 32;

/// The file of the database `label` under `dir`.
pub fn database_file(dir: &Path, label: &str) -> PathBuf {
    if label == "default" {
        dir.join("sqlite_db.db")
    } else {
        dir.join(format!("{label}.db"))
    }
}

/// A database file that connections are opened on.
#[derive(Debug)]
pub struct Database {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl Database {
    /// The file for `label` under `dir`, created (in WAL mode) if missing.
    pub fn open(dir: &Path, label: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let database = Database {
            path: database_file(dir, label),
            idle: Mutex::default(),
        };
        let conn = database
            .connect()
            .with_context(|| format!("cannot open SQLite database {}", database.path.display()))?;
        // WAL lets readers and one writer work at once; the mode persists in the file.
        conn.pragma_update(None, "journal_mode", "wal")?;
        Ok(database)
    }

    fn connect(&self) -> rusqlite::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// An idle connection, or a new one.
    fn lease(self: &Arc<Self>) -> rusqlite::Result<Lease> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(Lease {
            conn: Some(conn),
            home: self.clone(),
        })
    }
}

/// A connection taken from its database; it goes back when the last user
/// lets go (the guest's resource, or a statement still running), unless a
/// transaction is open on it: dropping it then rolls that back.
struct Lease {
    conn: Option<rusqlite::Connection>,
    home: Arc<Database>,
}

impl std::ops::Deref for Lease {
    type Target = rusqlite::Connection;

    fn deref(&self) -> &rusqlite::Connection {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if conn.is_autocommit() {
            let mut idle = self.home.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
    }
}

/// The `connection` resource.
#[allow(unreachable_pub)] // the generated bindings re-export it
pub struct Connection {
    conn: Arc<Mutex<Lease>>,
}

fn io_error(e: impl std::fmt::Display) -> Error {
    Error::Io(e.to_string())
}

impl SpinView<'_> {
    fn open_sqlite(&mut self, label: &str) -> Result<Resource<Connection>, Error> {
        let Some(database) = self.services.sqlite.get(label) else {
            // Spin does not say whether a database it refuses exists.
            return Err(Error::AccessDenied);
        };
        let conn = Arc::new(Mutex::new(database.lease().map_err(io_error)?));
        self.table.push(Connection { conn }).map_err(io_error)
    }

    fn sqlite_connection(&self, this: &Resource<Connection>) -> Result<Arc<Mutex<Lease>>, Error> {
        Ok(self
            .table
            .get(this)
            .map_err(|_| Error::InvalidConnection)?
            .conn
            .clone())
    }
}

/// Runs `statement`, sending the column names first and then each row; stops
/// early when `on_row` says the reader is gone.
fn run(
    conn: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<Value>,
    on_columns: impl FnOnce(Vec<String>),
    mut on_row: impl FnMut(RowResult) -> bool,
) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(statement).map_err(io_error)?;
    let columns: Vec<String> = stmt.column_names().map(String::from).collect();
    let width = columns.len();
    on_columns(columns);
    let parameters = rusqlite::params_from_iter(parameters.into_iter().map(to_sql));
    let mut rows = stmt.query(parameters).map_err(io_error)?;
    while let Some(row) = rows.next().map_err(io_error)? {
        let values = (0..width)
            .map(|i| row.get_ref(i).map(from_sql))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_error)?;
        if !on_row(RowResult { values }) {
            break;
        }
    }
    Ok(())
}

fn to_sql(value: Value) -> SqlValue {
    match value {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(r) => SqlValue::Real(r),
        Value::Text(s) => SqlValue::Text(s),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(s) => Value::Text(String::from_utf8_lossy(s).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Null => Value::Null,
    }
}

/// Runs a blocking closure on the connection off the async threads.
async fn with_connection<R: Send + 'static>(
    conn: Arc<Mutex<Lease>>,
    f: impl FnOnce(&rusqlite::Connection) -> R + Send + 'static,
) -> Result<R, Error> {
    tokio::task::spawn_blocking(move || f(&conn.lock().unwrap_or_else(|e| e.into_inner())))
        .await
        .map_err(io_error)
}

impl wit::Host for SpinView<'_> {
    fn convert_error(&mut self, err: Error) -> anyhow::Result<Error> {
        Ok(err)
    }
}

impl wit::HostConnection for SpinView<'_> {
    async fn open(&mut self, database: String) -> Result<Resource<Connection>, Error> {
        self.open_sqlite(&database)
    }

    async fn execute(
        &mut self,
        this: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error> {
        let conn = self.sqlite_connection(&this)?;
        with_connection(conn, move |conn| {
            let mut columns = Vec::new();
            let mut rows = Vec::new();
            run(
                conn,
                &statement,
                parameters,
                |c| columns = c,
                |row| {
                    rows.push(row);
                    true
                },
            )
            .map(|()| QueryResult { columns, rows })
        })
        .await?
    }

    async fn last_insert_rowid(&mut self, this: Resource<Connection>) -> anyhow::Result<i64> {
        let conn = self
            .sqlite_connection(&this)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(with_connection(conn, |c| c.last_insert_rowid())
            .await
            .unwrap_or(0))
    }

    async fn changes(&mut self, this: Resource<Connection>) -> anyhow::Result<u64> {
        let conn = self
            .sqlite_connection(&this)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(with_connection(conn, |c| c.changes()).await.unwrap_or(0))
    }

    async fn drop(&mut self, this: Resource<Connection>) -> anyhow::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl<T> wit::HostConnectionWithStore<T> for Spin {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> Result<Resource<Connection>, Error> {
        accessor.with(|mut access| access.get().open_sqlite(&database))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<
        (
            Vec<String>,
            StreamReader<RowResult>,
            FutureReader<Result<(), Error>>,
        ),
        Error,
    > {
        let conn = accessor.with(|mut access| access.get().sqlite_connection(&this))?;
        let (columns_tx, columns_rx) = oneshot::channel();
        let (rows_tx, rows_rx) = mpsc::channel(CHANNEL_CAPACITY);
        let (done_tx, done_rx) = oneshot::channel();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            let mut columns_tx = Some(columns_tx);
            let outcome = run(
                &conn,
                &statement,
                parameters,
                |columns| _ = columns_tx.take().map(|tx| tx.send(Ok(columns))),
                |row| rows_tx.blocking_send(row).is_ok(),
            );
            match columns_tx {
                // Failed before any column was known: the call itself fails.
                Some(tx) => _ = tx.send(outcome.map(|()| Vec::new())),
                None => _ = done_tx.send(outcome),
            }
        });
        let columns = columns_rx.await.map_err(io_error)??;
        accessor
            .with(|mut access| {
                let rows = StreamReader::new(&mut access, ChannelProducer(rows_rx))?;
                let done = FutureReader::new(&mut access, async move {
                    Ok::<_, wasmtime::Error>(
                        done_rx
                            .await
                            .unwrap_or_else(|_| Err(io_error("query worker stopped"))),
                    )
                })?;
                wasmtime::error::Ok((columns, rows, done))
            })
            .map_err(io_error)
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
    ) -> anyhow::Result<i64> {
        let conn = accessor
            .with(|mut access| access.get().sqlite_connection(&this))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(with_connection(conn, |c| c.last_insert_rowid())
            .await
            .unwrap_or(0))
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
    ) -> anyhow::Result<u64> {
        let conn = accessor
            .with(|mut access| access.get().sqlite_connection(&this))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(with_connection(conn, |c| c.changes()).await.unwrap_or(0))
    }
}
