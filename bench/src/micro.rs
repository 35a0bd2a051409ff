//! The in-process micro-benchmark (criterion), the first lines of issue 38's
//! cost ledger: the trivial route of production_test.wasm, one request at a
//! time on one thread, no sockets. Each stage alone where it can be had
//! alone, and the whole in-process path, so the layers' share is the
//! difference:
//!
//! - HTTP/1 itself: hyper's parse and encode of one request on a kept-alive
//!   connection (`http1.rs`);
//! - the route match (`Routes::find`);
//! - the request's metrics (counted, timed, in flight) alone;
//! - the wasm handler (`Components::route_and_handle`: admission, the Spin
//!   headers, the guest) with a fresh and with a reused instance, and with
//!   a reused instance of a guest that answers at once (`p3-hello`);
//! - the whole router (every edge layer, metrics, the route match, the
//!   handler) with a reused instance, without a log subscriber and with the
//!   host's JSON access log written to a sink;
//!
//! with the heap allocations of one request beside each. It runs in this
//! binary, which links the host's library from the same build as the host:
//! a `cargo bench` target would have compiled wasmtime again, with other
//! features.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use criterion::Criterion;
use http_body_util::BodyExt as _;
use mhmanus_host::{Application, HostConfig, full_body};
use mhmanus_manifest::LoadedManifest;
use serde::{Deserialize, Serialize};
use tower::ServiceExt as _;

use mhmanus_edge_layers::request_metrics::RequestTimer;

use crate::counting_allocator::per_call;
use crate::prepare::{Tools, target_dir};
use crate::server;
use crate::{http1, layers};

