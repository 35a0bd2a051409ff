//! `spin:redis`: a component opens any Redis its `allowed_outbound_hosts`
//! lists. Connections are host-wide: one multiplexed connection per address,
//! made on first use and shared by every instance (and by the Redis
//! key-value stores). A connection that fails at the transport level is
//! dropped from the cache, so the next `open` reconnects and a restarted
//! Redis is picked up again.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, FromRedisValue, RedisError, ServerErrorKind, Value};
use wasmtime::component::{Accessor, Resource};

use super::bindings::spin::redis::redis::{self as wit, Error, RedisParameter, RedisResult};
use super::{Spin, SpinView};

/// How long connecting (TCP, handshake, AUTH) may take: a closed or
/// unreachable server fails fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its reply (blocking commands such as
/// `BLPOP` through `execute` must use a shorter timeout than this).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed attempt, further attempts on the same address within this
/// window get the same error at once instead of queueing behind each other.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Distinct addresses the host keeps connections to; a component can build
/// any number of URLs for an allowed host (user, database number, ...).
const MAX_ADDRESSES: usize = 64;

/// Why a Redis operation failed; messages never contain the URL's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
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
pub(crate) struct Handle {
    conn: MultiplexedConnection,
    clients: Arc<Clients>,
    address: Arc<str>,
    generation: u64,
}

