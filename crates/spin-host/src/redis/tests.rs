//! Against the local Redis (`mhmanus_test_servers`): connections, eviction, errors, replies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Value;

use super::clients::{Clients, Failure, Handle, redact};
use super::results::to_results;
use crate::bindings::spin::redis::redis::{Error, RedisResult};
use crate::unavailable::Unavailable;

use mhmanus_test_servers::{CLOSED_REDIS_URL, REDIS_URL as REDIS};

fn clients() -> Arc<Clients> {
    Arc::new(Clients::new())
}

/// Why a start-up probe of `url` failed, when waiting could help.
async fn unreachable(url: &str) -> String {
    match clients().probe(url).await.unwrap_err() {
        Unavailable::Unreachable(why) => why,
        unusable => panic!("{url} is only unreachable, not {unusable:?}"),
    }
}

/// Why a start-up probe of `url` failed, when waiting cannot help.
async fn unusable(url: &str) -> String {
    match clients().probe(url).await.unwrap_err() {
        Unavailable::Unusable(why) => why,
        unreachable => panic!("{url} can never work, not {unreachable:?}"),
    }
}

#[tokio::test]
async fn probe_tells_a_configuration_that_can_never_work() {
    let why = unusable("mysql://127.0.0.1:6379").await;
    assert!(why.contains("rediss://host:6379 for TLS"), "{why}");
    // TLS to a server that speaks none.
    let why = unusable("rediss://127.0.0.1:6379").await;
    assert!(why.contains("answers plain Redis, not TLS"), "{why}");
}

#[tokio::test]
async fn probe_succeeds_on_the_local_redis() {
    clients().probe(REDIS).await.unwrap();
}

#[tokio::test]
async fn check_fails_fast_on_a_closed_port() {
    let started = Instant::now();
    let err = unreachable(CLOSED_REDIS_URL).await;
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
    let err = unreachable("redis://192.0.2.1:6379").await;
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
    let err = unreachable(&format!("redis://127.0.0.1:{port}")).await;
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
    let err = unreachable(address).await;
    assert!(!err.contains("s3cr"), "{err}");
    assert_eq!(
        redact("auth s3cr@t failed, s3cr%40t", address),
        "auth *** failed, ***"
    );
    // Against the real server, AUTH with a wrong password fails too.
    let address = REDIS.replace("redis://", "redis://:hunter2secret@");
    if let Err(e) = clients().handle(&address).await {
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
    assert!(Clients::validate("rediss://example.com").is_ok());
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
    let first = clients.handle(CLOSED_REDIS_URL).await.err().unwrap();
    let started = Instant::now();
    let second = clients.handle(CLOSED_REDIS_URL).await.err().unwrap();
    assert_eq!(first, second);
    assert!(started.elapsed() < Duration::from_millis(100));
}
