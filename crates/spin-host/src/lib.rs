//! The Spin interfaces, implemented natively. Each interface is one module
//! with the same shape: a backend shared by all instances of a component,
//! a resource type kept in the store's table, and the generated host traits.
//! Bindings come from the `spin-host` world in `wit/`.

pub mod key_value;
pub mod outbound;
pub mod postgres;
pub mod redact;
pub mod redis;
pub mod sqlite;
pub mod sqlite_backup;
mod streams;
mod unavailable;
pub mod variables;

pub use unavailable::Unavailable;

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, ResourceTable};

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "mhmanus:edge/spin-host",
        anyhow: true,
        // Sync WIT functions become async host functions too.
        imports: { default: async | trappable },
        with: {
            "spin:sqlite/sqlite.connection": crate::sqlite::Connection,
            "spin:postgres/postgres.connection": crate::postgres::Connection,
            "spin:postgres/postgres.connection-builder": crate::postgres::ConnectionBuilder,
            "spin:redis/redis.connection": crate::redis::Connection,
            "spin:key-value/key-value.store": crate::key_value::Store,
        },
        // As in Spin, host faults are reported as the interface's own error
        // variants (`io`, `other`, ...), never as traps: each error type maps
        // to itself and `convert_error` passes it through.
        trappable_error_type: {
            "spin:sqlite/sqlite.error" => spin::sqlite::sqlite::Error,
            "spin:postgres/postgres.error" => spin::postgres::postgres::Error,
            "spin:redis/redis.error" => spin::redis::redis::Error,
            "spin:key-value/key-value.error" => spin::key_value::key_value::Error,
        },
    });
}

/// What one component's Spin imports may reach, shared by all its instances.
/// Built from its manifest entry: only the stores, databases and hosts listed
/// there are reachable, as under Spin.
pub struct ComponentServices {
    pub component_id: String,
    pub variables: variables::ComponentVariables,
    pub sqlite: HashMap<String, Arc<sqlite::Database>>,
    pub key_value: HashMap<String, Arc<dyn key_value::Backend>>,
    pub outbound: outbound::OutboundPolicy,
    pub postgres: Arc<postgres::Pools>,
    pub redis: Arc<redis::Clients>,
}

/// The borrowed view the generated host traits are implemented on.
pub struct SpinView<'a> {
    pub services: &'a ComponentServices,
    pub table: &'a mut ResourceTable,
}

/// Marker for `add_to_linker`: the store data's Spin part is a [`SpinView`].
pub(crate) struct Spin;

impl HasData for Spin {
    type Data<'a> = SpinView<'a>;
}

pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> SpinView<'_>,
) -> anyhow::Result<()> {
    use bindings::spin;
    spin::variables::variables::add_to_linker::<T, Spin>(linker, view)?;
    spin::sqlite::sqlite::add_to_linker::<T, Spin>(linker, view)?;
    spin::postgres::postgres::add_to_linker::<T, Spin>(linker, view)?;
    spin::redis::redis::add_to_linker::<T, Spin>(linker, view)?;
    spin::key_value::key_value::add_to_linker::<T, Spin>(linker, view)?;
    Ok(())
}
