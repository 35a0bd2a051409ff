//! The HTTP side: axum serves the routes of the manifest through the
//! runtime, and answers `/health/live` itself (process alive, no dependency
//! checks), so liveness never waits on a component or a database.

mod docs;
mod health;
mod limiter_redis;
mod metrics;
mod openapi;
mod readiness;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use mhmanus_contract::health::{self as report, Report};
use mhmanus_contract::problem::Problem;
use mhmanus_edge_layers::component_pass::{ComponentPass, ComponentRules};
use mhmanus_edge_layers::{
    self as edge, client_addr, problem, rate_limit, request_metrics, routing,
};
use secrecy::ExposeSecret;

use mhmanus_domain::auth::jwt::JwtSettings;
use mhmanus_runtime::{self as runtime, Components};

use crate::config::{HostConfig, MetricsAddress};
use crate::connections::Connections;
use crate::dependencies::Dependencies;

/// The host's routes: `/health/live`, `/openapi.json`, `/docs` and (unless
/// it has its own address) `/metrics` answered here, everything else by the
/// components. Every answer goes through the edge's front pass (request
/// id and log span, security headers), CORS and compression (in
/// `edge::apply`); a component's request then through the component pass
/// (route, load shedding, client address, rate limit, body limit,
/// password-work budget, metrics) and the host's health checks.
pub(crate) fn router(
    components: Arc<Components>,
    connections: &Connections,
    dependencies: Arc<Dependencies>,
    tokens: Option<JwtSettings>,
    config: &HostConfig,
) -> anyhow::Result<Routers> {
    let edge_config = &config.edge;
    let redis = config.redis_url.as_ref().map(|url| {
        Arc::new(limiter_redis::LimiterRedis {
            clients: connections.redis.clone(),
            url: url.expose_secret().to_owned(),
        }) as Arc<dyn rate_limit::Redis>
    });
    let subject = tokens.map(|tokens| {
        Arc::new(move |authorization: &str| tokens.subject_of(authorization)) as rate_limit::Subject
    });
    let limiter = Arc::new(rate_limit::RateLimiter::new(
        edge_config,
        &components.routes(),
        subject,
        redis,
    ));
    let host_health = Arc::new(health::HostHealth::new(
        config,
        components.clone(),
        dependencies,
        limiter.clone(),
    )?);
    let rules = ComponentRules::new(edge_config, components.routes(), limiter)?;
    let readiness = readiness::Readiness::new(&host_health, &components);
    let metrics = metrics::Metrics::new(connections.clone(), readiness);
    metrics::start_at_zero(&components);
    // The host's own routes are answered before the component pass: probes
    // and scrapes are never shed, limited or routed to a component.
    let mut host_routes = Router::new().route("/health/live", get(live));
    if let Some(document) = openapi::load(&config.manifest)? {
        host_routes = host_routes
            .route(
                "/openapi.json",
                get(move || openapi::serve(document.clone())),
            )
            .merge(docs::routes());
    }
    if config.metrics_address() == MetricsAddress::Main {
        host_routes =
            host_routes.route("/metrics", get(metrics::render).with_state(metrics.clone()));
    }
    let served = tower::service_fn(move |request: Request| {
        let components = components.clone();
        let host_health = host_health.clone();
        async move {
            Ok::<_, Infallible>(
                health::augment(&host_health, request, |request| {
                    dispatch(&components, request)
                })
                .await,
            )
        }
    });
    let routes = host_routes
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn(request_metrics::record))
        .fallback_service(ComponentPass::new(rules, served));
    Ok(Routers {
        public: edge::apply(routes, edge_config)?,
        // `/metrics` alone, for `METRICS_LISTEN`: scraped on an address the
        // public one does not expose.
        metrics: Router::new()
            .route("/metrics", get(metrics::render).with_state(metrics))
            .method_not_allowed_fallback(method_not_allowed),
    })
}

/// The public router, and the one `METRICS_LISTEN` serves.
pub(crate) struct Routers {
    pub(crate) public: Router,
    pub(crate) metrics: Router,
}

/// A host route asked with a method it does not answer: a 405 problem
/// (axum adds `Allow`), as the components answer theirs.
async fn method_not_allowed(method: http::Method, uri: http::Uri) -> Response {
    problem::response(
        Problem::new(405)
            .detail(format!("{method} is not allowed here"))
            .instance(uri.path()),
    )
}

async fn live() -> Response {
    let report = Report::new(mhmanus_contract::SERVICE_ID, env!("CARGO_PKG_VERSION"));
    (
        [
            (http::header::CONTENT_TYPE, report::MEDIA_TYPE),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::to_string(&report).expect("a report always serializes"),
    )
        .into_response()
}

/// A request the component pass let through, to its component.
async fn dispatch(components: &Components, mut request: Request) -> Response {
    let Some(routing::Matched(route)) = request.extensions_mut().remove() else {
        return runtime::no_route(request.uri().path()).map(Body::new);
    };
    // Set by the component pass from the connection's peer, always there.
    let Some(&client_addr::ClientAddr(client)) = request.extensions().get() else {
        return problem::response(Problem::new(500).detail("the connection's peer is unknown"));
    };
    let request = request.map(|body| {
        body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))
            .boxed_unsync()
    });
    components
        .handle(request, &route, client)
        .await
        .map(Body::new)
}
