//! `spin:postgres`: connections to PostgreSQL servers a component lists in
//! `allowed_outbound_hosts`. The host keeps one connection pool per address,
//! shared by every component; each WIT `connection` holds one pooled
//! connection until the guest drops it. TLS is not supported: addresses that
//! ask for it (`sslmode=require`) are refused.
//!
//! Values convert as in Spin's `factor-outbound-pg`, a little more leniently
//! for parameters: any integer parameter binds to any integer column (checked
//! for range), either float to either float column, a `datetime` to
//! `timestamp` or `timestamptz`.

// The WIT `error` is large (its `db-error` record), and the generated
// traits return it by value anyway.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::anyhow;
use bytes::{BufMut, BytesMut};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
    TimeoutType,
};
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row, Statement};
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::spin::postgres::postgres::{
    self as wit, Column, DbDataType, DbError, DbValue, Error, Interval, ParameterValue, QueryError,
    RangeBoundKind, RowSet,
};
use super::outbound::OutboundPolicy;
use super::streams::{CHANNEL_CAPACITY, ChannelProducer};
use super::{Spin, SpinView};

/// Connections per address.
const MAX_POOL_SIZE: usize = 16;
/// How long opening a connection may take, and waiting for a free one when
/// all are in use, before the guest gets `connection-failed`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long resetting a pooled connection for its next user may take.
const RECYCLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Past this many addresses, pools with no connection in use are dropped.
const MAX_POOLS: usize = 64;

/// Run on a pooled connection before it is handed out again, so no session
/// state leaks between guests (as deadpool's `Clean`, which keeps prepared
/// statements). The first statement tells whether the previous user left a
/// transaction open: only outside one is `now()` this query's own start.
const RESET_SQL: &str = "SELECT now() = statement_timestamp(); \
    CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
    SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;";

type BoxError = Box<dyn std::error::Error + Sync + Send>;
type Params = Vec<Param>;

/// Host-wide connection pools, one per address, created on first use.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<String, Pool>>,
}

impl Pools {
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates a database address at start-up: connects and runs `SELECT 1`.
    pub async fn check(&self, address: &str) -> anyhow::Result<()> {
        let client = self
            .connect(address)
            .await
            .map_err(|e| anyhow!(error_text(&e)))?;
        client.simple_query("SELECT 1").await.map_err(|e| {
            anyhow!(
                "PostgreSQL at {} did not answer SELECT 1: {}",
                redact(address),
                error_chain(&e)
            )
        })?;
        Ok(())
    }

    /// Each pool's address (password redacted) with its size, idle
    /// connections and waiting callers, for the metrics.
    pub fn figures(&self) -> Vec<(String, deadpool_postgres::Status)> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools
            .iter()
            .map(|(address, pool)| (redact(address), pool.status()))
            .collect()
    }

    /// A pooled connection to `address` (the caller checks the outbound policy).
    async fn connect(&self, address: &str) -> Result<Object, Error> {
        let pool = self.pool(address)?;
        pool.get().await.map_err(|e| pool_error(e, address))
    }

    fn pool(&self, address: &str) -> Result<Pool, Error> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let pool = create_pool(address)?;
        if pools.len() >= MAX_POOLS {
            pools.retain(|_, pool| {
                let status = pool.status();
                status.size > status.available
            });
        }
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }
}

fn create_pool(address: &str) -> Result<Pool, Error> {
    let mut config = parse_address(address)?;
    match config.get_ssl_mode() {
        SslMode::Disable | SslMode::Prefer => {}
        _ => {
            return Err(Error::ConnectionFailed(format!(
                "cannot connect to {}: TLS is not supported by this host (use sslmode=disable or prefer)",
                redact(address)
            )));
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("mhmanus-host");
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    tracing::debug!(address = %redact(address), "new PostgreSQL connection pool");
    Pool::builder(manager)
        .max_size(MAX_POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(RECYCLE_TIMEOUT))
        .pre_recycle(Hook::async_fn(|client, _| {
            Box::pin(async move {
                match tokio::time::timeout(RECYCLE_TIMEOUT, reset_session(client)).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(HookError::Backend(e)),
                    Err(_) => Err(HookError::message(
                        "timed out resetting a pooled connection",
                    )),
                }
            })
        }))
        .build()
        .map_err(|e| Error::Other(format!("cannot create a connection pool: {e}")))
}

/// Returns a session to its pristine state, rolling back whatever
/// transaction the previous user left open. A failure drops the connection.
async fn reset_session(client: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    let fresh = match client.simple_query(RESET_SQL).await {
        Ok(messages) => messages.iter().any(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("t"),
            _ => false,
        }),
        // A failed transaction refuses everything but its end.
        Err(e) if e.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => false,
        Err(e) => return Err(e),
    };
    if !fresh {
        client.batch_execute("ROLLBACK").await?;
        client.simple_query(RESET_SQL).await?;
    }
    Ok(())
}

fn parse_address(address: &str) -> Result<tokio_postgres::Config, Error> {
    address.parse().map_err(|e: tokio_postgres::Error| {
        // The parser may quote one character of the address: drop it, it
        // could be part of the password.
        let text = error_chain(&e);
        let text = match text.find(" but got `") {
            Some(at) => &text[..at],
            None => &text,
        };
        Error::ConnectionFailed(text.to_owned())
    })
}

fn is_url(address: &str) -> bool {
    address.starts_with("postgres://") || address.starts_with("postgresql://")
}

