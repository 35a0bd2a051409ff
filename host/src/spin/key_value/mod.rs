//! `spin:key-value`: each label a component lists in `key_value_stores` is
//! one [`Backend`], shared by every instance and every component listing it.
//! A store lives in this process's memory (the default, lost on exit) or in
//! Redis, where each label is a key prefix (`spin-kv:<label>:`) on the
//! host-wide multiplexed connection to that server.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::spin::key_value::key_value::{self as wit, Error};
use super::redis::{Clients, Handle};
use super::{Spin, SpinView};

/// Keys asked for per `SCAN` round trip.
const SCAN_COUNT: usize = 500;

fn other(e: impl fmt::Display) -> Error {
    Error::Other(e.to_string())
}

/// One store.
pub struct Backend {
    kind: Kind,
}

enum Kind {
    Memory(Mutex<HashMap<String, Vec<u8>>>),
    Redis {
        clients: Arc<Clients>,
        url: String,
        prefix: String,
    },
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Memory(_) => f.write_str("Backend::InMemory"),
            Kind::Redis { url, prefix, .. } => f
                .debug_struct("Backend::Redis")
                .field("url", &crate::redact::url(url))
                .field("prefix", prefix)
                .finish(),
        }
    }
}

impl Backend {
    /// A store in this process's memory.
    pub fn in_memory() -> Self {
        Backend {
            kind: Kind::Memory(Mutex::new(HashMap::new())),
        }
    }

    /// The store `label` in the Redis at `url`: its keys are
    /// `spin-kv:<label>:<key>`. Connects on first use.
    pub fn redis(clients: Arc<Clients>, url: String, label: &str) -> Self {
        Backend {
            kind: Kind::Redis {
                clients,
                url,
                prefix: format!("spin-kv:{label}:"),
            },
        }
    }

    fn memory(
        map: &Mutex<HashMap<String, Vec<u8>>>,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        map.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn redis_handle(clients: &Arc<Clients>, url: &str) -> Result<Handle, Error> {
        clients.handle(url).await.map_err(other)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match &self.kind {
            Kind::Memory(map) => Ok(Self::memory(map).get(key).cloned()),
            Kind::Redis {
                clients,
                url,
                prefix,
            } => {
                let mut handle = Self::redis_handle(clients, url).await?;
                handle
                    .query(redis::cmd("GET").arg(format!("{prefix}{key}")))
                    .await
                    .map_err(other)
            }
        }
    }

    pub async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), Error> {
        match &self.kind {
            Kind::Memory(map) => {
                Self::memory(map).insert(key.to_owned(), value);
                Ok(())
            }
            Kind::Redis {
                clients,
                url,
                prefix,
            } => {
                let mut handle = Self::redis_handle(clients, url).await?;
                handle
                    .query(redis::cmd("SET").arg(format!("{prefix}{key}")).arg(value))
                    .await
                    .map_err(other)
            }
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        match &self.kind {
            Kind::Memory(map) => {
                Self::memory(map).remove(key);
                Ok(())
            }
            Kind::Redis {
                clients,
                url,
                prefix,
            } => {
                let mut handle = Self::redis_handle(clients, url).await?;
                let _deleted: i64 = handle
                    .query(redis::cmd("DEL").arg(format!("{prefix}{key}")))
                    .await
                    .map_err(other)?;
                Ok(())
            }
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        match &self.kind {
            Kind::Memory(map) => Ok(Self::memory(map).contains_key(key)),
            Kind::Redis {
                clients,
                url,
                prefix,
            } => {
                let mut handle = Self::redis_handle(clients, url).await?;
                handle
                    .query(redis::cmd("EXISTS").arg(format!("{prefix}{key}")))
                    .await
                    .map_err(other)
            }
        }
    }

    /// Every key in the store, each once, in no particular order.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        match &self.kind {
            Kind::Memory(map) => Ok(Self::memory(map).keys().cloned().collect()),
            Kind::Redis {
                clients,
                url,
                prefix,
            } => {
                let mut handle = Self::redis_handle(clients, url).await?;
                let pattern = format!("{}*", glob_escape(prefix));
                let mut seen = HashSet::new();
                let mut keys = Vec::new();
                let mut cursor: u64 = 0;
                loop {
                    let (next, batch): (u64, Vec<Vec<u8>>) = handle
                        .query(
                            redis::cmd("SCAN")
                                .arg(cursor)
                                .arg("MATCH")
                                .arg(&pattern)
                                .arg("COUNT")
                                .arg(SCAN_COUNT),
                        )
                        .await
                        .map_err(other)?;
                    for raw in batch {
                        let Some(key) = raw.strip_prefix(prefix.as_bytes()) else {
                            continue;
                        };
                        let key = String::from_utf8_lossy(key).into_owned();
                        // SCAN may return a key more than once.
                        if seen.insert(key.clone()) {
                            keys.push(key);
                        }
                    }
                    if next == 0 {
                        return Ok(keys);
                    }
                    cursor = next;
                }
            }
        }
    }
}

