//! Prometheus metrics: requests by route, method and status, their latency
//! (`mhmanus_edge_layers::request_metrics`), and what the layers below
//! record themselves (rate-limit decisions, guest instantiations and
//! failures, connection pools). Served at `/metrics`, on the main address
//! or on `METRICS_LISTEN`.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::readiness::Readiness;
use crate::connections::Connections;
use mhmanus_runtime::Components;

/// Latency buckets in seconds: a cached route answers in a millisecond,
/// a login (argon2id) in tens, a timeout in tens of seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process-wide recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        describe();
        process().describe();
        metrics::gauge!("mhmanus_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        // Histograms buffer samples until upkeep folds them in; without a
        // scrape they would pile up.
        if let Ok(executor) = tokio::runtime::Handle::try_current() {
            let handle = handle.clone();
            executor.spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    every.tick().await;
                    handle.run_upkeep();
                }
            });
        }
        handle
    })
}

/// The `# HELP` line of every family the host and its layers record, so a
/// scrape says what each one is.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "Requests answered, by route (the manifest's, the host's, or unmatched), method and status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time from a request's arrival to the last byte of its answer, by route and method"
    );
    describe_gauge!(
        "http_requests_in_flight",
        "Requests being served, until their answers' bodies are sent"
    );
    describe_counter!(
        "http_requests_shed_total",
        "Requests refused with 503 at once, past MAX_CONCURRENT_REQUESTS"
    );
    describe_counter!(
        "rate_limit_decisions_total",
        "Rate-limit decisions, by decision (allowed, limited) and backend"
    );
    describe_counter!(
        "password_checks_refused_total",
        "Password checks refused for want of a place, by reason (client, capacity)"
    );
    describe_counter!(
        "wasm_instantiations_total",
        "Component instances started, by component"
    );
    describe_counter!(
        "wasm_failures_total",
        "Requests a component failed, by component and kind (trap, timeout, instantiation)"
    );
    describe_gauge!(
        "db_pool_connections",
        "PostgreSQL pool connections, by pool (a digest of its address) and state"
    );
    describe_gauge!(
        "redis_connections",
        "Redis addresses with a live shared connection"
    );
    describe_counter!(
        "component_output_dropped_total",
        "Lines a component printed past its stream's budget (100 at once, 20 a second), by component"
    );
    describe_counter!(
        "log_lines_dropped_total",
        "Log lines dropped because the log writer could not keep up"
    );
    describe_gauge!(
        "health_status",
        "Readiness when scraped (/health/ready asked from inside): 1 pass, 0.5 warn, 0 fail or no answer in 3 s"
    );
    describe_gauge!(
        "health_check_status",
        "Each check of the readiness report when scraped, by check: 1 pass, 0.5 warn, 0 fail"
    );
    describe_gauge!(
        "mhmanus_build_info",
        "The running build, by version; always 1"
    );
}

/// The process's own figures (`process_*`: CPU, memory, file descriptors,
/// threads, start time), as Prometheus's clients name them.
fn process() -> &'static metrics_process::Collector {
    static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();
    PROCESS.get_or_init(metrics_process::Collector::default)
}

#[derive(Clone)]
pub(super) struct Metrics {
    connections: Connections,
    readiness: Arc<Readiness>,
}

impl Metrics {
    pub(super) fn new(connections: Connections, readiness: Readiness) -> Self {
        handle();
        Metrics {
            connections,
            readiness: Arc::new(readiness),
        }
    }
}

/// Every counter of an event that may never have happened yet, at zero:
/// `increase()` over a series that first appears at 1 is 0, so without
/// this the first trap or shed request would raise no alert.
pub(super) fn start_at_zero(components: &Components) {
    handle();
    metrics::counter!("http_requests_shed_total").increment(0);
    for reason in ["client", "capacity"] {
        metrics::counter!("password_checks_refused_total", "reason" => reason).increment(0);
    }
    for component in components.component_ids() {
        let component = component.to_owned();
        metrics::counter!("wasm_instantiations_total", "component" => component.clone())
            .increment(0);
        metrics::counter!("component_output_dropped_total", "component" => component.clone())
            .increment(0);
        for kind in ["trap", "timeout", "instantiation"] {
            metrics::counter!("wasm_failures_total", "component" => component.clone(), "kind" => kind)
                .increment(0);
        }
    }
}

/// `GET /metrics` in the Prometheus text format.
pub(super) async fn render(State(metrics): State<Metrics>) -> Response {
    metrics.connections.record_figures();
    metrics.readiness.record().await;
    process().collect();
    metrics::counter!("log_lines_dropped_total")
        .absolute(mhmanus_server::telemetry::dropped_log_lines());
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}
