//! Both backends run the same script; the Redis one is also checked on
//! the server (prefixes, many keys, an unreachable address).

use std::collections::HashSet;
use std::sync::Arc;

use super::redis::glob_escape;
use super::{Backend, InMemory, InRedis};
use crate::bindings::spin::key_value::key_value::Error;
use crate::redis::Clients;

use mhmanus_test_servers::REDIS_URL as REDIS;

fn unique_label(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("mhmanus-test-{test}-{}-{nanos}", std::process::id())
}

/// The same script on any backend; leaves the store empty.
async fn exercise(store: &dyn Backend) {
    let mut keys = store.keys().await.unwrap();
    assert_eq!(keys, Vec::<String>::new());

    assert_eq!(store.get("a").await.unwrap(), None);
    assert!(!store.exists("a").await.unwrap());
    store.set("a", b"one".to_vec()).await.unwrap();
    store.set("b*[?]", vec![0, 255, 1]).await.unwrap();
    store.set("c", Vec::new()).await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(store.get("b*[?]").await.unwrap(), Some(vec![0, 255, 1]));
    assert_eq!(store.get("c").await.unwrap(), Some(Vec::new()));
    assert!(store.exists("a").await.unwrap());
    assert!(store.exists("c").await.unwrap());

    store.set("a", b"two".to_vec()).await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), Some(b"two".to_vec()));

    keys = store.keys().await.unwrap();
    keys.sort();
    assert_eq!(keys, vec!["a", "b*[?]", "c"]);

    store.delete("a").await.unwrap();
    store.delete("a").await.unwrap(); // missing: no error
    assert_eq!(store.get("a").await.unwrap(), None);
    assert!(!store.exists("a").await.unwrap());
    store.delete("b*[?]").await.unwrap();
    store.delete("c").await.unwrap();
    assert_eq!(store.keys().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn in_memory_store() {
    exercise(&InMemory::default()).await;
}

#[tokio::test]
async fn redis_store_behaves_the_same() {
    let clients = Arc::new(Clients::new());
    let label = unique_label("same");
    let store = InRedis::new(clients.clone(), REDIS.to_owned(), &label);
    exercise(&store).await;
}

#[tokio::test]
async fn redis_stores_are_separate_and_prefixed() {
    let clients = Arc::new(Clients::new());
    let (one, two) = (unique_label("one"), unique_label("two"));
    let first = InRedis::new(clients.clone(), REDIS.to_owned(), &one);
    let second = InRedis::new(clients.clone(), REDIS.to_owned(), &two);
    first.set("k", b"1".to_vec()).await.unwrap();
    assert_eq!(second.get("k").await.unwrap(), None);
    assert_eq!(second.keys().await.unwrap(), Vec::<String>::new());

    // Stored under the label's prefix in Redis.
    let mut handle = clients.handle(REDIS).await.unwrap();
    let raw: Option<Vec<u8>> = handle
        .query(::redis::cmd("GET").arg(format!("spin-kv:{one}:k")))
        .await
        .unwrap();
    assert_eq!(raw, Some(b"1".to_vec()));

    // Many keys: SCAN takes several rounds.
    for i in 0..1200 {
        second.set(&format!("key-{i}"), vec![]).await.unwrap();
    }
    let keys = second.keys().await.unwrap();
    assert_eq!(keys.len(), 1200);
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 1200);

    first.delete("k").await.unwrap();
    let all: Vec<String> = handle
        .query(::redis::cmd("KEYS").arg(format!("spin-kv:{}*", glob_escape(&two))))
        .await
        .unwrap();
    let _: i64 = handle.query(::redis::cmd("DEL").arg(all)).await.unwrap();
    assert_eq!(second.keys().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn unreachable_redis_is_an_other_error() {
    let store = InRedis::new(
        Arc::new(Clients::new()),
        mhmanus_test_servers::CLOSED_REDIS_URL.to_owned(),
        "x",
    );
    for result in [
        store.get("k").await.map(|_| ()),
        store.set("k", vec![]).await,
        store.delete("k").await,
        store.exists("k").await.map(|_| ()),
        store.keys().await.map(|_| ()),
    ] {
        assert!(matches!(result, Err(Error::Other(_))), "{result:?}");
    }
}

#[test]
fn glob_metacharacters_are_escaped() {
    assert_eq!(
        glob_escape("spin-kv:a*b?[c]\\:"),
        "spin\\-kv:a\\*b\\?\\[c\\]\\\\:"
    );
}
