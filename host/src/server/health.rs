//! The host's part of `/health` and `/health/ready`: the health component
//! reports on the database and Redis; the host adds what only it can see —
//! memory and disk utilisation, the components it loaded, the rate
//! limiter's store, and whether it is draining — and recomputes the status.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use mhmanus_domain::health::{self, Check, Report, Status};
use sysinfo::{MemoryRefreshKind, System};

use crate::config::HostConfig;
use crate::edge::rate_limit::RateLimiter;
use crate::runtime::Runtime;

/// A report larger than this is not a health report; it passes untouched.
const MAX_REPORT_BYTES: usize = 1 << 20;
/// Memory and disk figures are reused this long: `/health` is never rate
/// limited, and scanning mounts on every call would let callers set the pace.
const SYSTEM_FIGURES_FOR: Duration = Duration::from_secs(1);

pub struct HostHealth {
    runtime: Arc<Runtime>,
    limiter: Arc<RateLimiter>,
    data_dir: PathBuf,
    memory: Thresholds,
    disk: Thresholds,
    system: Mutex<System>,
    observed: tokio::sync::Mutex<Option<SystemFigures>>,
}

/// The last memory and disk checks, and when they were made.
struct SystemFigures {
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

impl HostHealth {
    pub fn new(
        config: &HostConfig,
        runtime: Arc<Runtime>,
        limiter: Arc<RateLimiter>,
    ) -> anyhow::Result<Self> {
        let edge = &config.edge;
        Ok(HostHealth {
            runtime,
            limiter,
            data_dir: config.data_dir.clone(),
            memory: Thresholds::new(
                "HEALTH_MEMORY_*_PERCENT",
                edge.health_memory_warn_percent,
                edge.health_memory_fail_percent,
            )?,
            disk: Thresholds::new(
                "HEALTH_DISK_*_PERCENT",
                edge.health_disk_warn_percent,
                edge.health_disk_fail_percent,
            )?,
            system: Mutex::new(
                System::new().map_err(|e| anyhow::anyhow!("cannot read system figures: {e}"))?,
            ),
            observed: tokio::sync::Mutex::new(None),
        })
    }

    /// Memory in use: of the container's limit when there is one (cgroups),
    /// else of the machine.
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
            Err(error) => Check {
                status: Status::Warn,
                output: Some(format!("cannot measure {}: {error}", shown(&self.data_dir))),
                ..Check::pass()
            },
        };
        check.component(shown(&self.data_dir), "system")
    }

    fn components(&self) -> Check {
        let mut ids: Vec<&str> = self.runtime.component_ids().collect();
        ids.sort_unstable();
        Check::pass()
            .component(ids.join(","), "component")
            .observed(ids.len(), "components")
    }

    /// Memory and disk, measured off the async workers (a slow mount must
    /// not stall them) at most once per `SYSTEM_FIGURES_FOR`.
    async fn system_checks(self: &Arc<Self>) -> (Check, Check) {
        let mut observed = self.observed.lock().await;
        if let Some(figures) = &*observed
            && figures.at.elapsed() < SYSTEM_FIGURES_FOR
        {
            return (figures.memory.clone(), figures.disk.clone());
        }
        let host = self.clone();
        let (memory, disk) = tokio::task::spawn_blocking(move || (host.memory(), host.disk()))
            .await
            .unwrap_or_else(|_| {
                let failed = || Check::fail("the measurement failed");
                (failed(), failed())
            });
        *observed = Some(SystemFigures {
            at: Instant::now(),
            memory: memory.clone(),
            disk: disk.clone(),
        });
        (memory, disk)
    }

    async fn add_host_checks(self: &Arc<Self>, report: &mut Report, full: bool) {
        // The component's own verdict stands even without checks to show it.
        let reported = report.status;
        if self.runtime.is_draining() {
            report.add(
                "host:draining",
                Check::fail("shutting down: finishing in-flight requests, taking no new ones"),
            );
        }
        report.add("components:loaded", self.components());
        if full {
            let (memory, disk) = self.system_checks().await;
            report.add("memory:utilization", memory);
            report.add("disk:utilization", disk);
            if let Some(check) = self.limiter.check() {
                report.add("rate-limiter:backend", check);
            }
        }
        report.recompute();
        report.status = report.status.max(reported);
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Middleware on `/health` and `/health/ready`.
pub async fn augment(
    State(health): State<Arc<HostHealth>>,
    request: Request,
    next: Next,
) -> Response {
    let full = match request.uri().path() {
        "/health" => true,
        "/health/ready" => false,
        _ => return next.run(request).await,
    };
    if !full && health.runtime.is_draining() {
        // Answered at once: a draining host must leave the load balancer now.
        let mut report = Report::new("mhmanus-edge", env!("CARGO_PKG_VERSION"));
        health.add_host_checks(&mut report, false).await;
        return report_response(&report, http::HeaderMap::new());
    }
    let response = next.run(request).await;
    let is_report = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(health::MEDIA_TYPE.as_bytes()));
    if !is_report {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_REPORT_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::warn!(%error, "health report unreadable");
            let mut report = Report::new("mhmanus-edge", env!("CARGO_PKG_VERSION"));
            report.add(
                "health:report",
                Check::fail("the health component's report was unreadable"),
            );
            health.add_host_checks(&mut report, full).await;
            return report_response(&report, parts.headers);
        }
    };
    match serde_json::from_slice::<Report>(&bytes) {
        Ok(mut report) => {
            health.add_host_checks(&mut report, full).await;
            report_response(&report, parts.headers)
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

fn report_response(report: &Report, mut headers: http::HeaderMap) -> Response {
    headers.remove(http::header::CONTENT_LENGTH);
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(health::MEDIA_TYPE),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    let mut response = Response::new(Body::from(
        serde_json::to_string(report).expect("a report always serializes"),
    ));
    *response.status_mut() =
        http::StatusCode::from_u16(report.http_status()).unwrap_or(http::StatusCode::OK);
    *response.headers_mut() = headers;
    response
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