/// `address` without its password, for messages and logs.
fn redact(address: &str) -> String {
    if is_url(address) && url::Url::parse(address).is_ok() {
        return crate::redact::url(address);
    }
    // Key=value form (or a URL the `url` crate cannot read, e.g. several
    // hosts): describe it from what the driver understood.
    let Ok(config) = address.parse::<tokio_postgres::Config>() else {
        return "(an unreadable address)".into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            #[allow(unreachable_patterns)]
            _ => "(socket)".into(),
        })
        .collect();
    let mut parts = Vec::new();
    if !hosts.is_empty() {
        parts.push(format!("host={}", hosts.join(",")));
    }
    if !config.get_hostaddrs().is_empty() {
        let addrs: Vec<String> = config
            .get_hostaddrs()
            .iter()
            .map(|a| a.to_string())
            .collect();
        parts.push(format!("hostaddr={}", addrs.join(",")));
    }
    if !config.get_ports().is_empty() {
        let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
        parts.push(format!("port={}", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(dbname) = config.get_dbname() {
        parts.push(format!("dbname={dbname}"));
    }
    parts.join(" ")
}

/// Whether the component may reach every server `address` names (host and
/// `hostaddr` alike: the driver connects to the latter when given).
fn allowed(policy: &OutboundPolicy, address: &str, config: &tokio_postgres::Config) -> bool {
    if is_url(address) && !policy.allows_url(address) {
        return false;
    }
    let hosts = config.get_hosts();
    let hostaddrs = config.get_hostaddrs();
    let ports = config.get_ports();
    let count = hosts.len().max(hostaddrs.len());
    count > 0
        && (0..count).all(|i| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            let allows = |host: &str| {
                let host = if host.contains(':') && !host.starts_with('[') {
                    format!("[{host}]")
                } else {
                    host.to_owned()
                };
                policy.allows("postgres", &host, port)
            };
            let host_ok = match hosts.get(i) {
                Some(Host::Tcp(name)) => allows(name),
                Some(_) => false, // Unix sockets are never outbound hosts.
                None => true,
            };
            host_ok && hostaddrs.get(i).is_none_or(|ip| allows(&ip.to_string()))
        })
}

fn check_outbound(policy: &OutboundPolicy, address: &str) -> Result<(), Error> {
    let config = parse_address(address)?;
    if allowed(policy, address, &config) {
        Ok(())
    } else {
        Err(Error::ConnectionFailed(format!(
            "access denied: {} is not in allowed_outbound_hosts",
            redact(address)
        )))
    }
}

fn pool_error(e: PoolError, address: &str) -> Error {
    let address = redact(address);
    Error::ConnectionFailed(match e {
        PoolError::Backend(e) => format!("cannot connect to {address}: {}", error_chain(&e)),
        PoolError::Timeout(TimeoutType::Wait) => format!(
            "timed out waiting for a free connection to {address} (all {MAX_POOL_SIZE} in use)"
        ),
        PoolError::Timeout(TimeoutType::Create) => format!("timed out connecting to {address}"),
        PoolError::Timeout(TimeoutType::Recycle) => {
            format!("timed out checking a pooled connection to {address}")
        }
        e => format!("cannot connect to {address}: {e}"),
    })
}

/// An error with its causes, as `a: b: c` (the driver's own `Display` names
/// only the outermost).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn error_text(e: &Error) -> String {
    match e {
        Error::ConnectionFailed(s)
        | Error::BadParameter(s)
        | Error::ValueConversionFailed(s)
        | Error::Other(s) => s.clone(),
        Error::QueryFailed(QueryError::Text(s)) => s.clone(),
        Error::QueryFailed(QueryError::DbError(e)) => e.as_text.clone(),
    }
}

fn query_failed(e: tokio_postgres::Error) -> Error {
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

// ---------------------------------------------------------------------------
// Resources and host traits.

/// The `connection` resource: one pooled connection, returned to its pool
/// when the guest drops it (or when the last query streaming from it ends).
pub struct Connection {
    client: Arc<Object>,
}

/// The `connection-builder` resource.
pub struct ConnectionBuilder {
    address: String,
}

impl SpinView<'_> {
    /// Checks the outbound policy and hands out the pools to connect with.
    fn pg_pools(&self, address: &str) -> Result<Arc<Pools>, Error> {
        check_outbound(&self.services.outbound, address)?;
        Ok(self.services.postgres.clone())
    }

    fn push_pg_connection(&mut self, client: Object) -> Result<Resource<Connection>, Error> {
        self.table
            .push(Connection {
                client: Arc::new(client),
            })
            .map_err(|e| Error::Other(e.to_string()))
    }

    fn pg_client(&self, this: &Resource<Connection>) -> Result<Arc<Object>, Error> {
        self.table
            .get(this)
            .map(|c| c.client.clone())
            .map_err(|e| Error::Other(format!("invalid connection: {e}")))
    }

    fn pg_builder_address(&self, this: &Resource<ConnectionBuilder>) -> Result<String, Error> {
        self.table
            .get(this)
            .map(|b| b.address.clone())
            .map_err(|e| Error::Other(format!("invalid connection builder: {e}")))
    }

    async fn open_pg(&mut self, address: &str) -> Result<Resource<Connection>, Error> {
        let client = self.pg_pools(address)?.connect(address).await?;
        self.push_pg_connection(client)
    }
}

async fn open_with<T>(
    accessor: &Accessor<T, Spin>,
    address: &str,
) -> Result<Resource<Connection>, Error> {
    let pools = accessor.with(|mut access| access.get().pg_pools(address))?;
    let client = pools.connect(address).await?;
    accessor.with(|mut access| access.get().push_pg_connection(client))
}

impl wit::Host for SpinView<'_> {
    fn convert_error(&mut self, err: Error) -> anyhow::Result<Error> {
        Ok(err)
    }
}

impl wit::HostConnectionBuilder for SpinView<'_> {
    async fn new(&mut self, address: String) -> anyhow::Result<Resource<ConnectionBuilder>> {
        Ok(self.table.push(ConnectionBuilder { address })?)
    }

    async fn set_ca_root(
        &mut self,
        _this: Resource<ConnectionBuilder>,
        _certificate: String,
    ) -> Result<(), Error> {
        Err(Error::Other(
            "custom CA roots are not supported by this host".into(),
        ))
    }

    async fn build(
        &mut self,
        this: Resource<ConnectionBuilder>,
    ) -> Result<Resource<Connection>, Error> {
        let address = self.pg_builder_address(&this)?;
        self.open_pg(&address).await
    }

    async fn drop(&mut self, this: Resource<ConnectionBuilder>) -> anyhow::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl<T> wit::HostConnectionBuilderWithStore<T> for Spin {
    async fn build_async(
        accessor: &Accessor<T, Self>,
        this: Resource<ConnectionBuilder>,
    ) -> Result<Resource<Connection>, Error> {
        let address = accessor.with(|mut access| access.get().pg_builder_address(&this))?;
        open_with(accessor, &address).await
    }
}

impl wit::HostConnection for SpinView<'_> {
    async fn open(&mut self, address: String) -> Result<Resource<Connection>, Error> {
        self.open_pg(&address).await
    }

    async fn query(
        &mut self,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let client = self.pg_client(&this)?;
        query(&client, &statement, params).await
    }

    async fn execute(
        &mut self,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let client = self.pg_client(&this)?;
        execute(&client, &statement, params).await
    }

    async fn drop(&mut self, this: Resource<Connection>) -> anyhow::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl<T> wit::HostConnectionWithStore<T> for Spin {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> Result<Resource<Connection>, Error> {
        open_with(accessor, &address).await
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<
        (
            Vec<Column>,
            StreamReader<Vec<DbValue>>,
            FutureReader<Result<(), Error>>,
        ),
        Error,
    > {
        let client = accessor.with(|mut access| access.get().pg_client(&this))?;
        let (columns, rows_rx, done_rx) = start_query(client, &statement, params).await?;
        accessor
            .with(|mut access| {
                let rows = StreamReader::new(&mut access, ChannelProducer(rows_rx))?;
                let done = FutureReader::new(&mut access, async move {
                    Ok::<_, wasmtime::Error>(
                        done_rx
                            .await
                            .unwrap_or_else(|_| Err(Error::Other("query task stopped".into()))),
                    )
                })?;
                wasmtime::error::Ok((columns, rows, done))
            })
            .map_err(|e| Error::Other(e.to_string()))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let client = accessor.with(|mut access| access.get().pg_client(&this))?;
        execute(&client, &statement, params).await
    }
}

// ---------------------------------------------------------------------------
// Running statements.

fn param_refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn columns_of(statement: &Statement) -> Vec<Column> {
    statement
        .columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            data_type: data_type(c.type_()),
        })
        .collect()
}

