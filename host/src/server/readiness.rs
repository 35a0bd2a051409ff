//! Readiness as gauges, for alerts: each scrape of `/metrics` asks
//! `/health/ready` from inside (the health component and the host's checks,
//! as a probe would get them) and sets `health_status` and
//! `health_check_status{check}`. Whoever probes the host, or nobody, the
//! gauges say what readiness is now; a check that has left the report (a
//! dependency awaited at start-up, then reached) goes back to passing.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use mhmanus_contract::health::{Report, Status};
use mhmanus_edge_layers::client_addr::ClientAddr;
use mhmanus_edge_layers::routing::Matched;
use mhmanus_runtime::Components;

use super::health::{Augmented, HostHealth, augmented};

const READY: &str = "/health/ready";
/// Past this the host counts as not ready: a probe would have given up,
/// and the scrape must not wait for a hanging dependency.
const TIMEOUT: Duration = Duration::from_secs(2);

pub(super) struct Readiness {
    health: Arc<HostHealth>,
    components: Arc<Components>,
    /// The checks set by the last scrape.
    checks: Mutex<BTreeSet<String>>,
}

impl Readiness {
    pub(super) fn new(health: Arc<HostHealth>, components: Arc<Components>) -> Self {
        Readiness {
            health,
            components,
            checks: Mutex::default(),
        }
    }

    /// Asks for readiness and sets the gauges.
    pub(super) async fn record(&self) {
        let Some(route) = self.components.routes().find(READY) else {
            return; // An application without a health route.
        };
        let mut request = Request::get(READY)
            .body(Body::empty())
            .expect("a fixed request is valid");
        request.extensions_mut().insert(Matched(route));
        request
            .extensions_mut()
            .insert(ClientAddr(SocketAddr::from(([127, 0, 0, 1], 0))));
        let asked = augmented(&self.health, request, |request| {
            super::dispatch(&self.components, request)
        });
        let report = match tokio::time::timeout(TIMEOUT, asked).await {
            Ok(Augmented::Report(report, _)) => Some(report),
            Ok(Augmented::Other(_)) | Err(_) => None,
        };
        self.set(report.as_ref());
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
