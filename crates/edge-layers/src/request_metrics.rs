//! Each request counted by route, method and status, timed to its body's
//! end, and in the in-flight gauge meanwhile. The host renders them
//! (`/metrics`); the layers record what they decide themselves.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Gauge, Histogram};

use crate::until_body_end;

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

/// The in-flight gauge, resolved once: the host installs its recorder
/// before it serves anything.
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
/// sent, however it ends; its duration is recorded then. The series are
/// resolved once and kept: the first timer must come after the process's
/// recorder is installed (the host installs it before serving), or they
/// stay with the no-op recorder.
pub struct RequestTimer {
    started: Instant,
    method: &'static str,
    /// Known with the response head; a request dropped before it is not
    /// timed.
    duration: Option<Histogram>,
}

impl RequestTimer {
    pub fn start(method: &http::Method) -> Self {
        in_flight().increment(1.0);
        RequestTimer {
            started: Instant::now(),
            method: method_label(method),
            duration: None,
        }
    }

    /// Counts the request's answer, served by `route`; it is timed when
    /// the timer is dropped.
    pub fn answered(&mut self, route: &str, status: http::StatusCode) {
        let (requests, duration) = series(route, self.method, status.as_u16());
        requests.increment(1);
        self.duration = Some(duration);
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

/// Middleware for the host's own routes (a route layer): counted under
/// the route they matched, timed to their body's end.
pub async fn record(request: Request, next: Next) -> Response {
    let mut timer = RequestTimer::start(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    timer.answered(route, response.status());
    until_body_end::hold(response, timer).map(Body::new)
}