async fn query(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<RowSet, Error> {
    let params = to_sql_params(params)?;
    let statement = client.prepare(statement).await.map_err(query_failed)?;
    let rows = client
        .query(&statement, &param_refs(&params))
        .await
        .map_err(query_failed)?;
    Ok(RowSet {
        columns: columns_of(&statement),
        rows: rows.iter().map(convert_row).collect::<Result<_, _>>()?,
    })
}

async fn execute(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<u64, Error> {
    let params = to_sql_params(params)?;
    client
        .execute(statement, &param_refs(&params))
        .await
        .map_err(query_failed)
}

/// Starts `statement` and streams its rows through a bounded channel from a
/// task that keeps the connection until the last row is read (or the reader
/// goes away); the outcome arrives last. Errors before the first row fail
/// the call itself.
async fn start_query(
    client: Arc<Object>,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<
    (
        Vec<Column>,
        mpsc::Receiver<Vec<DbValue>>,
        oneshot::Receiver<Result<(), Error>>,
    ),
    Error,
> {
    let params = to_sql_params(params)?;
    let statement = client.prepare(statement).await.map_err(query_failed)?;
    let columns = columns_of(&statement);
    let rows = client
        .query_raw(&statement, param_refs(&params))
        .await
        .map_err(query_failed)?;
    drop(params);
    let (rows_tx, rows_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut rows = std::pin::pin!(rows);
        let outcome = loop {
            let row = match rows.next().await {
                None => break Ok(()),
                Some(Err(e)) => break Err(query_failed(e)),
                Some(Ok(row)) => row,
            };
            match convert_row(&row) {
                Ok(values) => {
                    if rows_tx.send(values).await.is_err() {
                        break Ok(()); // The guest stopped reading.
                    }
                }
                Err(e) => break Err(e),
            }
        };
        drop(rows_tx);
        _ = done_tx.send(outcome);
        drop(client);
    });
    Ok((columns, rows_rx, done_rx))
}

// ---------------------------------------------------------------------------
// Parameters.

fn bad_parameter(index: usize, message: impl std::fmt::Display) -> Error {
    Error::BadParameter(format!("parameter ${}: {message}", index + 1))
}

fn to_sql_params(params: Vec<ParameterValue>) -> Result<Params, Error> {
    params
        .into_iter()
        .enumerate()
        .map(|(i, p)| to_sql_param(p).map(Param).map_err(|e| bad_parameter(i, e)))
        .collect()
}

/// The type a domain is defined over (or `ty` itself).
fn base_type(mut ty: &Type) -> &Type {
    while let Kind::Domain(base) = ty.kind() {
        ty = base;
    }
    ty
}

/// A converted parameter; it binds to a domain as to the domain's base type.
#[derive(Debug)]
struct Param(Box<dyn ToSql + Send + Sync>);

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql_checked(base_type(ty), w)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql_checked(base_type(ty), w)
    }
}

fn to_sql_param(value: ParameterValue) -> Result<Box<dyn ToSql + Send + Sync>, String> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(v),
        ParameterValue::Int8(v) => Box::new(Int(v.into())),
        ParameterValue::Int16(v) => Box::new(Int(v.into())),
        ParameterValue::Int32(v) => Box::new(Int(v.into())),
        ParameterValue::Int64(v) => Box::new(Int(v)),
        ParameterValue::Floating32(v) => Box::new(Float(v.into())),
        ParameterValue::Floating64(v) => Box::new(Float(v)),
        ParameterValue::Str(v) => Box::new(Text(v)),
        ParameterValue::Binary(v) => Box::new(v),
        ParameterValue::Date(v) => Box::new(date_from_wit(v)?),
        ParameterValue::Time(v) => Box::new(time_from_wit(v)?),
        ParameterValue::Datetime(v) => Box::new(DateTimeParam(datetime_from_wit(v)?)),
        ParameterValue::Timestamp(v) => Box::new(timestamp_from_wit(v)?),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(&v).map_err(|e| format!("invalid UUID {v:?}: {e}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(&v)
                .map_err(|e| format!("invalid JSON: {e}"))?,
        ),
        ParameterValue::Decimal(v) => Box::new(NumericParam::parse(&v)?),
        ParameterValue::RangeInt32((lower, upper)) => Box::new(PgRange(lower, upper)),
        ParameterValue::RangeInt64((lower, upper)) => Box::new(PgRange(lower, upper)),
        ParameterValue::RangeDecimal((lower, upper)) => {
            let bound = |b: Option<(String, RangeBoundKind)>| {
                b.map(|(v, kind)| NumericParam::parse(&v).map(|n| (n, kind)))
                    .transpose()
            };
            Box::new(PgRange(bound(lower)?, bound(upper)?))
        }
        ParameterValue::ArrayInt32(v) => Box::new(
            v.into_iter()
                .map(|v| v.map(|v| Int(v.into())))
                .collect::<Vec<_>>(),
        ),
        ParameterValue::ArrayInt64(v) => {
            Box::new(v.into_iter().map(|v| v.map(Int)).collect::<Vec<_>>())
        }
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|v| v.as_deref().map(NumericParam::parse).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ParameterValue::ArrayStr(v) => {
            Box::new(v.into_iter().map(|v| v.map(Text)).collect::<Vec<_>>())
        }
        ParameterValue::Interval(v) => Box::new(PgInterval(v)),
        ParameterValue::DbNull => Box::new(Null),
    })
}

fn date_from_wit((y, m, d): (i32, u8, u8)) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(y, m.into(), d.into())
        .ok_or_else(|| format!("invalid date {y:04}-{m:02}-{d:02}"))
}

fn time_from_wit((h, m, s, ns): (u8, u8, u8, u32)) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(h.into(), m.into(), s.into(), ns)
        .ok_or_else(|| format!("invalid time {h:02}:{m:02}:{s:02}.{ns:09}"))
}

fn datetime_from_wit(
    (y, mo, d, h, mi, s, ns): (i32, u8, u8, u8, u8, u8, u32),
) -> Result<NaiveDateTime, String> {
    Ok(date_from_wit((y, mo, d))?.and_time(time_from_wit((h, mi, s, ns))?))
}

fn timestamp_from_wit(seconds: i64) -> Result<SystemTime, String> {
    let offset = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    }
    .ok_or_else(|| format!("timestamp {seconds} is out of range"))
}

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A string parameter: binds to the text types and to enums (whose binary
/// form is the label).
#[derive(Debug)]
struct Text(String);

impl ToSql for Text {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        match ty.kind() {
            Kind::Enum(_) => {
                w.put_slice(self.0.as_bytes());
                Ok(IsNull::No)
            }
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty) || matches!(ty.kind(), Kind::Enum(_))
    }

    to_sql_checked!();
}

/// An integer parameter: binds to `int2`, `int4`, `int8` (if it fits) or
/// `numeric`.
#[derive(Debug)]
struct Int(i64);

