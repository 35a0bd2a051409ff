//! The wasmtime engine: pooling allocator, epoch ticks for deadlines, and
//! components compiled once and cached on disk, so a restart does not
//! recompile.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: guests yield to the executor at this pace,
/// which is what lets a request deadline stop a guest that never returns.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Instances each engine's pool keeps room for across its components.
const POOLED_INSTANCES: u32 = 256;

/// What a freed pool slot keeps, which depends on how often slots are freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FreedSlots {
    /// Every page goes back to the kernel: for instances reused across
    /// requests (WASIp3), which free a slot rarely, so that memory falls
    /// back after a burst instead of staying at its peak.
    GiveBack,
    /// The first 2 MiB of linear memory and 512 KiB of table stay resident,
    /// zeroed in place (Spin's amounts): for instances that serve one
    /// request (WASIp2), which free a slot per request. Giving the pages
    /// back each time cost a cross-CPU TLB shootdown per request, the
    /// kernel's 44 % of the hello profile (issue 38). A guest whose memory
    /// fits in 2 MiB is then reset with no system call at all; a smaller
    /// amount leaves one `madvise` per request and most of the gain with it.
    KeepResident,
}

const MEMORY_KEPT_RESIDENT: usize = 2 << 20;
const TABLE_KEPT_RESIDENT: usize = 512 << 10;

pub(super) fn new_engine(
    instance_memory_bytes: usize,
    freed_slots: FreedSlots,
) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model_async(true)
        .epoch_interruption(true);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOLED_INSTANCES)
        .total_core_instances(POOLED_INSTANCES * 4)
        .total_memories(POOLED_INSTANCES * 2)
        .total_tables(POOLED_INSTANCES * 4)
        .total_stacks(POOLED_INSTANCES)
        .max_memory_size(instance_memory_bytes);
    if freed_slots == FreedSlots::KeepResident {
        pool.linear_memory_keep_resident(MEMORY_KEPT_RESIDENT)
            .table_keep_resident(TABLE_KEPT_RESIDENT);
    }
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config)
        .map_err(|e| anyhow::anyhow!("cannot create the wasmtime engine: {e}"))?;
    spawn_epoch_ticker(&engine);
    Ok(engine)
}

/// Advances the engine's epoch until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// Loads the component `bytes`, compiling them only when `cache_dir` has no
/// compiled copy for these exact bytes and this engine configuration.
pub(super) fn load_component(
    engine: &Engine,
    bytes: &[u8],
    cache_dir: &Path,
) -> anyhow::Result<Component> {
    let cached = cache_dir.join(format!("{}.cwasm", cache_key(engine, bytes)));
    if cached.exists() {
        // SAFETY: the cache directory holds only what `precompile_component`
        // wrote below, for these bytes and an engine whose compiled code is
        // the same (the key covers both; what a freed slot keeps is not part
        // of the code, so both engines share a file).
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(file = %cached.display(), error = %e, "compiled copy unusable; recompiling")
            }
        }
    }
    let compiled = engine
        .precompile_component(bytes)
        .map_err(|e| anyhow::anyhow!("not a valid component: {e}"))?;
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    // Write then rename, so a concurrent start never reads half a file.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let unique = format!(
        "{}-{}.partial",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    );
    let partial = cached.with_extension(unique);
    std::fs::write(&partial, &compiled)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &cached)?;
    // SAFETY: as above; the file was just written from `precompile_component`.
    unsafe { Component::deserialize_file(engine, &cached) }
        .map_err(|e| anyhow::anyhow!("cannot load compiled {}: {e}", cached.display()))
}

fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut digest = Sha256::new();
    digest.update(wasm);
    digest.update(compat.finish().to_le_bytes());
    digest
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}
