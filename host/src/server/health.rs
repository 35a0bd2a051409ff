//! The host's part of `/health` and `/health/ready`: the health component
//! reports on the database and Redis; the host adds what only it can see —
//! memory and disk utilisation, the components it loaded, the rate
//! limiter's store, and whether it is draining — and recomputes the status.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http_body_util::BodyExt;
use mhmanus_contract::health::{self, Check, Report};

use crate::config::HostConfig;
use crate::dependencies::Dependencies;
use mhmanus_edge_layers::rate_limit::RateLimiter;
use mhmanus_runtime::Components;
use mhmanus_server::SystemChecks;

/// A report larger than this is not a health report; it passes untouched.
const MAX_REPORT_BYTES: usize = 1 << 20;

pub(super) struct HostHealth {
    components: Arc<Components>,
    dependencies: Arc<Dependencies>,
    limiter: Arc<RateLimiter>,
    system: Arc<SystemChecks>,
}

impl HostHealth {
    pub(super) fn new(
        config: &HostConfig,
        components: Arc<Components>,
        dependencies: Arc<Dependencies>,
        limiter: Arc<RateLimiter>,
    ) -> anyhow::Result<Self> {
        Ok(HostHealth {
            components,
            dependencies,
            limiter,
            system: Arc::new(SystemChecks::new(&config.server.health, &config.data_dir)?),
        })
    }

    fn components(&self) -> Check {
        let mut ids: Vec<&str> = self.components.component_ids().collect();
        ids.sort_unstable();
        Check::pass()
            .component(ids.join(","), "component")
            .observed(ids.len(), "components")
    }

    async fn add_host_checks(&self, report: &mut Report, full: bool) {
        // The component's own verdict stands even without checks to show it.
        let reported = report.status;
        if self.components.is_draining() {
            report.add(
                "host:draining",
                Check::fail("shutting down: finishing in-flight requests, taking no new ones"),
            );
        }
        report.add("components:loaded", self.components());
        for (name, waiting) in self.dependencies.waiting() {
            let state = if waiting.refused {
                "answers but refuses the connection (fix the setting)"
            } else {
                "does not answer yet"
            };
            report.add(
                format!("{name}:startup"),
                Check::fail(format!(
                    "waiting for {} since start-up: it {state}; {} attempts so far, retried \
                     with back-off (the reason is in the log)",
                    waiting.setting, waiting.attempts
                ))
                .component(name, "datastore")
                .observed(waiting.attempts, "attempts"),
            );
        }
        if full {
            let (memory, disk) = self.system.measure().await;
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

/// Serves `request` by `serve`, adding the host's checks to the report
/// of `/health` and `/health/ready`.
pub(super) async fn augment<F>(
    health: &HostHealth,
    request: Request,
    serve: impl FnOnce(Request) -> F,
) -> Response
where
    F: Future<Output = Response>,
{
    match augmented(health, request, serve).await {
        Augmented::Report(report, headers) => report_response(&report, headers),
        Augmented::Other(response) => response,
    }
}

/// What `augment` answers: a report with the host's checks, or the
/// component's answer untouched (another path, or no report).
pub(super) enum Augmented {
    Report(Report, http::HeaderMap),
    Other(Response),
}

pub(super) async fn augmented<F>(
    health: &HostHealth,
    request: Request,
    serve: impl FnOnce(Request) -> F,
) -> Augmented
where
    F: Future<Output = Response>,
{
    let full = match request.uri().path() {
        "/health" => true,
        "/health/ready" => false,
        _ => return Augmented::Other(serve(request).await),
    };
    if !full && health.components.is_draining() {
        // Answered at once: a draining host must leave the load balancer now.
        let mut report = Report::new(mhmanus_contract::SERVICE_ID, env!("CARGO_PKG_VERSION"));
        health.add_host_checks(&mut report, false).await;
        return Augmented::Report(report, http::HeaderMap::new());
    }
    let response = serve(request).await;
    let is_report = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(health::MEDIA_TYPE.as_bytes()));
    if !is_report {
        return Augmented::Other(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_REPORT_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::warn!(%error, "health report unreadable");
            let mut report = Report::new(mhmanus_contract::SERVICE_ID, env!("CARGO_PKG_VERSION"));
            report.add(
                "health:report",
                Check::fail("the health component's report was unreadable"),
            );
            health.add_host_checks(&mut report, full).await;
            return Augmented::Report(report, parts.headers);
        }
    };
    match serde_json::from_slice::<Report>(&bytes) {
        Ok(mut report) => {
            health.add_host_checks(&mut report, full).await;
            Augmented::Report(report, parts.headers)
        }
        Err(_) => Augmented::Other(Response::from_parts(parts, Body::from(bytes))),
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
