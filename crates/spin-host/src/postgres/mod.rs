//! `spin:postgres`: connections to PostgreSQL servers a component lists in
//! `allowed_outbound_hosts`. The host keeps one connection pool per address,
//! shared by every component; each WIT `connection` holds one pooled
//! connection until the guest drops it. TLS follows the address's
//! `sslmode` and `sslrootcert` as libpq reads them (`tls.rs`).
//!
//! Values convert as in Spin's `factor-outbound-pg`, a little more leniently
//! for parameters: any integer parameter binds to any integer column (checked
//! for range), either float to either float column, a `datetime` to
//! `timestamp` or `timestamptz`.

// The WIT `error` is large (its `db-error` record), and the generated
// traits return it by value anyway.
#![allow(clippy::result_large_err)]

mod address;
mod errors;
mod numeric;
mod params;
mod pools;
mod ranges;
mod rows;
mod statements;
#[cfg(test)]
mod tests;
mod tls;

use std::sync::Arc;

use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::spin::postgres::postgres::{
    self as wit, Column, DbValue, Error, ParameterValue, RowSet,
};
use super::streams::ChannelProducer;
use super::{Spin, SpinView};
use address::check_outbound;
use pools::Lent;
pub use pools::Pools;
use statements::execute;
use statements::query;
use statements::start_query;

/// The `connection` resource: one pooled connection, reset and returned to
/// its pool when the guest drops it (or when the last query streaming from
/// it ends).
#[allow(unreachable_pub)] // the generated bindings re-export it
pub struct Connection {
    client: Arc<Lent>,
}

/// The `connection-builder` resource.
#[allow(unreachable_pub)] // the generated bindings re-export it
pub struct ConnectionBuilder {
    address: String,
}

impl SpinView<'_> {
    /// Checks the outbound policy and hands out the pools to connect with.
    fn pg_pools(&self, address: &str) -> Result<Arc<Pools>, Error> {
        check_outbound(&self.services.outbound, address)?;
        Ok(self.services.postgres.clone())
    }

    fn push_pg_connection(&mut self, client: Lent) -> Result<Resource<Connection>, Error> {
        self.table
            .push(Connection {
                client: Arc::new(client),
            })
            .map_err(|e| Error::Other(e.to_string()))
    }

    fn pg_client(&self, this: &Resource<Connection>) -> Result<Arc<Lent>, Error> {
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
