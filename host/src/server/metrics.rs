//! Prometheus metrics: requests by route, method and status, their latency,
//! and what the layers below record themselves (rate-limit decisions, guest
//! instantiations and failures, connection pools). Served at `/metrics`, on
//! the main address or on `METRICS_LISTEN`.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use mhmanus_edge_layers::routing::ServedBy;
use mhmanus_edge_layers::until_body_end;

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

/// The route label: the host's own route, the manifest route that served
/// the answer (after the version rewrite), or `unmatched`.
fn route_label<'a>(host_route: Option<&'a MatchedPath>, response: &'a Response) -> &'a str {
    if let Some(route) = host_route {
        return route.as_str();
    }
    match response.extensions().get::<ServedBy>() {
        Some(ServedBy(route)) => route.as_str(),
        None => "unmatched",
    }
}

/// A request's two series for one route, method and status.
struct Series {
    method: &'static str,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

/// The series of each route, resolved once: a `metrics` macro call builds
/// its labels and looks the series up in the registry every time. Routes
/// are the manifest's and the host's, methods and statuses a few: small.
static SERIES: LazyLock<RwLock<HashMap<String, Vec<Series>>>> = LazyLock::new(Default::default);

/// The request counter and the duration histogram of `route`, `method`
/// and `status`.
fn series(route: &str, method: &'static str, status: u16) -> (Counter, Histogram) {
    let find = |all: &HashMap<String, Vec<Series>>| {
        all.get(route)?
            .iter()
            .find(|s| s.method == method && s.status == status)
            .map(|s| (s.requests.clone(), s.duration.clone()))
    };
    if let Some(found) = find(&SERIES.read().unwrap_or_else(|e| e.into_inner())) {
        return found;
    }
    let mut all = SERIES.write().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = find(&all) {
        return found;
    }
    let requests = metrics::counter!("http_requests_total", "method" => method, "route" => route.to_owned(), "status" => status.to_string());
    let duration = metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route.to_owned());
    all.entry(route.to_owned()).or_default().push(Series {
        method,
        status,
        requests: requests.clone(),
        duration: duration.clone(),
    });
    (requests, duration)
}

/// The in-flight gauge, resolved once (after `handle` installed the
/// recorder: no request is served before).
fn in_flight() -> &'static Gauge {
    static IN_FLIGHT: OnceLock<Gauge> = OnceLock::new();
    IN_FLIGHT.get_or_init(|| metrics::gauge!("http_requests_in_flight"))
}

/// The method label: the standard methods, anything else `OTHER`, so a
/// client inventing methods cannot mint series.
fn method_label(method: &http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// A request in the in-flight gauge from its start until its answer is
/// sent, however it ends; its duration is recorded then.
struct RequestTimer {
    started: Instant,
    /// Known with the response head; a request dropped before it is not
    /// timed.
    duration: Option<Histogram>,
}

impl RequestTimer {
    fn start() -> Self {
        in_flight().increment(1.0);
        RequestTimer {
            started: Instant::now(),
            duration: None,
        }
    }
}

impl Drop for RequestTimer {
    fn drop(&mut self) {
        in_flight().decrement(1.0);
        if let Some(duration) = self.duration.take() {
            duration.record(self.started.elapsed().as_secs_f64());
        }
    }
}

/// Middleware: counts every request, and times it to its body's end. On
/// the host's own routes (a route layer) and around the components alike.
pub(super) async fn record(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let mut timer = RequestTimer::start();
    let host_route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route_label(host_route.as_ref(), &response);
    let (requests, duration) = series(route, method, response.status().as_u16());
    requests.increment(1);
    timer.duration = Some(duration);
    until_body_end::hold(response, timer).map(Body::new)
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