const GROUP: &str = "wasm-handler";
const PATH: &str = "/v1/production-test/rate-limit";
const PEER: &str = "127.0.0.1:40000";
/// Requests whose allocations are counted, after criterion's warm runs.
pub(crate) const REQUESTS_COUNTED: u32 = 200;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Micro {
    pub fresh_instance_us: f64,
    pub reused_instance_us: f64,
    pub hello_reused_instance_us: f64,
    pub route_match_us: f64,
    pub http1_us: f64,
    pub request_metrics_us: f64,
    pub router_us: f64,
    pub router_logged_us: f64,
    pub allocations: Allocations,
    /// The bare router, then each edge layer alone over it (µs and
    /// allocations net of the bare router's).
    pub layers: Vec<LayerLine>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct LayerLine {
    pub name: &'static str,
    pub us: f64,
    pub allocations: f64,
}

impl Micro {
    /// The ledger's lines, as the report prints them.
    pub(crate) fn text(&self) -> String {
        let a = &self.allocations;
        let mut text = format!(
            "\none request in process, trivial route (criterion median; allocations):\n\
             {:<44} {:>8.2} µs {:>6.0}\n\
             {:<44} {:>8.2} µs\n\
             {:<44} {:>8.2} µs {:>6.0}\n\
             {:<44} {:>8.1} µs\n\
             {:<44} {:>8.1} µs {:>6.0}\n\
             {:<44} {:>8.1} µs {:>6.0}\n\
             {:<44} {:>8.1} µs {:>6.0}\n\
             {:<44} {:>8.1} µs {:>6.0}\n\
             {:<44} {:>8.1} µs {:>6.0}\n",
            "HTTP/1 parse and encode (hyper, no socket)",
            self.http1_us,
            a.http1,
            "route match",
            self.route_match_us,
            "request metrics (count, time, in flight)",
            self.request_metrics_us,
            a.request_metrics,
            "wasm handler, fresh instance",
            self.fresh_instance_us,
            "wasm handler, reused instance",
            self.reused_instance_us,
            a.reused_instance,
            "  the same, a guest that answers at once",
            self.hello_reused_instance_us,
            a.hello_reused_instance,
            "router (every layer), reused instance",
            self.router_us,
            a.router,
            "router, with the JSON access log",
            self.router_logged_us,
            a.router_logged,
            "  the layers' share (router - handler)",
            self.router_us - self.reused_instance_us,
            a.router - a.reused_instance,
        );
        for (i, layer) in self.layers.iter().enumerate() {
            let name = if i == 0 {
                layer.name.to_owned()
            } else {
                format!("  + {}", layer.name)
            };
            let _ = writeln!(
                text,
                "{name:<44} {:>8.2} µs {:>6.0}",
                layer.us, layer.allocations
            );
        }
        text
    }
}

/// Heap allocations (and reallocations) per request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Allocations {
    pub http1: f64,
    pub request_metrics: f64,
    pub reused_instance: f64,
    pub hello_reused_instance: f64,
    pub router: f64,
    pub router_logged: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// One request's way in: through the handler alone or the whole router.
#[derive(Clone, Copy)]
enum Way {
    Handler,
    Router,
}

/// Runs on a thread of its own (criterion drives its own current-thread
/// executor), then reads the medians back from criterion's `estimates.json`.
pub(crate) fn run(tools: &Tools, quick: bool) -> anyhow::Result<Micro> {
    let data = tempfile::tempdir()?;
    let manifest = tools.root.join("spin.toml");
    let cache = tools.root.join("target/bench-compile-cache");
    let data_dir = data.path().to_owned();
    let hello = data_dir.join("p3-hello.toml");
    std::fs::write(
        &hello,
        server::hello_manifest(
            &target_dir(&tools.root).join("wasm32-wasip2/release/p3_hello.wasm"),
        ),
    )?;
    let (allocations, counted) = std::thread::scope(|scope| {
        scope
            .spawn(|| measure([&manifest, &hello], &cache, &data_dir, quick))
            .join()
            .expect("the micro-benchmark does not panic")
    })?;
    let median_us = |name: &str| -> anyhow::Result<f64> {
        let path = criterion_home(&tools.root)
            .join(GROUP)
            .join(name)
            .join("new/estimates.json");
        let estimates: Estimates = serde_json::from_slice(&std::fs::read(&path)?)?;
        Ok(estimates.median.point_estimate / 1000.0)
    };
    let bare_us = median_us(layers::BARE)?;
    let mut lines = vec![];
    for (i, layer) in counted.iter().enumerate() {
        let us = median_us(layer.id)?;
        // The bare router as measured; each layer over it, net.
        let (us, allocations) = if i == 0 {
            (us, layer.allocations)
        } else {
            (us - bare_us, layer.allocations - counted[0].allocations)
        };
        lines.push(LayerLine {
            name: layer.name,
            us,
            allocations,
        });
    }
    Ok(Micro {
        layers: lines,
        fresh_instance_us: median_us("fresh-instance")?,
        reused_instance_us: median_us("reused-instance")?,
        hello_reused_instance_us: median_us("reused-instance-hello")?,
        route_match_us: median_us("route-match")?,
        http1_us: median_us("http1")?,
        request_metrics_us: median_us("request-metrics")?,
        router_us: median_us("router")?,
        router_logged_us: median_us("router-logged")?,
        allocations,
    })
}

/// `manifests`: the repository's, and the p3 hello alone.
fn measure(
    [manifest, hello]: [&Path; 2],
    cache: &Path,
    data: &Path,
    quick: bool,
) -> anyhow::Result<(Allocations, Vec<layers::Counted>)> {
    // One thread: the figure is the work of a request, not thread hand-offs.
    let executor = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut criterion = Criterion::default().without_plots();
    if quick {
        criterion = criterion
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(1));
    }
    let mut group = criterion.benchmark_group(GROUP);
    let fresh = executor.block_on(start(manifest, cache, &data.join("fresh"), 1))?;
    group.bench_function("fresh-instance", |b| {
        b.iter(|| executor.block_on(request(&fresh, Way::Handler)));
    });
    let app = executor.block_on(start(manifest, cache, &data.join("reused"), usize::MAX))?;
    let routes = app.components().routes();
    group.bench_function("route-match", |b| {
        b.iter(|| std::hint::black_box(routes.find(std::hint::black_box(PATH))));
    });
    let mut connection = {
        let _on = executor.enter();
        http1::connect()
    };
    group.bench_function("http1", |b| {
        b.iter(|| executor.block_on(connection.request()));
    });
    let http1 = per_call(REQUESTS_COUNTED, || executor.block_on(connection.request()));
    // The host's recorder is installed: the series are the host's.
    let count_one = || {
        let mut timer = RequestTimer::start(&http::Method::GET);
        timer.answered(PATH, http::StatusCode::OK);
    };
    group.bench_function("request-metrics", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for batch in batches(iterations) {
                let started = Instant::now();
                for _ in 0..batch {
                    count_one();
                }
                spent += started.elapsed();
                // As a scraper would: folds in the histogram's samples,
                // which would otherwise pile up (millions of them here).
                executor.block_on(scrape(&app));
            }
            spent
        });
    });
    let request_metrics = per_call(REQUESTS_COUNTED, count_one);
    let hello = executor.block_on(start(hello, cache, &data.join("hello"), usize::MAX))?;
    group.bench_function("reused-instance-hello", |b| {
        b.iter(|| executor.block_on(request(&hello, Way::Handler)));
    });
    let hello_reused_instance = per_call(REQUESTS_COUNTED, || {
        executor.block_on(request(&hello, Way::Handler))
    });
    let mut counted = vec![];
    for (name, way, logged) in [
        ("reused-instance", Way::Handler, false),
        ("router", Way::Router, false),
        ("router-logged", Way::Router, true),
    ] {
        // This thread's subscriber while it lasts: the executor runs here.
        let _log = logged.then(|| tracing::subscriber::set_default(access_log()));
        group.bench_function(name, |b| {
            b.iter(|| executor.block_on(request(&app, way)));
        });
        counted.push(per_call(REQUESTS_COUNTED, || {
            executor.block_on(request(&app, way))
        }));
    }
    let layers = layers::measure(&mut group, &executor, &routes, PATH)?;
    group.finish();
    let allocations = Allocations {
        http1,
        request_metrics,
        reused_instance: counted[0],
        hello_reused_instance,
        router: counted[1],
        router_logged: counted[2],
    };
    Ok((allocations, layers))
}

