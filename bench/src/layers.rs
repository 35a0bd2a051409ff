//! The ledger's lines for the edge: the front pass, CORS and compression
//! each over a router whose fallback answers at once, then the three
//! together as the host applies them, and the component pass over a
//! service that answers at once, with the rate limit off (as in the suite)
//! and on; the bare router alone to subtract.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse as _;
use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use mhmanus_edge_layers::component_pass::{ComponentPass, ComponentRules};
use mhmanus_edge_layers::front_pass::FrontLayer;
use mhmanus_edge_layers::rate_limit::policy::Policy;
use mhmanus_edge_layers::{self as edge, EdgeConfig, compression, cors, rate_limit};
use mhmanus_manifest::Routes;
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

use crate::counting_allocator::per_call;
use crate::micro::{self, REQUESTS_COUNTED};

/// A layer's benchmark id (a file name for criterion), what the ledger
/// calls it, and the bare router wrapped in it.
type Layered = (&'static str, &'static str, Router);

/// The bare router's id: the others are measured against it.
pub(crate) const BARE: &str = "layer-none";

/// Each part of the edge alone, as the host configures it by default.
fn layered(routes: &Arc<Routes>) -> anyhow::Result<Vec<Layered>> {
    let config = EdgeConfig::defaults();
    let bare = || Router::new().fallback(|| async { "ok" });
    let component_pass = |rate_limit: Policy| -> anyhow::Result<Router> {
        let mut config = config.clone();
        config.rate_limit = rate_limit;
        config.rate_limit_routes = vec![];
        let limiter = Arc::new(rate_limit::RateLimiter::new(&config, routes, None, None));
        let rules = ComponentRules::new(&config, routes.clone(), limiter)?;
        let answer = tower::service_fn(|_| async { Ok::<_, Infallible>("ok".into_response()) });
        Ok(Router::new().fallback_service(ComponentPass::new(rules, answer)))
    };
    Ok(vec![
        (BARE, "bare router (a fallback that answers)", bare()),
        (
            "layer-front-pass",
            "front pass: request id, span, host, security headers",
            bare().layer(FrontLayer::new(&config)),
        ),
        ("layer-cors", "CORS", bare().layer(cors::layer(&config)?)),
        (
            "layer-compression",
            "compression (a small body)",
            bare().layer(compression::layer(&config)),
        ),
        (
            "layer-outer",
            "the three above together (`edge::apply`)",
            edge::apply(bare(), &config)?,
        ),
        (
            "layer-component-pass",
            "component pass, rate limit off (as in the suite)",
            component_pass(Policy::Off)?,
        ),
        (
            "layer-component-pass-limited",
            "component pass, rate limit in memory",
            component_pass(
                crate::rate_limit::QUOTA
                    .parse()
                    .map_err(anyhow::Error::msg)?,
            )?,
        ),
    ])
}

/// A layer as measured: its benchmark id, its name, and its allocations
/// per request.
pub(crate) struct Counted {
    pub id: &'static str,
    pub name: &'static str,
    pub allocations: f64,
}

/// Benchmarks each layer in `group`, the bare router first.
pub(crate) fn measure(
    group: &mut BenchmarkGroup<'_, WallTime>,
    executor: &Runtime,
    routes: &Arc<Routes>,
    path: &'static str,
) -> anyhow::Result<Vec<Counted>> {
    let mut counted = vec![];
    for (id, name, router) in layered(routes)? {
        group.bench_function(id, |b| {
            b.iter(|| executor.block_on(request(&router, path)));
        });
        counted.push(Counted {
            id,
            name,
            allocations: per_call(REQUESTS_COUNTED, || {
                executor.block_on(request(&router, path))
            }),
        });
    }
    Ok(counted)
}

async fn request(router: &Router, path: &str) {
    match router.clone().oneshot(micro::router_request(path)).await {
        Ok(response) => micro::read_ok(response).await,
        Err(never) => match never {},
    }
}