impl ToSql for Int {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        let out_of_range = || format!("{} is out of range for type {ty}", self.0);
        match *ty {
            Type::INT2 => i16::try_from(self.0)
                .map_err(|_| out_of_range())?
                .to_sql(ty, w),
            Type::INT4 => i32::try_from(self.0)
                .map_err(|_| out_of_range())?
                .to_sql(ty, w),
            Type::NUMERIC => NumericParam::parse(&self.0.to_string())?.to_sql(ty, w),
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8 | Type::NUMERIC)
    }

    to_sql_checked!();
}

/// A float parameter: binds to `float4` or `float8`.
#[derive(Debug)]
struct Float(f64);

impl ToSql for Float {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *ty {
            Type::FLOAT4 => (self.0 as f32).to_sql(ty, w),
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::FLOAT4 | Type::FLOAT8)
    }

    to_sql_checked!();
}

/// A date-time parameter, read as UTC: binds to `timestamp` or `timestamptz`.
#[derive(Debug)]
struct DateTimeParam(NaiveDateTime);

impl ToSql for DateTimeParam {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *ty {
            Type::TIMESTAMPTZ => self.0.and_utc().to_sql(ty, w),
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::TIMESTAMP | Type::TIMESTAMPTZ)
    }

    to_sql_checked!();
}

/// `interval` in PostgreSQL's binary form: microseconds, days, months.
#[derive(Debug)]
struct PgInterval(Interval);

