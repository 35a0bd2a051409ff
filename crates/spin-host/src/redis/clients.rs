//! Host-wide multiplexed connections, one per address, made on first use;
//! one that fails at the transport level is evicted, so the next user
//! reconnects.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, FromRedisValue, RedisError, ServerErrorKind};

use crate::bindings::spin::redis::redis::Error;
use crate::unavailable::{Unavailable, with_tls_hint};

/// How long connecting (TCP, handshake, AUTH) may take: a closed or
/// unreachable server fails fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its reply (blocking commands such as
/// `BLPOP` through `execute` must use a shorter timeout than this).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed attempt, further attempts on the same address within this
/// window get the same error at once instead of queueing behind each other.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The URL schemes this host connects to (Valkey's are Redis's).
pub(crate) const SCHEMES: [&str; 4] = ["redis", "rediss", "valkey", "valkeys"];
/// Distinct addresses the host keeps connections to; a component can build
/// any number of URLs for an allowed host (user, database number, ...).
const MAX_ADDRESSES: usize = 64;

/// Why a Redis operation failed; messages never contain the URL's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    InvalidAddress,
    TooManyConnections,
    TypeError(String),
    Other(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::InvalidAddress => f.write_str("invalid Redis address"),
            Failure::TooManyConnections => f.write_str("too many Redis connections"),
            Failure::TypeError(reason) | Failure::Other(reason) => f.write_str(reason),
        }
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::InvalidAddress => Error::InvalidAddress,
            Failure::TooManyConnections => Error::TooManyConnections,
            Failure::TypeError(_) => Error::TypeError,
            Failure::Other(reason) => Error::Other(reason),
        }
    }
}

enum Slot {
    Empty,
    Ready {
        conn: MultiplexedConnection,
        generation: u64,
    },
    Failed {
        at: Instant,
        reason: String,
    },
}

/// Host-wide multiplexed clients, one per address.
pub struct Clients {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    generations: AtomicU64,
    /// The CA certificates (PEM) `rediss://` servers are verified against,
    /// instead of the system's (`REDIS_CA_FILE`).
    root_cert: Option<Arc<[u8]>>,
}

impl Default for Clients {
    fn default() -> Self {
        Clients::new()
    }
}

impl fmt::Debug for Clients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addresses = self.slots.lock().unwrap_or_else(|e| e.into_inner()).len();
        f.debug_struct("Clients")
            .field("addresses", &addresses)
            .finish()
    }
}

/// A clone of a cached connection, able to report its own failure.
#[derive(Clone)]
pub struct Handle {
    conn: MultiplexedConnection,
    clients: Arc<Clients>,
    address: Arc<str>,
    pub(super) generation: u64,
}

impl Handle {
    /// Runs `cmd`; a transport failure evicts the connection from the cache.
    pub async fn query<T: FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T, Failure> {
        match cmd.query_async(&mut self.conn).await {
            Ok(value) => Ok(value),
            Err(e) => {
                if e.kind() == ErrorKind::Io {
                    self.clients.evict(&self.address, self.generation).await;
                }
                Err(failure(&e, &self.address))
            }
        }
    }
}

impl Clients {
    pub fn new() -> Self {
        Clients {
            slots: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(0),
            root_cert: None,
        }
    }

    /// Clients that verify `rediss://` servers against the CA
    /// certificates in `pem` rather than the system's.
    pub fn with_root_cert(pem: Vec<u8>) -> Self {
        Clients {
            root_cert: Some(pem.into()),
            ..Clients::new()
        }
    }

    /// How many addresses have a live connection, for the metrics.
    pub fn connected(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .values()
            .filter(|slot| {
                slot.try_lock()
                    .is_ok_and(|slot| matches!(*slot, Slot::Ready { .. }))
            })
            .count()
    }

    /// Checks that `address` is a Redis URL this host can connect to:
    /// `redis://`, or `rediss://` for TLS (`#insecure` at its end skips
    /// verifying the server, as the redis crate reads it).
    pub(crate) fn validate(address: &str) -> Result<(), Failure> {
        let url = url::Url::parse(address).map_err(|_| Failure::InvalidAddress)?;
        if !SCHEMES.contains(&url.scheme()) {
            return Err(Failure::InvalidAddress);
        }
        redis::Client::open(address).map_err(|_| Failure::InvalidAddress)?;
        Ok(())
    }