impl Handle {
    /// Runs `cmd`; a transport failure evicts the connection from the cache.
    pub(crate) async fn query<T: FromRedisValue>(
        &mut self,
        cmd: &redis::Cmd,
    ) -> Result<T, Failure> {
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

    /// Checks that `address` is a Redis URL this host can connect to.
    pub(crate) fn validate(address: &str) -> Result<redis::Client, Failure> {
        let url = url::Url::parse(address).map_err(|_| Failure::InvalidAddress)?;
        if matches!(url.scheme(), "rediss" | "valkeys") {
            return Err(Failure::Other(
                "TLS Redis addresses (rediss://) are not supported by this host".to_owned(),
            ));
        }
        if !matches!(url.scheme(), "redis" | "valkey") {
            return Err(Failure::InvalidAddress);
        }
        redis::Client::open(address).map_err(|_| Failure::InvalidAddress)
    }

    /// The cached connection to `address`, connecting first if there is none.
    pub(crate) async fn handle(self: &Arc<Self>, address: &str) -> Result<Handle, Failure> {
        let client = Self::validate(address)?;
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

    /// Start-up check: connects to `url` (caching the connection) and PINGs.
    pub async fn check(self: &Arc<Self>, url: &str) -> anyhow::Result<()> {
        let shown = crate::redact::url(url);
        let mut handle = self
            .handle(url)
            .await
            .map_err(|e| anyhow!("Redis at {shown}: {e}"))?;
        let _: String = handle
            .query(&redis::cmd("PING"))
            .await
            .map_err(|e| anyhow!("Redis at {shown} does not answer PING: {e}"))?;
        Ok(())
    }
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
fn redact(message: &str, address: &str) -> String {
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

/// A reply to `execute` as the WIT list: arrays (and RESP3 sets, maps and
/// pushes) are flattened, RESP3-only scalars become what RESP2 would send.
pub(crate) fn to_results(value: Value) -> Result<Vec<RedisResult>, Error> {
    let mut results = Vec::new();
    flatten(value, &mut results)?;
    Ok(results)
}

fn flatten(value: Value, out: &mut Vec<RedisResult>) -> Result<(), Error> {
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Okay => out.push(RedisResult::Status("OK".to_owned())),
        Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        Value::Int(i) => out.push(RedisResult::Int64(i)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            for item in items {
                flatten(item, out)?;
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                flatten(key, out)?;
                flatten(value, out)?;
            }
        }
        Value::Attribute { data, .. } => flatten(*data, out)?,
        Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        Value::VerbatimString { text, .. } => out.push(RedisResult::Binary(text.into_bytes())),
        Value::BigNumber(digits) => out.push(RedisResult::Binary(digits)),
        Value::ServerError(e) => {
            return Err(Error::Other(match e.details() {
                Some(details) => format!("{} {details}", e.code()),
                None => e.code().to_owned(),
            }));
        }
        // `Value` is non-exhaustive.
        other => out.push(RedisResult::Binary(format!("{other:?}").into_bytes())),
    }
    Ok(())
}

/// The `connection` resource.
pub struct Connection {
    handle: Handle,
}

impl SpinView<'_> {
    fn redis_handle(&self, this: &Resource<Connection>) -> Result<Handle, Error> {
        Ok(self
            .table
            .get(this)
            .map_err(|_| Error::Other("invalid Redis connection".to_owned()))?
            .handle
            .clone())
    }
}

impl wit::Host for SpinView<'_> {
    fn convert_error(&mut self, err: Error) -> anyhow::Result<Error> {
        Ok(err)
    }
}

impl wit::HostConnection for SpinView<'_> {
    async fn drop(&mut self, this: Resource<Connection>) -> anyhow::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

/// Runs one command on the connection `this`.
async fn query<T: FromRedisValue, D>(
    accessor: &Accessor<D, Spin>,
    this: &Resource<Connection>,
    cmd: &redis::Cmd,
) -> Result<T, Error> {
    let mut handle = accessor.with(|mut access| access.get().redis_handle(this))?;
    Ok(handle.query(cmd).await?)
}

impl<T> wit::HostConnectionWithStore<T> for Spin {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> Result<Resource<Connection>, Error> {
        Clients::validate(&address)?;
        let (allowed, clients) = accessor.with(|mut access| {
            let view = access.get();
            (
                view.services.outbound.allows_url(&address),
                view.services.redis.clone(),
            )
        });
        if !allowed {
            return Err(Error::Other(format!(
                "access denied: {} is not in allowed_outbound_hosts",
                crate::redact::url(&address)
            )));
        }
        let handle = clients.handle(&address).await?;
        accessor.with(|mut access| {
            access
                .get()
                .table
                .push(Connection { handle })
                .map_err(|e| Error::Other(e.to_string()))
        })
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), Error> {
        let cmd = redis::cmd("PUBLISH").arg(channel).arg(payload).to_owned();
        let _receivers: i64 = query(accessor, &this, &cmd).await?;
        Ok(())
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        query(accessor, &this, redis::cmd("GET").arg(key)).await
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        query(accessor, &this, redis::cmd("SET").arg(key).arg(value)).await
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        key: String,
    ) -> Result<i64, Error> {
        query(accessor, &this, redis::cmd("INCR").arg(key)).await
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        keys: Vec<String>,
    ) -> Result<u32, Error> {
        if keys.is_empty() {
            return Ok(0);
        }
        query(accessor, &this, redis::cmd("DEL").arg(keys)).await
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, Error> {
        if values.is_empty() {
            return Ok(0);
        }
        query(accessor, &this, redis::cmd("SADD").arg(key).arg(values)).await
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        key: String,
    ) -> Result<Vec<String>, Error> {
        query(accessor, &this, redis::cmd("SMEMBERS").arg(key)).await
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> Result<u32, Error> {
        if values.is_empty() {
            return Ok(0);
        }
        query(accessor, &this, redis::cmd("SREM").arg(key).arg(values)).await
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, Error> {
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(i) => cmd.arg(i),
                RedisParameter::Binary(bytes) => cmd.arg(bytes),
            };
        }
        let value: Value = query(accessor, &this, &cmd).await?;
        to_results(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIS: &str = "redis://127.0.0.1:6379";

    fn clients() -> Arc<Clients> {
        Arc::new(Clients::new())
    }

    #[tokio::test]
    async fn check_succeeds_on_the_local_redis() {
        clients().check(REDIS).await.unwrap();
    }

    #[tokio::test]
    async fn check_fails_fast_on_a_closed_port() {
        let started = Instant::now();
        let err = clients().check("redis://127.0.0.1:1").await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains("cannot connect"), "{err}");
    }

    #[tokio::test]
    async fn check_fails_fast_on_an_unroutable_host() {
        // TEST-NET-1: packets go nowhere, so only the timeout ends the attempt.
        let started = Instant::now();
        let err = clients().check("redis://192.0.2.1:6379").await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains("cannot connect"), "{err}");
    }

    #[tokio::test]
    async fn check_fails_fast_on_a_server_that_never_answers() {
        // Accepts connections and never says a word.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let started = Instant::now();
        let err = clients()
            .check(&format!("redis://127.0.0.1:{port}"))
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains("cannot connect"), "{err}");
        server.abort();
    }

