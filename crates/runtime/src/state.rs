//! What one component instance's store holds: WASI, wasi-http, the Spin
//! services its manifest entry allows, and its memory limit.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::outbound_http::OutboundHttp;
use mhmanus_spin_host::{ComponentServices, SpinView};

pub(super) struct InstanceState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) limits: StoreLimits,
    services: Arc<ComponentServices>,
    outbound_http: OutboundHttp,
}

impl InstanceState {
    pub(super) fn new(services: Arc<ComponentServices>, limits: StoreLimits) -> Self {
        InstanceState {
            table: ResourceTable::new(),
            // Guests' stdout/stderr reach the host's log; nothing else of the host's is shared.
            wasi: WasiCtx::builder().inherit_stdout().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            limits,
            outbound_http: OutboundHttp {
                services: services.clone(),
            },
            services,
        }
    }

    pub(super) fn spin(&mut self) -> SpinView<'_> {
        SpinView {
            services: &self.services,
            table: &mut self.table,
        }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}
