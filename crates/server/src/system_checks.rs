//! What `/health` says of the machine: memory in use (of the container's
//! limit when there is one) and the disk holding the data directory, each
//! graded by its thresholds. Measured off the async workers (a slow mount
//! must not stall them) and at most once per `FIGURES_FOR`: `/health` is
//! never rate limited, and scanning mounts on every call would let callers
//! set the pace.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use mhmanus_contract::health::{Check, Status};
use sysinfo::{MemoryRefreshKind, System};

const FIGURES_FOR: Duration = Duration::from_secs(1);

/// The percentages of memory and disk in use at which `/health` warns and
/// fails.
#[derive(Debug, Clone, Args)]
pub struct HealthThresholds {
    /// `/health` warns when memory in use reaches this percentage.
    #[arg(
        long = "health-memory-warn-percent",
        env = "HEALTH_MEMORY_WARN_PERCENT",
        default_value_t = 85
    )]
    pub memory_warn_percent: u8,

    /// `/health` fails when memory in use reaches this percentage.
    #[arg(
        long = "health-memory-fail-percent",
        env = "HEALTH_MEMORY_FAIL_PERCENT",
        default_value_t = 95
    )]
    pub memory_fail_percent: u8,

    /// `/health` warns when the data directory's disk is this full (percent).
    #[arg(
        long = "health-disk-warn-percent",
        env = "HEALTH_DISK_WARN_PERCENT",
        default_value_t = 80
    )]
    pub disk_warn_percent: u8,

    /// `/health` fails when the data directory's disk is this full (percent),
    /// as the original system's 90 % disk check.
    #[arg(
        long = "health-disk-fail-percent",
        env = "HEALTH_DISK_FAIL_PERCENT",
        default_value_t = 90
    )]
    pub disk_fail_percent: u8,
}

pub struct SystemChecks {
    data_dir: PathBuf,
    memory: Thresholds,
    disk: Thresholds,
    system: Mutex<System>,
    observed: tokio::sync::Mutex<Option<Figures>>,
}

/// The last memory and disk checks, and when they were made.
struct Figures {
    at: Instant,
    memory: Check,
    disk: Check,
}

/// Utilisation percentages at which a check warns and fails.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    warn: f64,
    fail: f64,
}

impl Thresholds {
    fn new(name: &str, warn: u8, fail: u8) -> anyhow::Result<Self> {
        anyhow::ensure!(
            warn <= fail && fail <= 100,
            "{name}: the warn threshold ({warn} %) must not exceed the fail threshold ({fail} %), nor that 100"
        );
        Ok(Thresholds {
            warn: f64::from(warn),
            fail: f64::from(fail),
        })
    }

    fn check(self, used: u64, total: u64, what: &str) -> Check {
        if total == 0 {
            return Check {
                status: Status::Warn,
                output: Some(format!("{what}: size unknown")),
                ..Check::pass()
            };
        }
        let percent = (used as f64 * 1000.0 / total as f64).round() / 10.0;
        let check = Check::pass().observed(percent, "percent");
        let over = |limit: f64| format!("{what} is {percent} % used (limit {limit} %)");
        if percent >= self.fail {
            Check {
                status: Status::Fail,
                output: Some(over(self.fail)),
                ..check
            }
        } else if percent >= self.warn {
            Check {
                status: Status::Warn,
                output: Some(over(self.warn)),
                ..check
            }
        } else {
            check
        }
    }
}

impl SystemChecks {
    /// Checks of this process's machine, the disk under `data_dir`.
    pub fn new(thresholds: &HealthThresholds, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        Ok(SystemChecks {
            data_dir: data_dir.to_owned(),
            memory: Thresholds::new(
                "HEALTH_MEMORY_*_PERCENT",
                thresholds.memory_warn_percent,
                thresholds.memory_fail_percent,
            )?,
            disk: Thresholds::new(
                "HEALTH_DISK_*_PERCENT",
                thresholds.disk_warn_percent,
                thresholds.disk_fail_percent,
            )?,
            system: Mutex::new(
                System::new().map_err(|e| anyhow::anyhow!("cannot read system figures: {e}"))?,
            ),
            observed: tokio::sync::Mutex::new(None),
        })
    }

    /// The memory and disk checks, measured now or at most `FIGURES_FOR` ago.
    pub async fn measure(self: &Arc<Self>) -> (Check, Check) {
        let mut observed = self.observed.lock().await;
        if let Some(figures) = &*observed
            && figures.at.elapsed() < FIGURES_FOR
        {
            return (figures.memory.clone(), figures.disk.clone());
        }
        let checks = self.clone();
        let (memory, disk) = tokio::task::spawn_blocking(move || (checks.memory(), checks.disk()))
            .await
            .unwrap_or_else(|_| {
                let failed = || Check::fail("the measurement failed");
                (failed(), failed())
            });
        *observed = Some(Figures {
            at: Instant::now(),
            memory: memory.clone(),
            disk: disk.clone(),
        });
        (memory, disk)
    }

    fn memory(&self) -> Check {
        let mut system = self.system.lock().unwrap_or_else(|e| e.into_inner());
        system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        let (used, total) = match system.cgroup_limits() {
            Some(limits) if limits.total_memory > 0 => (limits.rss, limits.total_memory),
            _ => (system.used_memory(), system.total_memory()),
        };
        self.memory
            .check(used, total, "memory")
            .component("host", "system")
    }

    /// Space used on the filesystem holding `DATA_DIR` (SQLite, compile
    /// cache), counted as `df` does: of what is usable, blocks reserved for
    /// root excluded.
    fn disk(&self) -> Check {
        let check = match rustix::fs::statvfs(&self.data_dir) {
            Ok(stat) => {
                let used = stat.f_blocks.saturating_sub(stat.f_bfree) * stat.f_frsize;
                let usable = used + stat.f_bavail * stat.f_frsize;
                self.disk.check(used, usable, "disk")
            }
            Err(error) => {
                // The path is for the operator's log, not for anonymous callers.
                tracing::warn!(data_dir = %self.data_dir.display(), %error, "cannot measure the disk");
                Check {
                    status: Status::Warn,
                    output: Some(
                        "cannot measure the data directory's disk (details in the log)".into(),
                    ),
                    ..Check::pass()
                }
            }
        };
        check.component("data-dir", "system")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_grade_utilisation() {
        let t = Thresholds::new("t", 80, 90).unwrap();
        assert_eq!(t.check(50, 100, "disk").status, Status::Pass);
        assert_eq!(t.check(80, 100, "disk").status, Status::Warn);
        let fail = t.check(95, 100, "disk");
        assert_eq!(fail.status, Status::Fail);
        assert_eq!(fail.observed_value, Some(serde_json::json!(95.0)));
        assert_eq!(
            fail.output.as_deref(),
            Some("disk is 95 % used (limit 90 %)")
        );
        assert_eq!(t.check(1, 0, "disk").status, Status::Warn);
        assert!(Thresholds::new("t", 95, 90).is_err());
        assert!(Thresholds::new("t", 95, 101).is_err());
    }
}