    /// A client for `address`, verifying TLS servers against our roots.
    fn client(&self, address: &str) -> Result<redis::Client, Failure> {
        Self::validate(address)?;
        let is_tls = matches!(address.split_once("://"), Some(("rediss" | "valkeys", _)));
        match &self.root_cert {
            Some(pem) if is_tls => redis::Client::build_with_tls(
                address,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.to_vec()),
                },
            )
            .map_err(|e| Failure::Other(format!("REDIS_CA_FILE: {e}"))),
            _ => redis::Client::open(address).map_err(|_| Failure::InvalidAddress),
        }
    }

    /// The cached connection to `address`, connecting first if there is none.
    pub async fn handle(self: &Arc<Self>, address: &str) -> Result<Handle, Failure> {
        Self::validate(address)?;
        let slot = self.slot(address)?;
        let mut slot = slot.lock().await;
        match &*slot {
            Slot::Ready { conn, generation } => {
                return Ok(Handle {
                    conn: conn.clone(),
                    clients: self.clone(),
                    address: address.into(),
                    generation: *generation,
                });
            }
            Slot::Failed { at, reason } if at.elapsed() < RETRY_AFTER => {
                return Err(Failure::Other(reason.clone()));
            }
            _ => {}
        }
        // Built only to connect: with a CA, it parses the CA's PEM.
        let client = self.client(address)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        // The timeout is per resolved address; bound the whole attempt too.
        let attempt = tokio::time::timeout(
            CONNECT_TIMEOUT + Duration::from_millis(500),
            client.get_multiplexed_async_connection_with_config(&config),
        )
        .await;
        match attempt {
            Ok(Ok(conn)) => {
                let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
                *slot = Slot::Ready {
                    conn: conn.clone(),
                    generation,
                };
                Ok(Handle {
                    conn,
                    clients: self.clone(),
                    address: address.into(),
                    generation,
                })
            }
            Ok(Err(e)) => {
                let reason = format!(
                    "cannot connect to Redis: {}",
                    redact(&e.to_string(), address)
                );
                *slot = Slot::Failed {
                    at: Instant::now(),
                    reason: reason.clone(),
                };
                Err(Failure::Other(reason))
            }
            Err(_) => {
                let reason = "cannot connect to Redis: timed out".to_owned();
                *slot = Slot::Failed {
                    at: Instant::now(),
                    reason: reason.clone(),
                };
                Err(Failure::Other(reason))
            }
        }
    }

    /// The slot for `address`, made if new and room can be found.
    fn slot(&self, address: &str) -> Result<Arc<tokio::sync::Mutex<Slot>>, Failure> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get(address) {
            return Ok(slot.clone());
        }
        if slots.len() >= MAX_ADDRESSES {
            // Forget addresses without a live connection that nobody is using.
            slots.retain(|_, slot| {
                slot.try_lock()
                    .map_or(true, |slot| matches!(*slot, Slot::Ready { .. }))
            });
            if slots.len() >= MAX_ADDRESSES {
                return Err(Failure::TooManyConnections);
            }
        }
        let slot = Arc::new(tokio::sync::Mutex::new(Slot::Empty));
        slots.insert(address.to_owned(), slot.clone());
        Ok(slot)
    }

    /// Forgets the connection `generation` to `address` if it is still cached.
    async fn evict(&self, address: &str, generation: u64) {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(address)
            .cloned();
        if let Some(slot) = slot {
            let mut slot = slot.lock().await;
            if matches!(&*slot, Slot::Ready { generation: g, .. } if *g == generation) {
                *slot = Slot::Empty;
            }
        }
    }

    /// Start-up probe: connects to `url` and PINGs, telling a configuration
    /// that can never work (bad URL, TLS refused, credentials refused) from
    /// a server that is down.
    pub async fn probe(&self, url: &str) -> Result<(), Unavailable> {
        let client = self.client(url).map_err(|e| match e {
            Failure::InvalidAddress => Unavailable::Unusable(format!(
                "not a Redis URL; use redis://host:6379, or rediss://host:6379 for TLS ({})",
                SCHEMES.join(", ")
            )),
            e => Unavailable::Unusable(e.to_string()),
        })?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let classify = |e: RedisError| {
            let why = format!("cannot connect to Redis: {}", redact(&e.to_string(), url));
            if can_never_work(&e) {
                Unavailable::Unusable(with_tls_hint(why, "REDIS_CA_FILE"))
            } else {
                Unavailable::Unreachable(why)
            }
        };
        let attempt = tokio::time::timeout(
            CONNECT_TIMEOUT + Duration::from_millis(500),
            client.get_multiplexed_async_connection_with_config(&config),
        )
        .await;
        let timed_out = match &attempt {
            Err(_) => true,
            Ok(attempt) => attempt.as_ref().is_err_and(RedisError::is_timeout),
        };
        if timed_out && speaks_plain_redis(url).await {
            return Err(Unavailable::Unusable(
                "the server answers plain Redis, not TLS: use redis://, \
                 or turn TLS on there (tls-port)"
                    .into(),
            ));
        }
        let mut conn = attempt
            .map_err(|_| Unavailable::Unreachable("cannot connect to Redis: timed out".into()))?
            .map_err(classify)?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(classify)?;
        Ok(())
    }
}

