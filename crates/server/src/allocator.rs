//! The allocator the host's binaries choose (each with
//! `#[global_allocator] static ALLOCATOR: Jemalloc = Jemalloc;`; tests and
//! fuzz targets keep the system's): jemalloc. glibc's malloc serialises the host's worker threads on its arena locks (a third
//! fewer requests per second) and keeps what argon2's 19 MiB blocks leave
//! behind; jemalloc keeps per-thread caches, and its background thread
//! hands freed memory back to the system within a second, so an idle host
//! stays small without being called.

pub use tikv_jemallocator::Jemalloc;

/// Read by jemalloc when it starts (tikv-jemalloc-sys prefixes its symbols
/// with `_rjem_`): purge unused pages from a background thread, dirty ones
/// after half a second.
#[unsafe(export_name = "_rjem_malloc_conf")]
pub(crate) static MALLOC_CONF: &[u8; 59] =
    b"background_thread:true,dirty_decay_ms:500,muzzy_decay_ms:0\0";
