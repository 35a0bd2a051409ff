//! The in-process micro-benchmark (criterion): one request through the wasm
//! handler (`Components::route_and_handle`, no HTTP, no edge layers) on the
//! trivial route of production_test.wasm, with a fresh and with a reused
//! instance. It runs in this binary, which links the host's library from
//! the same build as the host: a `cargo bench` target would have compiled
//! wasmtime again, with other features.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use http_body_util::BodyExt as _;
use mhmanus_host::{Application, HostConfig};
use mhmanus_host::{Components, full_body};
use mhmanus_manifest::LoadedManifest;
use serde::{Deserialize, Serialize};

use crate::prepare::Tools;

const GROUP: &str = "wasm-handler";

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Micro {
    pub fresh_instance_us: f64,
    pub reused_instance_us: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// Runs on a thread of its own (criterion drives its own current-thread
/// executor), then reads the medians back from criterion's `estimates.json`.
pub(crate) fn run(tools: &Tools, quick: bool) -> anyhow::Result<Micro> {
    let data = tempfile::tempdir()?;
    let manifest = tools.root.join("spin.toml");
    let cache = tools.root.join("target/bench-compile-cache");
    let data_dir = data.path().to_owned();
    std::thread::scope(|scope| {
        scope
            .spawn(|| measure(&manifest, &cache, &data_dir, quick))
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
    Ok(Micro {
        fresh_instance_us: median_us("fresh-instance")?,
        reused_instance_us: median_us("reused-instance")?,
    })
}

fn measure(manifest: &Path, cache: &Path, data: &Path, quick: bool) -> anyhow::Result<()> {
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
    for (name, reuse) in [("fresh-instance", 1), ("reused-instance", usize::MAX)] {
        let components = executor.block_on(start(manifest, cache, &data.join(name), reuse))?;
        group.bench_function(name, |b| {
            b.iter(|| executor.block_on(trivial_request(&components)));
        });
    }
    group.finish();
    Ok(())
}

async fn start(
    manifest: &Path,
    cache: &Path,
    data: &Path,
    reuse: usize,
) -> anyhow::Result<Arc<Components>> {
    let mut config = HostConfig::defaults(manifest, data);
    // Compiled once, not on every run.
    config.runtime.cache_dir = Some(cache.to_owned());
    config.jwt_secret = Some("benchmark-secret-of-at-least-32-bytes".into());
    config.runtime.max_instance_reuse_count = reuse;
    let app = Application::build(&LoadedManifest::load(manifest)?, &config).await?;
    Ok(app.components().clone())
}

async fn trivial_request(components: &Components) {
    let request = http::Request::get("/v1/production-test/rate-limit")
        .header("host", "bench.local")
        .body(full_body(""))
        .expect("a valid request");
    let response = components
        .route_and_handle(request, "127.0.0.1:40000".parse().expect("an address"))
        .await;
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.expect("the body");
    std::hint::black_box(body.to_bytes());
}

/// Where criterion writes, as its documentation gives the order:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
/// `target/criterion` (this binary runs from the workspace, not under cargo).
fn criterion_home(root: &Path) -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::prepare::target_dir(root).join("criterion"))
}