/// Whether `url` is a `rediss://` address whose server answers a plain
/// `PING`: a TLS handshake with it waits for ever (Redis reads the hello as
/// an unfinished command), so a timeout alone would read as an outage.
async fn speaks_plain_redis(url: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let (Some(host), true) = (
        parsed.host_str(),
        matches!(parsed.scheme(), "rediss" | "valkeys"),
    ) else {
        return false;
    };
    let port = parsed.port().unwrap_or(6379);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let exchange = async {
        let mut socket = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        socket.write_all(b"PING\r\n").await.ok()?;
        let mut answer = [0; 16];
        let read = socket.read(&mut answer).await.ok()?;
        let answer = &answer[..read];
        Some(answer.starts_with(b"+PONG") || answer.starts_with(b"-NOAUTH"))
    };
    tokio::time::timeout(Duration::from_secs(1), exchange)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Whether a failed attempt would fail again however long one waits: a
/// TLS failure (a plain server, a certificate that does not verify) or
/// refused credentials.
fn can_never_work(e: &RedisError) -> bool {
    if e.kind() == ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("WRONGPASS" | "NOAUTH"))
    {
        return true;
    }
    // The crate may keep only rustls's words: its failures' prefixes.
    let text = e.to_string();
    if [
        "invalid peer certificate",
        "peer is incompatible",
        "peer misbehaved",
        "received fatal alert",
        "received corrupt message",
    ]
    .iter()
    .any(|words| text.contains(words))
    {
        return true;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = cause {
        if error.is::<rustls::Error>() {
            return true;
        }
        // An I/O error's own cause is behind `get_ref`, not `source`.
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Maps a command's error, telling type mismatches apart.
fn failure(e: &RedisError, address: &str) -> Failure {
    let message = redact(&e.to_string(), address);
    let type_error = match e.kind() {
        ErrorKind::UnexpectedReturnType | ErrorKind::Parse => true,
        ErrorKind::Server(ServerErrorKind::ResponseError) => e
            .detail()
            .is_some_and(|d| d.contains("not an integer") || d.contains("not a valid float")),
        _ => e.code() == Some("WRONGTYPE"),
    };
    if type_error {
        Failure::TypeError(message)
    } else {
        Failure::Other(message)
    }
}

/// `message` with the password of `address` (raw and decoded) masked.
pub(super) fn redact(message: &str, address: &str) -> String {
    let mut message = message.to_owned();
    if let Ok(url) = url::Url::parse(address)
        && let Some(raw) = url.password()
    {
        let decoded = redis::Client::open(address).ok().and_then(|c| {
            c.get_connection_info()
                .redis_settings()
                .password()
                .map(str::to_owned)
        });
        for secret in [Some(raw.to_owned()), decoded].into_iter().flatten() {
            if !secret.is_empty() {
                message = message.replace(&secret, "***");
            }
        }
    }
    message
}
