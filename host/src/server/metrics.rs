//! Prometheus metrics: requests by route, method and status, their latency
//! (`mhmanus_edge_layers::request_metrics`), and what the layers below
//! record themselves (rate-limit decisions, guest instantiations and
//! failures, connection pools). Served at `/metrics`, on the main address
//! or on `METRICS_LISTEN`.

use std::sync::OnceLock;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::connections::Connections;

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

#[derive(Clone)]
pub(super) struct Metrics {
    connections: Connections,
}

impl Metrics {
    pub(super) fn new(connections: Connections) -> Self {
        handle();
        Metrics { connections }
    }
}

/// `GET /metrics` in the Prometheus text format.
pub(super) async fn render(State(metrics): State<Metrics>) -> Response {
    metrics.connections.record_figures();
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