impl ToSql for PgInterval {
    fn to_sql(&self, _: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        w.put_i64(self.0.micros);
        w.put_i32(self.0.days);
        w.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl FromSql<'_> for PgInterval {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let raw: [u8; 16] = raw.try_into().map_err(|_| "invalid interval value")?;
        let (micros, rest) = raw.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(PgInterval(Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

// ---------------------------------------------------------------------------
// `numeric`, in PostgreSQL's binary form: digit count, weight (of the first
// base-10000 digit), sign, display scale, then the base-10000 digits.

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;
/// PostgreSQL's limits: digits before and after the decimal point.
const NUMERIC_MAX_INT_DIGITS: usize = 131_072;
const NUMERIC_MAX_SCALE: usize = 16_383;

/// A decimal parameter, encoded when the parameter is converted.
#[derive(Debug)]
struct NumericParam(Vec<u8>);

impl NumericParam {
    /// Parses `[+-]digits[.digits][e[+-]digits]`, `NaN` or `[+-]Infinity`.
    fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid decimal {text:?}");
        let s = text.trim();
        let (negative, unsigned) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let special = |sign: u16| Self::encode(&[], 0, sign, 0);
        if unsigned.eq_ignore_ascii_case("nan") && unsigned.len() == s.len() {
            return Ok(special(NUMERIC_NAN));
        }
        if unsigned.eq_ignore_ascii_case("infinity") || unsigned.eq_ignore_ascii_case("inf") {
            return Ok(special(if negative { NUMERIC_NINF } else { NUMERIC_PINF }));
        }
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => {
                let exponent: i64 = unsigned[at + 1..].parse().map_err(|_| invalid())?;
                (&unsigned[..at], exponent)
            }
            None => (unsigned, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return Err(invalid());
        }
        if exponent.unsigned_abs() > (NUMERIC_MAX_INT_DIGITS + NUMERIC_MAX_SCALE) as u64 {
            return Err(format!("decimal {text:?} is out of range"));
        }
        // The digits, and where the decimal point falls among them.
        let digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        let point = int_part.len() as i64 + exponent;
        let (int_digits, frac_digits): (Vec<u8>, Vec<u8>) = if point <= 0 {
            let zeros = std::iter::repeat_n(0, point.unsigned_abs() as usize);
            (Vec::new(), zeros.chain(digits).collect())
        } else if point as usize >= digits.len() {
            let zeros = std::iter::repeat_n(0, point as usize - digits.len());
            (digits.into_iter().chain(zeros).collect(), Vec::new())
        } else {
            let (i, f) = digits.split_at(point as usize);
            (i.to_vec(), f.to_vec())
        };
        if int_digits.len() > NUMERIC_MAX_INT_DIGITS || frac_digits.len() > NUMERIC_MAX_SCALE {
            return Err(format!("decimal {text:?} is out of range"));
        }
        let dscale = frac_digits.len() as u16;
        // Group into base-10000 digits aligned on the decimal point.
        let int_pad = (4 - int_digits.len() % 4) % 4;
        let frac_pad = (4 - frac_digits.len() % 4) % 4;
        let int_groups = (int_digits.len() + int_pad) / 4;
        let aligned: Vec<u8> = std::iter::repeat_n(0, int_pad)
            .chain(int_digits)
            .chain(frac_digits)
            .chain(std::iter::repeat_n(0, frac_pad))
            .collect();
        let groups: Vec<i16> = aligned
            .chunks(4)
            .map(|c| c.iter().fold(0i16, |n, &d| n * 10 + i16::from(d)))
            .collect();
        let mut weight = int_groups as i64 - 1;
        let first = groups.iter().position(|&g| g != 0);
        let last = groups.iter().rposition(|&g| g != 0);
        let (groups, sign) = match (first, last) {
            (Some(first), Some(last)) => {
                weight -= first as i64;
                let sign = if negative { NUMERIC_NEG } else { NUMERIC_POS };
                (&groups[first..=last], sign)
            }
            _ => {
                weight = 0;
                (&groups[..0], NUMERIC_POS)
            }
        };
        Ok(Self::encode(groups, weight as i16, sign, dscale))
    }

    fn encode(groups: &[i16], weight: i16, sign: u16, dscale: u16) -> Self {
        let mut out = Vec::with_capacity(8 + 2 * groups.len());
        out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
        out.extend_from_slice(&weight.to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
        for g in groups {
            out.extend_from_slice(&g.to_be_bytes());
        }
        NumericParam(out)
    }
}

impl ToSql for NumericParam {
    fn to_sql(&self, _: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        w.put_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

/// A `numeric` value as decimal text, as PostgreSQL prints it.
#[derive(Debug)]
struct NumericText(String);

impl FromSql<'_> for NumericText {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let field = |i: usize| -> Result<[u8; 2], BoxError> {
            Ok(raw
                .get(i..i + 2)
                .ok_or("truncated numeric value")?
                .try_into()?)
        };
        let ndigits = i16::from_be_bytes(field(0)?);
        let weight = i16::from_be_bytes(field(2)?);
        let sign = u16::from_be_bytes(field(4)?);
        let dscale = u16::from_be_bytes(field(6)?);
        let digits = (0..usize::try_from(ndigits)?)
            .map(|i| Ok(i16::from_be_bytes(field(8 + 2 * i)?)))
            .collect::<Result<Vec<i16>, BoxError>>()?;
        let text = match sign {
            NUMERIC_NAN => "NaN".to_owned(),
            NUMERIC_PINF => "Infinity".to_owned(),
            NUMERIC_NINF => "-Infinity".to_owned(),
            NUMERIC_POS | NUMERIC_NEG => {
                // Digit k stands for 10000^(weight - k).
                let digit = |k: i32| {
                    usize::try_from(k)
                        .ok()
                        .and_then(|k| digits.get(k))
                        .copied()
                        .unwrap_or(0)
                };
                let mut s = String::new();
                if sign == NUMERIC_NEG {
                    s.push('-');
                }
                if weight < 0 {
                    s.push('0');
                } else {
                    s.push_str(&digit(0).to_string());
                    for k in 1..=i32::from(weight) {
                        s.push_str(&format!("{:04}", digit(k)));
                    }
                }
                if dscale > 0 {
                    let mut frac = String::new();
                    let mut k = i32::from(weight) + 1;
                    while frac.len() < usize::from(dscale) {
                        frac.push_str(&format!("{:04}", digit(k)));
                        k += 1;
                    }
                    frac.truncate(dscale.into());
                    s.push('.');
                    s.push_str(&frac);
                }
                s
            }
            _ => return Err("invalid numeric sign".into()),
        };
        Ok(NumericText(text))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

// ---------------------------------------------------------------------------
// Ranges, in PostgreSQL's binary form: a flags byte, then each finite bound
// as a length-prefixed value of the element type.

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;
const RANGE_LB_NULL: u8 = 0x20;
const RANGE_UB_NULL: u8 = 0x40;

/// A range with optional (unbounded when `None`) lower and upper bounds. An
/// empty range reads as `(None, None)`, as in Spin.
#[derive(Debug)]
struct PgRange<T>(Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

fn range_element(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<T: ToSql> ToSql for PgRange<T> {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let mut flags = 0;
        match &self.0 {
            None => flags |= RANGE_LB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_LB_INC,
            Some(_) => {}
        }
        match &self.1 {
            None => flags |= RANGE_UB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_UB_INC,
            Some(_) => {}
        }
        w.put_u8(flags);
        for (value, _) in [&self.0, &self.1].into_iter().flatten() {
            let start = w.len();
            w.put_i32(0);
            if let IsNull::Yes = value.to_sql(element, w)? {
                return Err("range bounds cannot be NULL".into());
            }
            let len = i32::try_from(w.len() - start - 4)?;
            w[start..start + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(T::accepts)
    }

    to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgRange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let (&flags, mut rest) = raw.split_first().ok_or("empty range value")?;
        if flags & RANGE_EMPTY != 0 {
            return Ok(PgRange(None, None));
        }
        let mut bound = |absent: u8, inclusive: u8| -> Result<_, BoxError> {
            if flags & absent != 0 {
                return Ok(None);
            }
            let (len, tail) = rest.split_first_chunk::<4>().ok_or("truncated range")?;
            let len = usize::try_from(i32::from_be_bytes(*len))?;
            let (value, tail) = tail.split_at_checked(len).ok_or("truncated range")?;
            rest = tail;
            let kind = if flags & inclusive != 0 {
                RangeBoundKind::Inclusive
            } else {
                RangeBoundKind::Exclusive
            };
            Ok(Some((T::from_sql(element, value)?, kind)))
        };
        let lower = bound(RANGE_LB_INF | RANGE_LB_NULL, RANGE_LB_INC)?;
        let upper = bound(RANGE_UB_INF | RANGE_UB_NULL, RANGE_UB_INC)?;
        Ok(PgRange(lower, upper))
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(T::accepts)
    }
}

// ---------------------------------------------------------------------------
// Rows.

/// The WIT type of a column of PostgreSQL type `ty`.
fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY | Type::NAME_ARRAY => {
            DbDataType::ArrayStr
        }
        Type::INTERVAL => DbDataType::Interval,
        _ if ty.name() == "citext" || matches!(ty.kind(), Kind::Enum(_)) => DbDataType::Str,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

fn convert_row(row: &Row) -> Result<Vec<DbValue>, Error> {
    (0..row.len()).map(|i| convert_value(row, i)).collect()
}

/// Any value's raw bytes, for types with no WIT counterpart.
struct Raw(Vec<u8>);

impl FromSql<'_> for Raw {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn convert_value(row: &Row, index: usize) -> Result<DbValue, Error> {
    let column = &row.columns()[index];
    let failed = |e: &(dyn std::error::Error + 'static)| {
        Error::ValueConversionFailed(format!("column {:?}: {}", column.name(), error_chain(e)))
    };
    fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<Option<T>, Error> {
        row.try_get(index).map_err(|e| {
            let name = row.columns()[index].name();
            Error::ValueConversionFailed(format!("column {name:?}: {}", error_chain(&e)))
        })
    }
    let value = match data_type(column.type_()) {
        DbDataType::Boolean => get(row, index)?.map(DbValue::Boolean),
        DbDataType::Int16 => get(row, index)?.map(DbValue::Int16),
        DbDataType::Int32 => get(row, index)?.map(DbValue::Int32),
        DbDataType::Int64 => get(row, index)?.map(DbValue::Int64),
        DbDataType::Floating32 => get(row, index)?.map(DbValue::Floating32),
        DbDataType::Floating64 => get(row, index)?.map(DbValue::Floating64),
        DbDataType::Str if matches!(column.type_().kind(), Kind::Enum(_)) => get(row, index)?
            .map(|Raw(label)| String::from_utf8(label).map(DbValue::Str))
            .transpose()
            .map_err(|e| failed(&e))?,
        DbDataType::Str => get(row, index)?.map(DbValue::Str),
        DbDataType::Binary => get(row, index)?.map(DbValue::Binary),
        DbDataType::Date => get(row, index)?.map(|d: NaiveDate| DbValue::Date(date_to_wit(d))),
        DbDataType::Time => get(row, index)?.map(|t: NaiveTime| DbValue::Time(time_to_wit(t))),
        DbDataType::Datetime => {
            let value = if *column.type_() == Type::TIMESTAMPTZ {
                get::<chrono::DateTime<chrono::Utc>>(row, index)?.map(|t| t.naive_utc())
            } else {
                get::<NaiveDateTime>(row, index)?
            };
            value.map(|t| DbValue::Datetime(datetime_to_wit(t)))
        }
        DbDataType::Uuid => get(row, index)?.map(|u: uuid::Uuid| DbValue::Uuid(u.to_string())),
        DbDataType::Jsonb => get::<serde_json::Value>(row, index)?
            .map(|v| serde_json::to_vec(&v).map(DbValue::Jsonb))
            .transpose()
            .map_err(|e| failed(&e))?,
        DbDataType::Decimal => get(row, index)?.map(|n: NumericText| DbValue::Decimal(n.0)),
        DbDataType::RangeInt32 => get(row, index)?.map(|PgRange(l, u)| DbValue::RangeInt32((l, u))),
        DbDataType::RangeInt64 => get(row, index)?.map(|PgRange(l, u)| DbValue::RangeInt64((l, u))),
        DbDataType::RangeDecimal => get(row, index)?.map(|PgRange(l, u)| {
            let text = |b: Option<(NumericText, RangeBoundKind)>| b.map(|(n, k)| (n.0, k));
            DbValue::RangeDecimal((text(l), text(u)))
        }),
        DbDataType::ArrayInt32 => get(row, index)?.map(DbValue::ArrayInt32),
        DbDataType::ArrayInt64 => get(row, index)?.map(DbValue::ArrayInt64),
        DbDataType::ArrayDecimal => get(row, index)?.map(|v: Vec<Option<NumericText>>| {
            DbValue::ArrayDecimal(v.into_iter().map(|n| n.map(|n| n.0)).collect())
        }),
        DbDataType::ArrayStr => get(row, index)?.map(DbValue::ArrayStr),
        DbDataType::Interval => get(row, index)?.map(|PgInterval(i)| DbValue::Interval(i)),
        DbDataType::Int8 | DbDataType::Timestamp | DbDataType::Other(_) => {
            get(row, index)?.map(|Raw(bytes)| DbValue::Unsupported(bytes))
        }
    };
    Ok(value.unwrap_or(DbValue::DbNull))
}

fn date_to_wit(d: NaiveDate) -> (i32, u8, u8) {
    (d.year(), d.month() as u8, d.day() as u8)
}

fn time_to_wit(t: NaiveTime) -> (u8, u8, u8, u32) {
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

fn datetime_to_wit(t: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (y, mo, d) = date_to_wit(t.date());
    let (h, mi, s, ns) = time_to_wit(t.time());
    (y, mo, d, h, mi, s, ns)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// The WIT types have no `PartialEq`: compare what they print.
    macro_rules! assert_debug_eq {
        ($left:expr, $right:expr $(,)?) => {
            assert_eq!(format!("{:?}", $left), format!("{:?}", $right))
        };
    }

    async fn backend_pid(client: &tokio_postgres::Client) -> i32 {
        client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0)
    }

    /// The local test server (trust authentication).
    const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    async fn client(pools: &Pools) -> Object {
        pools.connect(URL).await.expect("the test database is up")
    }

    fn text(e: Error) -> String {
        error_text(&e)
    }

    #[tokio::test]
    async fn check_succeeds_against_the_local_server() {
        Pools::new().check(URL).await.unwrap();
        // Key=value form too.
        Pools::new()
            .check("host=127.0.0.1 port=5432 user=postgres dbname=postgres")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn check_fails_fast_for_a_dead_server_without_showing_the_password() {
        let started = Instant::now();
        let err = Pools::new()
            .check("postgres://postgres:s3cret@127.0.0.1:1/postgres")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            err.contains("cannot connect to postgres://postgres:***@127.0.0.1:1/postgres"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");

        let err = Pools::new()
            .check("host=127.0.0.1 port=1 user=postgres password=s3cret")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("host=127.0.0.1 port=1 user=postgres"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[tokio::test]
    async fn tls_is_refused() {
        let err = Pools::new()
            .connect("postgres://postgres:s3cret@127.0.0.1:5432/postgres?sslmode=require")
            .await
            .map(drop)
            .unwrap_err();
        let Error::ConnectionFailed(message) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("TLS is not supported by this host"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }

    #[test]
    fn invalid_addresses_are_reported_without_their_text() {
        let err = text(parse_address("host=x password=s3cret port 5").unwrap_err());
        assert_eq!(
            err,
            "invalid connection string: unexpected character at byte 28: expected `=`"
        );
        assert_eq!(redact("host=x password='s3cret"), "(an unreadable address)");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:s3cret@db:5433/app?password=s3cret&application_name=x"),
            "postgres://u:***@db:5433/app?password=***&application_name=x"
        );
        assert_eq!(redact("postgres://db/app"), "postgres://db/app");
        assert_eq!(
            redact("host=db port=5433 user=u password=s3cret dbname=app"),
            "host=db port=5433 user=u dbname=app"
        );
        assert_eq!(
            redact("postgres://u:s3cret@a:1,b:2/app"),
            "host=a,b port=1,2 user=u dbname=app"
        );
    }

    #[test]
    fn outbound_policy_is_enforced_for_both_address_forms() {
        let policy =
            OutboundPolicy::new(["postgres://db.internal:5432", "postgres://10.0.0.5:*"]).unwrap();
        let ok = |address: &str| check_outbound(&policy, address).is_ok();
        assert!(ok("postgres://u:pw@db.internal/app"));
        assert!(ok("postgresql://db.internal:5432/app"));
        assert!(ok("host=db.internal user=u dbname=app"));
        assert!(ok("host=10.0.0.5 port=6543"));
        assert!(ok("hostaddr=10.0.0.5"));
        assert!(!ok("postgres://db.internal:5433/app"));
        assert!(!ok("host=db.internal port=5433"));
        assert!(!ok("host=elsewhere"));
        assert!(!ok("host=db.internal,elsewhere"));
        // The driver connects to hostaddr, so it must be allowed too.
        assert!(!ok("host=db.internal hostaddr=10.9.9.9"));
        assert!(!ok("postgres://db.internal/app?hostaddr=10.9.9.9"));
        assert!(!ok("postgres://db.internal/app?host=elsewhere"));
        assert!(!ok("host=/var/run/postgresql"));
        assert!(!ok("user=u"));

        let err = text(check_outbound(&policy, "postgres://u:s3cret@evil:5432/app").unwrap_err());
        assert_eq!(
            err,
            "access denied: postgres://u:***@evil:5432/app is not in allowed_outbound_hosts"
        );
        let err = text(check_outbound(&policy, "host=evil password=s3cret").unwrap_err());
        assert_eq!(
            err,
            "access denied: host=evil is not in allowed_outbound_hosts"
        );

        let v6 = OutboundPolicy::new(["postgres://[::1]:5432"]).unwrap();
        assert!(check_outbound(&v6, "host=::1").is_ok());
        assert!(check_outbound(&v6, "postgres://[::1]/app").is_ok());
    }

    fn p(values: Vec<ParameterValue>) -> Vec<ParameterValue> {
        values
    }

    #[tokio::test]
    async fn values_round_trip() {
        use ParameterValue as P;
        let pools = Pools::new();
        let client = client(&pools).await;
        client
            .batch_execute(
                "CREATE TEMP TABLE everything (
                    b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
                    t text, vc varchar(10), bp char(3), by bytea, jb jsonb, js json, id uuid,
                    tstz timestamptz, ts timestamp, d date, tm time, n numeric,
                    r4 int4range, r8 int8range, rn numrange,
                    a4 int4[], a8 int8[], an numeric[], at text[], iv interval,
                    nothing text, ip inet)",
            )
            .await
            .unwrap();
        let uuid = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let inserted = execute(
            &client,
            "INSERT INTO everything VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, '10.1.2.3')",
            p(vec![
                P::Boolean(true),
                P::Int8(-8),
                P::Int32(-32),
                P::Int64(i64::MIN),
                P::Floating32(1.5),
                P::Floating64(-2.25),
                P::Str("héllo".into()),
                P::Str("short".into()),
                P::Str("ab".into()),
                P::Binary(vec![0, 1, 254, 255]),
                P::Jsonb(br#"{"a": [1, true, null]}"#.to_vec()),
                P::Jsonb(br#"{"k":"v"}"#.to_vec()),
                P::Uuid(uuid.into()),
                P::Timestamp(1_700_000_000),
                P::Datetime((2024, 2, 29, 23, 59, 58, 123_456_000)),
                P::Date((1999, 12, 31)),
                P::Time((7, 8, 9, 10_000)),
                P::Decimal("-12345.678900".into()),
                P::RangeInt32((
                    Some((1, RangeBoundKind::Inclusive)),
                    Some((10, RangeBoundKind::Exclusive)),
                )),
                P::RangeInt64((Some((5, RangeBoundKind::Exclusive)), None)),
                P::RangeDecimal((None, Some(("2.50".into(), RangeBoundKind::Inclusive)))),
                P::ArrayInt32(vec![Some(1), None, Some(3)]),
                P::ArrayInt64(vec![Some(i64::MAX)]),
                P::ArrayDecimal(vec![Some("0.001".into()), None]),
                P::ArrayStr(vec![Some("x".into()), None, Some("".into())]),
                P::Interval(Interval {
                    micros: 3_723_000_004,
                    days: 2,
                    months: 14,
                }),
                P::DbNull,
            ]),
        )
        .await
        .unwrap();
        assert_eq!(inserted, 1);

        let set = query(&client, "SELECT * FROM everything", vec![])
            .await
            .unwrap();
        let types: Vec<DbDataType> = set.columns.iter().map(|c| c.data_type.clone()).collect();
        use DbDataType as T;
        assert_debug_eq!(
            types,
            vec![
                T::Boolean,
                T::Int16,
                T::Int32,
                T::Int64,
                T::Floating32,
                T::Floating64,
                T::Str,
                T::Str,
                T::Str,
                T::Binary,
                T::Jsonb,
                T::Jsonb,
                T::Uuid,
                T::Datetime,
                T::Datetime,
                T::Date,
                T::Time,
                T::Decimal,
                T::RangeInt32,
                T::RangeInt64,
                T::RangeDecimal,
                T::ArrayInt32,
                T::ArrayInt64,
                T::ArrayDecimal,
                T::ArrayStr,
                T::Interval,
                T::Str,
                T::Other("inet".into()),
            ]
        );
        assert_eq!(set.columns[0].name, "b");
        use DbValue as V;
        let expected = vec![
            V::Boolean(true),
            V::Int16(-8),
            V::Int32(-32),
            V::Int64(i64::MIN),
            V::Floating32(1.5),
            V::Floating64(-2.25),
            V::Str("héllo".into()),
            V::Str("short".into()),
            V::Str("ab ".into()),
            V::Binary(vec![0, 1, 254, 255]),
            V::Jsonb(br#"{"a":[1,true,null]}"#.to_vec()),
            V::Jsonb(br#"{"k":"v"}"#.to_vec()),
            V::Uuid(uuid.into()),
            V::Datetime((2023, 11, 14, 22, 13, 20, 0)),
            V::Datetime((2024, 2, 29, 23, 59, 58, 123_456_000)),
            V::Date((1999, 12, 31)),
            V::Time((7, 8, 9, 10_000)),
            V::Decimal("-12345.678900".into()),
            V::RangeInt32((
                Some((1, RangeBoundKind::Inclusive)),
                Some((10, RangeBoundKind::Exclusive)),
            )),
            // PostgreSQL makes integer ranges canonical: (5,) is [6,).
            V::RangeInt64((Some((6, RangeBoundKind::Inclusive)), None)),
            V::RangeDecimal((None, Some(("2.50".into(), RangeBoundKind::Inclusive)))),
            V::ArrayInt32(vec![Some(1), None, Some(3)]),
            V::ArrayInt64(vec![Some(i64::MAX)]),
            V::ArrayDecimal(vec![Some("0.001".into()), None]),
            V::ArrayStr(vec![Some("x".into()), None, Some("".into())]),
            V::Interval(Interval {
                micros: 3_723_000_004,
                days: 2,
                months: 14,
            }),
            V::DbNull,
            // inet 10.1.2.3/32 in binary form: family, bits, is_cidr, length, address.
            V::Unsupported(vec![2, 32, 0, 4, 10, 1, 2, 3]),
        ];
        assert_debug_eq!(set.rows, vec![expected]);

        // PostgreSQL agrees on what was stored.
        let row = client
            .query_one(
                "SELECT tstz = to_timestamp(1700000000), ts::text, tm::text, iv::text, rn::text
                 FROM everything",
                &[],
            )
            .await
            .unwrap();
        assert!(row.get::<_, bool>(0));
        assert_eq!(row.get::<_, String>(1), "2024-02-29 23:59:58.123456");
        assert_eq!(row.get::<_, String>(2), "07:08:09.00001");
        assert_eq!(
            row.get::<_, String>(3),
            "1 year 2 mons 2 days 01:02:03.000004"
        );
        assert_eq!(row.get::<_, String>(4), "(,2.50]");

        // Empty results still name their columns.
        let set = query(&client, "SELECT b, n FROM everything WHERE false", vec![])
            .await
            .unwrap();
        assert_eq!(set.columns.len(), 2);
        assert!(set.rows.is_empty());
    }

    #[tokio::test]
    async fn numeric_text_matches_postgres() {
        let pools = Pools::new();
        let client = client(&pools).await;
        let cases = [
            "0",
            "0.0",
            "-0.5",
            "1",
            "-1",
            "9999",
            "10000",
            "12345678901234567890.123456789",
            "0.00001234",
            "0.1",
            "100000000",
            "1.0000",
            "-98765.4321",
            "3.14159e2",
            "1e-7",
            "2E+5",
            "+42",
            ".5",
            "5.",
            "NaN",
            "Infinity",
            "-Infinity",
            "123456789012345678901234567890",
        ];
        for case in cases {
            let ours = NumericParam::parse(case).unwrap();
            let row = client
                .query_one(
                    "SELECT $1::numeric::text, $2::text::numeric::text, $2::text::numeric",
                    &[&ours, &case],
                )
                .await
                .unwrap();
            let (bound, parsed): (String, String) = (row.get(0), row.get(1));
            assert_eq!(bound, parsed, "binding {case}");
            let NumericText(read) = row.get(2);
            assert_eq!(read, parsed, "reading {case}");
        }
        for bad in ["", "-", "1.2.3", "abc", "1e", "1e99999999", "--1", "nan1"] {
            assert!(
                NumericParam::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[tokio::test]
    async fn integers_and_floats_bind_to_any_width() {
        use ParameterValue as P;
        let pools = Pools::new();
        let client = client(&pools).await;
        client
            .batch_execute("CREATE TEMP TABLE widths (s int2, i int4, b int8, f real, d double precision, n numeric)")
            .await
            .unwrap();
        let n = execute(
            &client,
            "INSERT INTO widths VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                P::Int64(7),
                P::Int8(8),
                P::Int16(9),
                P::Floating64(0.5),
                P::Floating32(0.25),
                P::Int32(10),
            ],
        )
        .await
        .unwrap();
        assert_eq!(n, 1);
        let set = query(&client, "SELECT * FROM widths", vec![])
            .await
            .unwrap();
        assert_debug_eq!(
            set.rows[0],
            vec![
                DbValue::Int16(7),
                DbValue::Int32(8),
                DbValue::Int64(9),
                DbValue::Floating32(0.5),
                DbValue::Floating64(0.25),
                DbValue::Decimal("10".into()),
            ]
        );
        let err = execute(
            &client,
            "INSERT INTO widths (s) VALUES ($1)",
            vec![P::Int32(40_000)],
        )
        .await
        .unwrap_err();
        assert!(text(err).contains("40000 is out of range for type int2"));
        let err = execute(
            &client,
            "INSERT INTO widths (s) VALUES ($1)",
            vec![P::Uuid("nope".into())],
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, Error::BadParameter(m) if m.starts_with("parameter $1: invalid UUID")),
            "{err:?}"
        );
        let err = query(&client, "SELECT $1::date", vec![P::Date((2023, 2, 29))])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::BadParameter(m) if m.contains("invalid date 2023-02-29")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn domains_and_enums() {
        use ParameterValue as P;
        let pools = Pools::new();
        let client = client(&pools).await;
        client
            .batch_execute(
                "CREATE DOMAIN pg_temp.positive AS int CHECK (VALUE > 0);
                 CREATE TYPE pg_temp.mood AS ENUM ('sad', 'ok', 'happy');
                 CREATE TEMP TABLE feelings (n pg_temp.positive, m pg_temp.mood, ms pg_temp.mood[])",
            )
            .await
            .unwrap();
        execute(
            &client,
            "INSERT INTO feelings VALUES ($1, $2, $3)",
            vec![
                P::Int64(3),
                P::Str("happy".into()),
                P::ArrayStr(vec![Some("ok".into())]),
            ],
        )
        .await
        .unwrap();
        let set = query(
            &client,
            "SELECT n, m FROM feelings WHERE m = $1",
            vec![P::Str("happy".into())],
        )
        .await
        .unwrap();
        assert_debug_eq!(set.columns[0].data_type, DbDataType::Int32);
        assert_debug_eq!(set.columns[1].data_type, DbDataType::Str);
        assert_debug_eq!(
            set.rows,
            vec![vec![DbValue::Int32(3), DbValue::Str("happy".into())]]
        );
        let err = execute(
            &client,
            "INSERT INTO feelings (n) VALUES ($1)",
            vec![P::Int32(-1)],
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "23514"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn database_errors_are_structured() {
        let pools = Pools::new();
        let client = client(&pools).await;
        client
            .batch_execute("CREATE TEMP TABLE uniq (k int CONSTRAINT uniq_k PRIMARY KEY)")
            .await
            .unwrap();
        execute(&client, "INSERT INTO uniq VALUES (1)", vec![])
            .await
            .unwrap();
        let err = execute(&client, "INSERT INTO uniq VALUES (1)", vec![])
            .await
            .unwrap_err();
        let Error::QueryFailed(QueryError::DbError(db)) = err else {
            panic!("{err:?}")
        };
        assert_eq!(db.code, "23505");
        assert_eq!(db.severity, "ERROR");
        assert!(db.message.contains("duplicate key"), "{}", db.message);
        assert_eq!(db.detail.as_deref(), Some("Key (k)=(1) already exists."));
        assert!(
            db.extras.contains(&("constraint".into(), "uniq_k".into())),
            "{:?}",
            db.extras
        );
        assert!(db.as_text.contains("duplicate key"), "{}", db.as_text);

        let err = query(&client, "SELEC 1", vec![]).await.unwrap_err();
        assert!(
            matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "42601"),
            "{err:?}"
        );
        let err = query(&client, "SELECT $1::int", vec![]).await.unwrap_err();
        assert!(
            matches!(err, Error::QueryFailed(QueryError::Text(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn rows_stream_and_the_outcome_comes_last() {
        let pools = Pools::new();
        let client = Arc::new(client(&pools).await);
        let (columns, mut rows, done) = start_query(
            client.clone(),
            "SELECT x, x::text AS label FROM generate_series(1, $1::int) AS x",
            vec![ParameterValue::Int32(1000)],
        )
        .await
        .unwrap();
        assert_eq!(columns[1].name, "label");
        assert_debug_eq!(columns[0].data_type, DbDataType::Int32);
        let mut count = 0;
        while let Some(row) = rows.recv().await {
            count += 1;
            assert_debug_eq!(row[0], DbValue::Int32(count));
        }
        assert_eq!(count, 1000);
        done.await.unwrap().unwrap();

        // A failure part-way arrives after the rows before it.
        let (_, mut rows, done) = start_query(
            client.clone(),
            "SELECT 1 / (500 - x) FROM generate_series(1, 1000) AS x",
            vec![],
        )
        .await
        .unwrap();
        let mut count = 0;
        while rows.recv().await.is_some() {
            count += 1;
        }
        assert!(count < 500, "{count}");
        let err = done.await.unwrap().unwrap_err();
        assert!(
            matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "22012"),
            "{err:?}"
        );

        // A reader that goes away stops the query and frees the connection.
        let (_, rows, done) =
            start_query(client.clone(), "SELECT generate_series(1, 1000000)", vec![])
                .await
                .unwrap();
        drop(rows);
        done.await.unwrap().unwrap();
        let n = query(&client, "SELECT 1", vec![]).await.unwrap();
        assert_debug_eq!(n.rows, vec![vec![DbValue::Int32(1)]]);

        // Errors before any row fail the call itself.
        let err = start_query(client, "SELECT nope", vec![])
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::QueryFailed(QueryError::DbError(ref db)) if db.code == "42703"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn pooled_connections_come_back_clean() {
        // One pool of our own, so the recycled connection is the one we dirtied.
        let pools = Pools::new();
        let first = client(&pools).await;
        let first_pid = backend_pid(&first).await;
        first
            .batch_execute(
                "SET application_name = 'dirty'; BEGIN; CREATE TEMP TABLE leftover (x int);
                 SELECT pg_advisory_lock(42)",
            )
            .await
            .unwrap();
        drop(first);

        let second = client(&pools).await;
        assert_eq!(
            backend_pid(&second).await,
            first_pid,
            "the connection was reused"
        );
        let row = second
            .query_one(
                "SELECT txid_current_if_assigned() IS NULL,
                        to_regclass('pg_temp.leftover') IS NULL,
                        current_setting('application_name'),
                        (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
                &[],
            )
            .await
            .unwrap();
        assert!(row.get::<_, bool>(0), "the transaction was rolled back");
        assert!(row.get::<_, bool>(1), "the temporary table is gone");
        assert_eq!(row.get::<_, String>(2), "mhmanus-host");
        assert_eq!(row.get::<_, i64>(3), 0, "advisory locks are released");

        // A failed transaction is rolled back too.
        second.batch_execute("BEGIN").await.unwrap();
        second.batch_execute("SELECT 1/0").await.unwrap_err();
        drop(second);
        let third = client(&pools).await;
        assert_eq!(backend_pid(&third).await, first_pid);
        let row = third.query_one("SELECT 1", &[]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 1);
    }
}
