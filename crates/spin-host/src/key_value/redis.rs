//! A store in Redis: each label is a key prefix (`spin-kv:<label>:`) on the
//! host-wide multiplexed connection to that server.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use super::{Backend, other};
use crate::bindings::spin::key_value::key_value::Error;
use crate::redis::{Clients, Handle};

/// Keys asked for per `SCAN` round trip.
const SCAN_COUNT: usize = 500;

pub struct InRedis {
    clients: Arc<Clients>,
    url: String,
    prefix: String,
}

impl fmt::Debug for InRedis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InRedis")
            .field("url", &crate::redact::url(&self.url))
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl InRedis {
    /// The store `label` in the Redis at `url`: its keys are
    /// `spin-kv:<label>:<key>`. Connects on first use.
    pub fn new(clients: Arc<Clients>, url: String, label: &str) -> Self {
        InRedis {
            clients,
            url,
            prefix: format!("spin-kv:{label}:"),
        }
    }

    async fn handle(&self) -> Result<Handle, Error> {
        self.clients.handle(&self.url).await.map_err(other)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait::async_trait]
impl Backend for InRedis {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut handle = self.handle().await?;
        handle
            .query(redis::cmd("GET").arg(self.key(key)))
            .await
            .map_err(other)
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), Error> {
        let mut handle = self.handle().await?;
        handle
            .query(redis::cmd("SET").arg(self.key(key)).arg(value))
            .await
            .map_err(other)
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        let mut handle = self.handle().await?;
        let _deleted: i64 = handle
            .query(redis::cmd("DEL").arg(self.key(key)))
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        let mut handle = self.handle().await?;
        handle
            .query(redis::cmd("EXISTS").arg(self.key(key)))
            .await
            .map_err(other)
    }

    async fn keys(&self) -> Result<Vec<String>, Error> {
        let mut handle = self.handle().await?;
        let pattern = format!("{}*", glob_escape(&self.prefix));
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
                let Some(key) = raw.strip_prefix(self.prefix.as_bytes()) else {
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

/// `text` with Redis glob metacharacters escaped, for `SCAN ... MATCH`.
pub(super) fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
