//! The runtime's own settings, as Spin's trigger takes them: how long a
//! request may run in a component, how much memory an instance may use, how
//! instances are reused, and how many requests a component takes at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct RuntimeConfig {
    /// Wall-clock limit for one request inside a component, in seconds.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Linear memory one component instance may grow to, in MiB.
    #[arg(long, env = "INSTANCE_MEMORY_MIB", default_value_t = 128)]
    pub instance_memory_mib: usize,

    /// Requests one WASIp3 instance serves before it is retired (Spin's max reuse count).
    #[arg(long, env = "MAX_INSTANCE_REUSE_COUNT", default_value_t = 128)]
    pub max_instance_reuse_count: usize,

    /// Requests one WASIp3 instance serves at once (Spin's max concurrent reuse count).
    #[arg(
        long,
        env = "MAX_INSTANCE_CONCURRENT_REUSE_COUNT",
        default_value_t = 16
    )]
    pub max_instance_concurrent_reuse_count: usize,

    /// Requests one component handles at once, each until its body is
    /// sent; more wait their turn, in order. Bounds its instances (a busy instance takes no more requests,
    /// so CPU-bound requests would each start one) and their memory.
    #[arg(long, env = "MAX_COMPONENT_CONCURRENCY", default_value_t = 32)]
    pub max_component_concurrency: usize,

    /// Seconds an idle instance is kept for reuse (Spin's idle instance timeout).
    #[arg(long, env = "IDLE_INSTANCE_TIMEOUT_SECS", default_value_t = 1)]
    pub idle_instance_timeout_secs: u64,

    /// Where compiled components are cached (default: DATA_DIR/compiled).
    #[arg(long, env = "COMPILE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl RuntimeConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn idle_instance_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_instance_timeout_secs)
    }

    /// The compile cache: `COMPILE_CACHE_DIR`, else `compiled` in `data_dir`.
    pub fn cache_dir_in(&self, data_dir: &Path) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("compiled"))
    }
}
