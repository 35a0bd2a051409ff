//! The engines a component's instances come from, each with a linker of
//! every interface the host provides. They differ in what a freed pool slot
//! keeps (`FreedSlots`): instances reused across requests come from one,
//! instances that serve a single request from the other, made at the first
//! component that needs it.

use std::path::Path;

use anyhow::{Context as _, bail};
use wasmtime::Engine;
use wasmtime::component::{InstancePre, Linker};
use wasmtime_wasi_http::handler::ProxyPre;
use wasmtime_wasi_http::{p2, p3};

use crate::components::Generation;
use crate::engine::{self, FreedSlots};
use crate::state::InstanceState;

pub(crate) struct Pools {
    memory_bytes: usize,
    reused: Linked,
    one_request: Option<Linked>,
}

/// A component ready to instantiate, and the engine its stores belong to.
pub(crate) struct Prepared {
    pub(crate) pre: ProxyPre<InstanceState>,
    pub(crate) generation: Generation,
    pub(crate) engine: Engine,
}

impl Pools {
    pub(crate) fn new(memory_bytes: usize) -> anyhow::Result<Self> {
        Ok(Pools {
            memory_bytes,
            reused: Linked::new(memory_bytes, FreedSlots::GiveBack)?,
            one_request: None,
        })
    }

    /// Compiles (or reads from `cache_dir`) and links component `id` on the
    /// engine that suits its instances.
    pub(crate) fn prepare(
        &mut self,
        id: &str,
        wasm: &[u8],
        cache_dir: &Path,
    ) -> anyhow::Result<Prepared> {
        let pre = self.reused.instantiate_pre(id, wasm, cache_dir)?;
        if let Ok(pre) = p3::bindings::ServicePre::new(pre.clone()) {
            return Ok(Prepared {
                pre: ProxyPre::P3(pre),
                generation: Generation::P3,
                engine: self.reused.engine.clone(),
            });
        }
        if p2::bindings::ProxyPre::new(pre).is_err() {
            bail!(
                "component {id} exports neither wasi:http/handler@0.3 nor wasi:http/incoming-handler@0.2"
            );
        }
        // A WASIp2 instance serves one request, so it frees a slot per request.
        let one_request = match &mut self.one_request {
            Some(linked) => linked,
            None => self
                .one_request
                .insert(Linked::new(self.memory_bytes, FreedSlots::KeepResident)?),
        };
        let pre = p2::bindings::ProxyPre::new(one_request.instantiate_pre(id, wasm, cache_dir)?)
            .map_err(anyhow::Error::from)?;
        Ok(Prepared {
            pre: ProxyPre::P2(pre),
            generation: Generation::P2,
            engine: one_request.engine.clone(),
        })
    }
}

/// An engine and its linker.
struct Linked {
    engine: Engine,
    linker: Linker<InstanceState>,
}

impl Linked {
    fn new(memory_bytes: usize, freed_slots: FreedSlots) -> anyhow::Result<Self> {
        let engine = engine::new_engine(memory_bytes, freed_slots)?;
        let linker = new_linker(&engine)?;
        Ok(Linked { engine, linker })
    }

    fn instantiate_pre(
        &self,
        id: &str,
        wasm: &[u8],
        cache_dir: &Path,
    ) -> anyhow::Result<InstancePre<InstanceState>> {
        let compiled = engine::load_component(&self.engine, wasm, cache_dir)
            .with_context(|| format!("component {id}"))?;
        self.linker.instantiate_pre(&compiled).map_err(|e| {
            anyhow::anyhow!("component {id} needs an import this host does not provide: {e}")
        })
    }
}

fn new_linker(engine: &Engine) -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    // spin-sdk 7 components import WASIp3 and, through Rust's std, WASIp2.
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    mhmanus_spin_host::add_to_linker(&mut linker, InstanceState::spin)?;
    Ok(linker)
}