/// `iterations` in batches of at most 100,000.
fn batches(iterations: u64) -> impl Iterator<Item = u64> {
    const BATCH: u64 = 100_000;
    (0..iterations.div_ceil(BATCH)).map(move |i| BATCH.min(iterations - i * BATCH))
}

/// `GET /metrics` through the host's router, read whole.
async fn scrape(app: &Application) {
    match app.router().oneshot(router_request("/metrics")).await {
        Ok(response) => read_ok(response).await,
        Err(never) => match never {},
    }
}

async fn start(
    manifest: &Path,
    cache: &Path,
    data: &Path,
    reuse: usize,
) -> anyhow::Result<Application> {
    let mut config = HostConfig::defaults(manifest, data);
    // Compiled once, not on every run.
    config.runtime.cache_dir = Some(cache.to_owned());
    config.jwt_secret = Some("benchmark-secret-of-at-least-32-bytes".into());
    config.runtime.max_instance_reuse_count = reuse;
    // As the suite runs the host: the limiter off.
    config.edge.rate_limit = "off".parse().map_err(anyhow::Error::msg)?;
    config.edge.rate_limit_routes = vec![];
    Application::build(&LoadedManifest::load(manifest)?, &config).await
}

async fn request(app: &Application, way: Way) {
    let response = match way {
        Way::Handler => {
            let request = http::Request::get(PATH)
                .header("host", "bench.local")
                .body(full_body(""))
                .expect("a valid request");
            let response = app.components().route_and_handle(request, peer()).await;
            response.map(axum::body::Body::new)
        }
        Way::Router => through_router(app).await,
    };
    read_ok(response).await;
}

async fn through_router(app: &Application) -> http::Response<axum::body::Body> {
    match app.router().oneshot(router_request(PATH)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// `GET path` as a router receives it from the accept loop: a host header,
/// the peer's address.
pub(crate) fn router_request(path: &str) -> http::Request<axum::body::Body> {
    let mut request = http::Request::get(path)
        .header("host", "bench.local")
        .body(axum::body::Body::empty())
        .expect("a valid request");
    request.extensions_mut().insert(ConnectInfo(peer()));
    request
}

pub(crate) fn peer() -> SocketAddr {
    PEER.parse().expect("an address")
}

/// Asserts a 200 and reads its whole body, as a client would.
pub(crate) async fn read_ok(response: http::Response<axum::body::Body>) {
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.expect("the body");
    std::hint::black_box(body.to_bytes());
}

/// The host's log as `RUST_LOG` unset and stderr collected make it (JSON at
/// `info`, each line with its span's fields once; `mhmanus_server::telemetry`),
/// written nowhere.
fn access_log() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .json()
        .with_span_list(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::sink)
        .finish()
}

/// Where criterion writes, as its documentation gives the order:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
/// `target/criterion` (this binary runs from the workspace, not under cargo).
fn criterion_home(root: &Path) -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::prepare::target_dir(root).join("criterion"))
}