    #[tokio::test]
    async fn errors_never_show_the_password() {
        let address = "redis://user:s3cr%40t@127.0.0.1:1";
        let err = clients().check(address).await.unwrap_err().to_string();
        assert!(!err.contains("s3cr"), "{err}");
        assert!(err.contains("***"), "{err}");
        assert_eq!(
            redact("auth s3cr@t failed, s3cr%40t", address),
            "auth *** failed, ***"
        );
        // Against the real server, AUTH with a wrong password fails too.
        let address = "redis://:hunter2secret@127.0.0.1:6379";
        if let Err(e) = clients().handle(address).await {
            assert!(!e.to_string().contains("hunter2secret"), "{e}");
        }
    }

    #[test]
    fn addresses_are_validated() {
        assert_eq!(
            Clients::validate("not a url").err(),
            Some(Failure::InvalidAddress)
        );
        assert_eq!(
            Clients::validate("http://127.0.0.1:6379").err(),
            Some(Failure::InvalidAddress)
        );
        assert_eq!(
            Clients::validate("redis://127.0.0.1:6379/x").err(),
            Some(Failure::InvalidAddress)
        );
        assert!(matches!(
            Clients::validate("rediss://example.com"),
            Err(Failure::Other(_))
        ));
        assert!(Clients::validate("redis://127.0.0.1:6379/2").is_ok());
    }

    /// `RedisResult` without `PartialEq`, made comparable.
    #[derive(Debug, PartialEq)]
    enum Plain {
        Nil,
        Status(String),
        Int64(i64),
        Binary(Vec<u8>),
    }

    fn plain(value: Value) -> Vec<Plain> {
        to_results(value)
            .unwrap()
            .into_iter()
            .map(|r| match r {
                RedisResult::Nil => Plain::Nil,
                RedisResult::Status(s) => Plain::Status(s),
                RedisResult::Int64(i) => Plain::Int64(i),
                RedisResult::Binary(b) => Plain::Binary(b),
            })
            .collect()
    }

    #[test]
    fn values_map_to_redis_results() {
        let value = Value::Array(vec![
            Value::Nil,
            Value::Okay,
            Value::SimpleString("PONG".into()),
            Value::Int(-7),
            Value::BulkString(b"bytes".to_vec()),
            Value::Array(vec![Value::Int(1), Value::Array(vec![Value::Int(2)])]),
            Value::Map(vec![(Value::BulkString(b"k".to_vec()), Value::Int(3))]),
            Value::Double(1.5),
            Value::Boolean(true),
        ]);
        assert_eq!(
            plain(value),
            vec![
                Plain::Nil,
                Plain::Status("OK".into()),
                Plain::Status("PONG".into()),
                Plain::Int64(-7),
                Plain::Binary(b"bytes".to_vec()),
                Plain::Int64(1),
                Plain::Int64(2),
                Plain::Binary(b"k".to_vec()),
                Plain::Int64(3),
                Plain::Binary(b"1.5".to_vec()),
                Plain::Int64(1),
            ]
        );
        assert_eq!(plain(Value::Nil), vec![Plain::Nil]);
        assert_eq!(plain(Value::Array(vec![])), vec![]);
        // An error nested in an array (as EXEC returns them) fails the call.
        let error = redis::parse_redis_value(b"*2\r\n:1\r\n-ERR boom\r\n").unwrap();
        assert!(matches!(to_results(error), Err(Error::Other(m)) if m == "ERR boom"));
    }

    /// A unique key prefix per test, and removal of its keys afterwards.
    struct Keys(String);

    impl Keys {
        fn new(test: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            Keys(format!(
                "mhmanus-test:{test}:{}:{nanos}:",
                std::process::id()
            ))
        }

        fn key(&self, name: &str) -> String {
            format!("{}{name}", self.0)
        }

