//! What one component instance's store holds: WASI, wasi-http, the Spin
//! services its manifest entry allows, and its memory limit.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::guest_output::{GuestOutput, Stream};
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
        // Guests' stdout/stderr reach the host's log, as records of their
        // own; nothing else of the host's is shared.
        let component: Arc<str> = services.component_id.as_str().into();
        let wasi = WasiCtx::builder()
            .stdout(GuestOutput::new(component.clone(), Stream::Stdout))
            .stderr(GuestOutput::new(component, Stream::Stderr))
            .build();
        InstanceState {
            table: ResourceTable::new(),
            wasi,
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
