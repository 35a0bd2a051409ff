//! `spin:redis`: a component opens any Redis its `allowed_outbound_hosts`
//! lists. Connections are host-wide: one multiplexed connection per address,
//! made on first use and shared by every instance (and by the Redis
//! key-value stores). A connection that fails at the transport level is
//! dropped from the cache, so the next `open` reconnects and a restarted
//! Redis is picked up again.

mod clients;
mod results;
#[cfg(test)]
mod tests;

use redis::{FromRedisValue, Value};
use wasmtime::component::{Accessor, Resource};

use crate::bindings::spin::redis::redis::{self as wit, Error, RedisParameter, RedisResult};
use crate::{Spin, SpinView};
pub use clients::Clients;
pub use clients::Handle;
use results::to_results;

/// The `connection` resource.
#[allow(unreachable_pub)] // the generated bindings re-export it
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