        async fn cleanup(&self, handle: &mut Handle) {
            let keys: Vec<String> = handle
                .query(redis::cmd("KEYS").arg(format!("{}*", self.0)))
                .await
                .unwrap();
            if !keys.is_empty() {
                let _: i64 = handle.query(redis::cmd("DEL").arg(keys)).await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn commands_against_the_real_server() {
        let clients = clients();
        let mut handle = clients.handle(REDIS).await.unwrap();
        let keys = Keys::new("commands");
        let (counter, text, set) = (keys.key("counter"), keys.key("text"), keys.key("set"));

        let n: i64 = handle
            .query(redis::cmd("INCR").arg(&counter))
            .await
            .unwrap();
        assert_eq!(n, 1);
        let _: () = handle
            .query(redis::cmd("SET").arg(&text).arg(b"abc".as_slice()))
            .await
            .unwrap();
        let got: Option<Vec<u8>> = handle.query(redis::cmd("GET").arg(&text)).await.unwrap();
        assert_eq!(got.as_deref(), Some(b"abc".as_slice()));
        let missing: Option<Vec<u8>> = handle
            .query(redis::cmd("GET").arg(keys.key("none")))
            .await
            .unwrap();
        assert_eq!(missing, None);

        // INCR on a non-number and GET on a set are type errors.
        let e = handle
            .query::<i64>(redis::cmd("INCR").arg(&text))
            .await
            .unwrap_err();
        assert!(matches!(e, Failure::TypeError(_)), "{e:?}");
        let added: u32 = handle
            .query(redis::cmd("SADD").arg(&set).arg(&["a", "b"]))
            .await
            .unwrap();
        assert_eq!(added, 2);
        let e = handle
            .query::<Option<Vec<u8>>>(redis::cmd("GET").arg(&set))
            .await
            .unwrap_err();
        assert!(matches!(e, Failure::TypeError(_)), "{e:?}");
        // An unknown command is some other error.
        let e = handle
            .query::<Value>(&redis::cmd("NOSUCHCOMMAND"))
            .await
            .unwrap_err();
        assert!(matches!(e, Failure::Other(_)), "{e:?}");

        let value: Value = handle
            .query(redis::cmd("SMEMBERS").arg(&set))
            .await
            .unwrap();
        let mut members = plain(value);
        members.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(
            members,
            vec![Plain::Binary(b"a".to_vec()), Plain::Binary(b"b".to_vec())]
        );
        let value: Value = handle
            .query(redis::cmd("SET").arg(&text).arg("x"))
            .await
            .unwrap();
        assert_eq!(plain(value), vec![Plain::Status("OK".into())]);
        let value: Value = handle
            .query(redis::cmd("GET").arg(keys.key("none")))
            .await
            .unwrap();
        assert_eq!(plain(value), vec![Plain::Nil]);
        let value: Value = handle
            .query(redis::cmd("INCR").arg(&counter))
            .await
            .unwrap();
        assert_eq!(plain(value), vec![Plain::Int64(2)]);

        keys.cleanup(&mut handle).await;
    }

    #[tokio::test]
    async fn connections_are_cached_and_recover_when_killed() {
        let clients = clients();
        let mut first = clients.handle(REDIS).await.unwrap();
        let second = clients.handle(REDIS).await.unwrap();
        assert_eq!(first.generation, second.generation);
        let id: i64 = first
            .query(&redis::cmd("CLIENT").arg("ID").to_owned())
            .await
            .unwrap();

        // Kill the cached connection from another one, as a restart would.
        let other = redis::Client::open(REDIS).unwrap();
        let mut other = other.get_multiplexed_async_connection().await.unwrap();
        let _: Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query_async(&mut other)
            .await
            .unwrap();

        // The next command on the dead connection fails and evicts it...
        let mut failed = false;
        for _ in 0..20 {
            if first.query::<String>(&redis::cmd("PING")).await.is_err() {
                failed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(failed, "the killed connection kept working");
        // ...so the next handle is a new, working connection.
        let mut fresh = clients.handle(REDIS).await.unwrap();
        assert_ne!(fresh.generation, first.generation);
        let pong: String = fresh.query(&redis::cmd("PING")).await.unwrap();
        assert_eq!(pong, "PONG");
    }

    #[tokio::test]
    async fn failed_attempts_are_not_retried_at_once() {
        let clients = clients();
        let first = clients.handle("redis://127.0.0.1:1").await.err().unwrap();
        let started = Instant::now();
        let second = clients.handle("redis://127.0.0.1:1").await.err().unwrap();
        assert_eq!(first, second);
        assert!(started.elapsed() < Duration::from_millis(100));
    }
}
