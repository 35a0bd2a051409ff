//! Host-wide connection pools, one per address, and the session reset
//! that runs when a guest gives a connection back, before it returns to
//! its pool: off the path of the request that borrows it next.

use std::collections::{BTreeSet, HashMap};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;

use super::address::{metrics_label, parse_with_tls, redact};
use super::errors::{error_chain, error_text, pool_error};
use super::params::Param;
use super::tls::Tls;
use crate::bindings::spin::postgres::postgres::Error;
use crate::unavailable::{Unavailable, with_tls_hint};

/// Connections per address.
pub(super) const MAX_POOL_SIZE: usize = 16;
/// How long opening a connection may take, and waiting for a free one when
/// all are in use, before the guest gets `connection-failed`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long resetting a connection for its next user may take.
const RESET_TIMEOUT: Duration = Duration::from_secs(5);
/// Past this many addresses, pools with no connection in use are dropped.
const MAX_POOLS: usize = 64;

/// Run on a connection a guest gave back, before it returns to its pool,
/// so no session state leaks between guests (as deadpool's `Clean`, which keeps prepared
/// statements). The first statement tells whether the previous user left a
/// transaction open: only outside one is `now()` this query's own start.
const RESET_SQL: &str = "SELECT now() = statement_timestamp(); \
    CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
    SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;";

pub(super) type BoxError = Box<dyn std::error::Error + Sync + Send>;
pub(super) type Params = Vec<Param>;

/// Host-wide connection pools, one per address, created on first use.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<String, Pool>>,
    /// The `sslrootcert` files an address may name: those of the host's own
    /// configuration. A guest chooses its addresses, and must not make the
    /// host read any other file.
    root_files: BTreeSet<PathBuf>,
}

impl Pools {
    /// Pools whose addresses may name the CA files of `addresses` (the
    /// host's `DATABASE_URL`) in `sslrootcert`.
    pub fn trusting_root_files_of<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Self {
        let root_files = addresses
            .into_iter()
            .filter_map(|address| Some(Tls::split(address).ok()?.1.root_file()?.to_owned()))
            .collect();
        Pools {
            root_files,
            ..Pools::default()
        }
    }

    /// Checks a database address at start-up: connects and runs `SELECT 1`.
    pub async fn probe(&self, address: &str) -> Result<(), Unavailable> {
        let pool = self
            .pool(address)
            .map_err(|e| Unavailable::Unusable(error_text(&e)))?;
        let shown = redact(address);
        let object = pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) if can_never_work(&e) => Unavailable::Unusable(with_tls_hint(
                format!("cannot connect: {}", error_chain(&e)),
                "sslrootcert=<file>",
            )),
            e => Unavailable::Unreachable(error_text(&pool_error(e, address))),
        })?;
        let client = Lent(Some(object));
        client.simple_query("SELECT 1").await.map_err(|e| {
            Unavailable::Unreachable(format!(
                "PostgreSQL at {shown} did not answer SELECT 1: {}",
                error_chain(&e)
            ))
        })?;
        Ok(())
    }

    /// Each pool's metrics label (`metrics_label`) with its size, idle
    /// connections and waiting callers, for the metrics.
    pub fn figures(&self) -> Vec<(String, deadpool_postgres::Status)> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools
            .iter()
            .map(|(address, pool)| (metrics_label(address), pool.status()))
            .collect()
    }

    /// A pooled connection to `address` (the caller checks the outbound policy).
    pub(super) async fn connect(&self, address: &str) -> Result<Lent, Error> {
        let pool = self.pool(address)?;
        let object = pool.get().await.map_err(|e| pool_error(e, address))?;
        Ok(Lent(Some(object)))
    }

    fn pool(&self, address: &str) -> Result<Pool, Error> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let pool = create_pool(address, &self.root_files)?;
        if pools.len() >= MAX_POOLS {
            pools.retain(|_, pool| {
                let status = pool.status();
                status.size > status.available
            });
        }
        tracing::info!(
            pool = metrics_label(address),
            address = redact(address),
            "PostgreSQL pool opened"
        );
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }
}

fn create_pool(address: &str, root_files: &BTreeSet<PathBuf>) -> Result<Pool, Error> {
    let (mut config, tls) = parse_with_tls(address)?;
    if let Some(file) = tls.root_file()
        && !root_files.contains(file)
    {
        return Err(Error::ConnectionFailed(format!(
            "cannot connect to {}: sslrootcert={} is not a CA file of this host's own \
             configuration (DATABASE_URL's); only those are read",
            redact(address),
            file.display()
        )));
    }
    let connector = tls.connector().map_err(|e| {
        Error::ConnectionFailed(format!("cannot connect to {}: {e}", redact(address)))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("mhmanus-host");
    }
    let manager = Manager::from_config(
        config,
        connector,
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
        .build()
        .map_err(|e| Error::Other(format!("cannot create a connection pool: {e}")))
}

/// Whether a failed connection attempt would fail again however long one
/// waits: TLS refused or unverifiable, credentials or database refused.
fn can_never_work(e: &tokio_postgres::Error) -> bool {
    let refused = [
        SqlState::INVALID_PASSWORD,
        SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
        SqlState::INVALID_CATALOG_NAME,
    ];
    if let Some(code) = e.code() {
        return refused.contains(code);
    }
    // The driver's error kinds are private; its words for them are not.
    let kind = e.to_string();
    if kind == "error performing TLS handshake" {
        // The driver files a connection cut mid-handshake (a server
        // restarting) here too: only TLS's own refusals are final.
        return !cut_mid_handshake(e);
    }
    ["authentication error", "invalid configuration"].contains(&kind.as_str())
}

/// Whether the handshake failed on I/O (reset, end of stream) rather than
/// on something TLS refused (which tokio-rustls reports as an I/O error
/// carrying rustls's).
fn cut_mid_handshake(e: &tokio_postgres::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return !io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>());
        }
        cause = error.source();
    }
    false
}

/// A connection lent to a guest. Given back (dropped), it is reset by a
/// task of its own and only then returns to its pool; a connection whose
/// reset fails or times out is closed instead. Every connection in a pool
/// is therefore new or reset, and the next borrower waits for neither.
pub(crate) struct Lent(Option<Object>);

impl Deref for Lent {
    type Target = Object;

    fn deref(&self) -> &Object {
        self.0
            .as_ref()
            .expect("a lent connection is only taken on drop")
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(object) = self.0.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to reset it on (the host is stopping): close it.
            drop(Object::take(object));
            return;
        };
        runtime.spawn(async move {
            match tokio::time::timeout(RESET_TIMEOUT, reset_session(&object)).await {
                Ok(Ok(())) => drop(object),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "closing a connection that could not be reset");
                    drop(Object::take(object));
                }
                Err(_) => {
                    tracing::debug!("closing a connection whose reset timed out");
                    drop(Object::take(object));
                }
            }
        });
    }
}

/// Returns a session to its pristine state, rolling back whatever
/// transaction the previous user left open.
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