/// `text` with Redis glob metacharacters escaped, for `SCAN ... MATCH`.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The `store` resource.
pub struct Store {
    backend: Arc<Backend>,
}

impl SpinView<'_> {
    fn open_store(&mut self, label: &str) -> Result<Resource<Store>, Error> {
        let Some(backend) = self.services.key_value.get(label) else {
            // We only know the labels this component may use; like Spin,
            // do not say whether a refused store exists.
            return Err(Error::AccessDenied);
        };
        let backend = backend.clone();
        self.table
            .push(Store { backend })
            .map_err(|_| Error::StoreTableFull)
    }

    fn kv_backend(&self, this: &Resource<Store>) -> Result<Arc<Backend>, Error> {
        Ok(self
            .table
            .get(this)
            .map_err(|_| other("invalid key-value store"))?
            .backend
            .clone())
    }
}

impl wit::Host for SpinView<'_> {
    fn convert_error(&mut self, err: Error) -> anyhow::Result<Error> {
        Ok(err)
    }
}

impl wit::HostStore for SpinView<'_> {
    async fn drop(&mut self, this: Resource<Store>) -> anyhow::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

fn backend<T>(accessor: &Accessor<T, Spin>, this: &Resource<Store>) -> Result<Arc<Backend>, Error> {
    accessor.with(|mut access| access.get().kv_backend(this))
}

impl<T> wit::HostStoreWithStore<T> for Spin {
    async fn open(accessor: &Accessor<T, Self>, label: String) -> Result<Resource<Store>, Error> {
        accessor.with(|mut access| access.get().open_store(&label))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        this: Resource<Store>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        backend(accessor, &this)?.get(&key).await
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        this: Resource<Store>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        backend(accessor, &this)?.set(&key, value).await
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        this: Resource<Store>,
        key: String,
    ) -> Result<(), Error> {
        backend(accessor, &this)?.delete(&key).await
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        this: Resource<Store>,
        key: String,
    ) -> Result<bool, Error> {
        backend(accessor, &this)?.exists(&key).await
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        this: Resource<Store>,
    ) -> anyhow::Result<(StreamReader<String>, FutureReader<Result<(), Error>>)> {
        // The keys are gathered first (as Spin does), so the guest may read
        // the stream and the future in either order.
        let (keys, outcome) = match backend(accessor, &this) {
            Ok(backend) => match backend.keys().await {
                Ok(keys) => (keys, Ok(())),
                Err(e) => (Vec::new(), Err(e)),
            },
            Err(e) => (Vec::new(), Err(e)),
        };
        accessor.with(|mut access| {
            let keys = StreamReader::new(&mut access, keys)?;
            let done = FutureReader::new(
                &mut access,
                async move { Ok::<_, wasmtime::Error>(outcome) },
            )?;
            Ok((keys, done))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIS: &str = "redis://127.0.0.1:6379";

    fn unique_label(test: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("mhmanus-test-{test}-{}-{nanos}", std::process::id())
    }

    /// The same script on any backend; leaves the store empty.
    async fn exercise(store: &Backend) {
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
        exercise(&Backend::in_memory()).await;
    }

    #[tokio::test]
    async fn redis_store_behaves_the_same() {
        let clients = Arc::new(Clients::new());
        let label = unique_label("same");
        let store = Backend::redis(clients.clone(), REDIS.to_owned(), &label);
        exercise(&store).await;
    }

    #[tokio::test]
    async fn redis_stores_are_separate_and_prefixed() {
        let clients = Arc::new(Clients::new());
        let (one, two) = (unique_label("one"), unique_label("two"));
        let first = Backend::redis(clients.clone(), REDIS.to_owned(), &one);
        let second = Backend::redis(clients.clone(), REDIS.to_owned(), &two);
        first.set("k", b"1".to_vec()).await.unwrap();
        assert_eq!(second.get("k").await.unwrap(), None);
        assert_eq!(second.keys().await.unwrap(), Vec::<String>::new());

        // Stored under the label's prefix in Redis.
        let mut handle = clients.handle(REDIS).await.unwrap();
        let raw: Option<Vec<u8>> = handle
            .query(redis::cmd("GET").arg(format!("spin-kv:{one}:k")))
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
            .query(redis::cmd("KEYS").arg(format!("spin-kv:{}*", glob_escape(&two))))
            .await
            .unwrap();
        let _: i64 = handle.query(redis::cmd("DEL").arg(all)).await.unwrap();
        assert_eq!(second.keys().await.unwrap(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn unreachable_redis_is_an_other_error() {
        let store = Backend::redis(
            Arc::new(Clients::new()),
            "redis://127.0.0.1:1".to_owned(),
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
}
