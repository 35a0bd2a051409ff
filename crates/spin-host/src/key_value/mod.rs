//! `spin:key-value`: each label a component lists in `key_value_stores` is
//! one [`Backend`], shared by every instance and every component listing it.
//! A store lives in this process's memory ([`InMemory`], the default, lost
//! on exit) or in Redis ([`InRedis`]).

mod memory;
mod redis;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::spin::key_value::key_value::{self as wit, Error};
use super::{Spin, SpinView};
pub use memory::InMemory;
pub use redis::InRedis;

/// One store: what `spin:key-value` asks of wherever the values live.
#[async_trait::async_trait]
pub trait Backend: fmt::Debug + Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), Error>;
    /// Deleting a missing key is no error.
    async fn delete(&self, key: &str) -> Result<(), Error>;
    async fn exists(&self, key: &str) -> Result<bool, Error>;
    /// Every key in the store, each once, in no particular order.
    async fn keys(&self) -> Result<Vec<String>, Error>;
}

fn other(e: impl fmt::Display) -> Error {
    Error::Other(e.to_string())
}

/// The `store` resource.
#[allow(unreachable_pub)] // the generated bindings re-export it
pub struct Store {
    backend: Arc<dyn Backend>,
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

    fn kv_backend(&self, this: &Resource<Store>) -> Result<Arc<dyn Backend>, Error> {
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

fn backend<T>(
    accessor: &Accessor<T, Spin>,
    this: &Resource<Store>,
) -> Result<Arc<dyn Backend>, Error> {
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
