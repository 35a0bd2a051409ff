//! Instance lifecycle for one component, on wasi-http's `ProxyHandler` (the
//! machinery behind `wasmtime serve`): WASIp3 instances are reused as in
//! Spin 4 (max reuse count, max concurrent reuse count, idle timeout),
//! WASIp2 instances serve one request each. Every store gets the memory cap
//! and yields at each epoch tick, so a request deadline can always fire.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::component::TaskGroupId;
use wasmtime::{Engine, Store, StoreContextMut, StoreLimitsBuilder};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};

use super::state::InstanceState;
use mhmanus_spin_host::ComponentServices;

/// How instances of a component are reused and bounded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InstancePolicy {
    pub max_reuse: usize,
    pub max_concurrent: usize,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    pub memory_bytes: usize,
}

pub(super) struct ComponentInstances {
    pub engine: Engine,
    pub pre: ProxyPre<InstanceState>,
    pub services: Arc<ComponentServices>,
    pub policy: InstancePolicy,
}

impl HandlerState for ComponentInstances {
    type StoreData = InstanceState;
    type WorkerExpiration = Expiration;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<InstanceState, Expiration, Worker>> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.policy.memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(
            &self.engine,
            InstanceState::new(self.services.clone(), limits),
        );
        store.limiter(|state| &mut state.limits);
        // Yield to the executor at every epoch tick instead of trapping: the
        // expiration below then stops a guest that never finishes.
        store.epoch_deadline_async_yield_and_update(1);
        store.set_epoch_deadline(1);
        let proxy = self.pre.instantiate_async(&mut store).await?;
        metrics::counter!("wasm_instantiations_total", "component" => self.services.component_id.clone())
            .increment(1);
        let p3 = matches!(self.pre, ProxyPre::P3(_));
        Ok(Instance {
            store,
            proxy,
            view: <InstanceState as WasiHttpView>::http,
            expiration: Expiration {
                policy: self.policy,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX / 4)),
            },
            state: Worker {
                max_reuse: if p3 { self.policy.max_reuse } else { 1 },
                max_concurrent: if p3 { self.policy.max_concurrent } else { 1 },
            },
        })
    }
}

pub(super) struct Worker {
    max_reuse: usize,
    max_concurrent: usize,
}

impl WorkerState for Worker {
    type StoreData = InstanceState;
    /// The request's deadline: one budget from arrival, so time spent
    /// waiting for admission or an instance is not granted again.
    type RequestData = tokio::time::Instant;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.max_reuse {
            ShouldAccept::Never
        } else if concurrent >= self.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, InstanceState>,
        deadline: tokio::time::Instant,
        _group: TaskGroupId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        Box::pin(tokio::time::sleep_until(deadline))
    }

    fn drop(&self, _store: Store<InstanceState>, result: wasmtime::Result<()>) {
        if let Err(error) = result {
            tracing::warn!(error = %error, "component instance ended with an error");
        }
    }
}

/// Retires idle instances after the idle timeout and busy ones after the
/// request timeout, even when a guest starves the event loop.
pub(super) struct Expiration {
    policy: InstancePolicy,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiration {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        since: Instant,
    ) -> Poll<()> {
        let limit = match status {
            WorkerStatus::Idle => self.policy.idle_timeout,
            _ => self.policy.request_timeout,
        };
        let Some(deadline) = since.checked_add(limit) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}
