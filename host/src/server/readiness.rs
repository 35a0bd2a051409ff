//! Readiness as gauges, for alerts: a scrape of `/metrics` asks
//! `/health/ready` from inside (the health component and the host's checks,
//! as a probe would get them) and sets `health_status` and
//! `health_check_status{check}`. Whoever probes the host, or nobody, the
//! gauges say what readiness is now; a check that has left the report (a
//! dependency awaited at start-up, then reached) goes back to passing.
//! Scrapes within a second of the last ask share its answer, so a scraper
//! (or anyone, where `/metrics` is public) cannot multiply the work. Only
//! weak references are held: a scraper's kept-alive connection must not
//! keep the components from their orderly shutdown.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use mhmanus_contract::health::{Report, Status};
use mhmanus_edge_layers::client_addr::ClientAddr;
use mhmanus_edge_layers::routing::Matched;
use mhmanus_runtime::Components;

use super::health::{Augmented, HostHealth, augmented};

const READY: &str = "/health/ready";
/// Past this the host counts as not ready: the probe of
/// deploy/kubernetes (timeoutSeconds 3) would have given up, and a scrape
/// (Prometheus waits 10 s) must not hang on a dependency.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Scrapes this close to the last ask share its answer.
const FRESH: Duration = Duration::from_secs(1);

pub(super) struct Readiness {
    health: Weak<HostHealth>,
    components: Weak<Components>,
    /// The checks set by the last ask.
    checks: Mutex<BTreeSet<String>>,
    /// When readiness was last asked; held across the ask, so concurrent
    /// scrapes wait for one answer instead of asking again.
    asked: tokio::sync::Mutex<Option<Instant>>,
}

impl Readiness {
    pub(super) fn new(health: &Arc<HostHealth>, components: &Arc<Components>) -> Self {
        Readiness {
            health: Arc::downgrade(health),
            components: Arc::downgrade(components),
            checks: Mutex::default(),
            asked: tokio::sync::Mutex::new(None),
        }
    }

    /// Sets the gauges, asking for readiness unless it was just asked.
    pub(super) async fn record(&self) {
        let mut asked = self.asked.lock().await;
        if asked.is_some_and(|at| at.elapsed() < FRESH) {
            return;
        }
        if let Some(report) = self.ask().await {
            self.set(report.as_ref());
        }
        *asked = Some(Instant::now());
    }

    /// `/health/ready` from inside: `None` for an application without a
    /// health route; `Some(None)` when there was no report in time (or the
    /// host is being taken down).
    async fn ask(&self) -> Option<Option<Report>> {
        let (Some(health), Some(components)) = (self.health.upgrade(), self.components.upgrade())
        else {
            return Some(None);
        };
        let route = components.routes().find(READY)?;
        let mut request = Request::get(READY)
            .body(Body::empty())
            .expect("a fixed request is valid");
        request.extensions_mut().insert(Matched(route));
        request
            .extensions_mut()
            .insert(ClientAddr(SocketAddr::from(([127, 0, 0, 1], 0))));
        let asked = augmented(&health, request, |request| {
            super::dispatch(&components, request)
        });
        Some(match tokio::time::timeout(TIMEOUT, asked).await {
            Ok(Augmented::Report(report, _)) => Some(report),
            Ok(Augmented::Other(_)) | Err(_) => None,
        })
    }

    /// No report (none in time, or not one): not ready, checks unchanged.
    fn set(&self, report: Option<&Report>) {
        let Some(report) = report else {
            metrics::gauge!("health_status").set(0.0);
            return;
        };
        metrics::gauge!("health_status").set(score(report.status));
        let mut seen = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        for gone in seen
            .iter()
            .filter(|name| !report.checks.contains_key(*name))
        {
            metrics::gauge!("health_check_status", "check" => gone.clone()).set(1.0);
        }
        seen.clear();
        for (name, checks) in &report.checks {
            if let Some(worst) = checks.iter().map(|check| check.status).max() {
                metrics::gauge!("health_check_status", "check" => name.clone()).set(score(worst));
                seen.insert(name.clone());
            }
        }
    }
}

/// 1 pass, 0.5 warn, 0 fail.
fn score(status: Status) -> f64 {
    match status {
        Status::Pass => 1.0,
        Status::Warn => 0.5,
        Status::Fail => 0.0,
    }
}
