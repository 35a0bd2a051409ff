//! The ledger's lines for the edge layers one at a time: each over a router
//! whose fallback answers at once, with the request as the layers above it
//! would leave it (the client's address, the manifest route matched), and
//! the bare router alone to subtract. The host's own metrics and health
//! layers are not public, so they are only in the whole router's figure.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use mhmanus_edge_layers::{
    self as edge, EdgeConfig, body_limit, client_addr, compression, cors, host_header, load_shed,
    password_work, rate_limit, request_id, routing, security_headers, versioning,
};
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

/// Every layer alone, as the host configures it by default, the rate limit
/// on (in memory) so that its decision is in the figure.
fn layered(routes: &Arc<Routes>) -> anyhow::Result<Vec<Layered>> {
    let mut config = EdgeConfig::defaults();
    config.rate_limit = crate::rate_limit::QUOTA
        .parse()
        .map_err(anyhow::Error::msg)?;
    config.rate_limit_routes = vec![];
    let bare = || Router::new().fallback(|| async { "ok" });
    Ok(vec![
        (BARE, "bare router (a fallback that answers)", bare()),
        (
            "layer-request-id",
            "request id",
            bare().layer(from_fn(request_id::assign)),
        ),
        (
            "layer-security-headers",
            "security headers",
            bare().layer(from_fn_with_state(
                security_headers::SecurityHeaders::new(&config),
                security_headers::set,
            )),
        ),
        ("layer-cors", "CORS", bare().layer(cors::layer(&config)?)),
        (
            "layer-compression",
            "compression (a small body)",
            bare().layer(compression::layer(&config)),
        ),
        (
            "layer-host-header",
            "host header",
            bare().layer(from_fn(host_header::require)),
        ),
        (
            "layer-outer",
            "the five above together, with the span",
            edge::apply(bare(), &config)?,
        ),
        (
            "layer-routing",
            "route match and version rewrite",
            bare().layer(from_fn_with_state(
                Arc::new(routing::Resolver {
                    versions: versioning::Versions::new(&config)?,
                    routes: routes.clone(),
                }),
                routing::resolve,
            )),
        ),
        (
            "layer-load-shed",
            "load shedding",
            bare().layer(from_fn_with_state(
                load_shed::Slots::new(config.max_concurrent_requests),
                load_shed::shed,
            )),
        ),
        (
            "layer-client-addr",
            "client address",
            bare().layer(from_fn_with_state(
                client_addr::TrustedProxies::new(&config.trusted_proxies, config.forwarded_header),
                client_addr::resolve,
            )),
        ),
        (
            "layer-rate-limit",
            "rate limit (in memory)",
            bare().layer(from_fn_with_state(
                Arc::new(rate_limit::RateLimiter::new(&config, routes, None, None)),
                rate_limit::limit,
            )),
        ),
        (
            "layer-body-limit",
            "body limit",
            bare().layer(from_fn_with_state(
                body_limit::BodyLimits {
                    max_bytes: config.max_body_bytes,
                    read_timeout: Duration::from_secs(config.body_read_timeout_secs),
                },
                body_limit::limit,
            )),
        ),
        (
            "layer-password-work",
            "password-work budget",
            bare().layer(from_fn_with_state(
                Arc::new(password_work::PasswordWork::new(
                    config.max_password_checks,
                    config.password_routes.clone(),
                )),
                password_work::budget,
            )),
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
            b.iter(|| executor.block_on(request(&router, routes, path)));
        });
        counted.push(Counted {
            id,
            name,
            allocations: per_call(REQUESTS_COUNTED, || {
                executor.block_on(request(&router, routes, path))
            }),
        });
    }
    Ok(counted)
}

async fn request(router: &Router, routes: &Routes, path: &str) {
    let mut request = micro::router_request(path);
    request
        .extensions_mut()
        .insert(client_addr::ClientAddr(micro::peer()));
    if let Some(route) = routes.find(path) {
        request.extensions_mut().insert(routing::Matched(route));
    }
    match router.clone().oneshot(request).await {
        Ok(response) => micro::read_ok(response).await,
        Err(never) => match never {},
    }
}
