//! One request through the wasm handler, in process (no HTTP, no edge
//! layers): `Runtime::handle` on the trivial route of production_test.wasm,
//! with a fresh instance per request and with one instance reused.
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p auth -p health -p production-test
//! cargo bench -p bench --bench handler
//! ```

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use mhmanus_host::config::HostConfig;
use mhmanus_host::runtime::{Runtime, full_body};
use mhmanus_manifest::LoadedManifest;

fn handler(c: &mut Criterion) {
    // One thread: the figure is the work of a request, not thread hand-offs.
    let executor = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let data = tempfile::tempdir().expect("a temporary directory");
    let mut group = c.benchmark_group("wasm-handler");
    for (name, reuse) in [("fresh-instance", 1), ("reused-instance", usize::MAX)] {
        let runtime = executor
            .block_on(start(data.path().join(name), reuse))
            .expect("the runtime starts");
        group.bench_function(name, |b| {
            b.iter(|| executor.block_on(trivial_request(&runtime)));
        });
    }
    group.finish();
}

async fn start(data: PathBuf, reuse: usize) -> anyhow::Result<Runtime> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spin.toml");
    let mut config = HostConfig::defaults(&manifest, data);
    // Compiled once, not on every run.
    config.cache_dir = Some(manifest.with_file_name("target/bench-compile-cache"));
    config.jwt_secret = Some("benchmark-secret-of-at-least-32-bytes".into());
    config.max_instance_reuse_count = reuse;
    Runtime::start(&LoadedManifest::load(&manifest)?, &config).await
}

async fn trivial_request(runtime: &Runtime) {
    let request = http::Request::get("/v1/production-test/rate-limit")
        .header("host", "bench.local")
        .body(full_body(""))
        .expect("a valid request");
    let response = runtime
        .route_and_handle(request, "127.0.0.1:40000".parse().expect("an address"))
        .await;
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.expect("the body");
    std::hint::black_box(body.to_bytes());
}

criterion_group!(benches, handler);
criterion_main!(benches);
