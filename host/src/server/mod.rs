//! The HTTP side: axum serves the routes of the manifest through the
//! runtime, and answers `/health/live` itself (process alive, no dependency
//! checks), so liveness never waits on a component or a database.

mod health;
mod metrics;
mod openapi;
pub mod system_checks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use mhmanus_domain::health::{self as report, Report};
use tower::ServiceBuilder;
use tower::ServiceExt;

use crate::config::HostConfig;
use crate::edge::{self, body_limit, client_addr, load_shed, rate_limit, versioning};
use crate::runtime::Runtime;

/// The host's routes: `/health/live` answered here, everything else by the
/// components, `/metrics` too unless it has its own address. Per request,
/// outermost first: request id and log span, security headers, CORS,
/// compression (in `edge::apply`); then metrics, load shedding, the client's
/// address, the version rewrite, the rate limit, the body limit and the
/// host's health checks, next to the component.
pub fn router(runtime: Arc<Runtime>, config: &HostConfig) -> anyhow::Result<Router> {
    let edge_config = &config.edge;
    let limiter = Arc::new(rate_limit::RateLimiter::new(config, runtime.clone())?);
    let host_health = Arc::new(health::HostHealth::new(
        config,
        runtime.clone(),
        limiter.clone(),
    )?);
    let versions = versioning::Versions::new(edge_config, runtime.clone())?;
    let metrics = metrics::Metrics::new(runtime.clone(), versions.clone());
    let mut routes = Router::new().route("/health/live", get(live));
    if let Some(document) = openapi::load(&config.manifest)? {
        routes = routes.route(
            "/openapi.json",
            get(move || openapi::serve(document.clone())),
        );
    }
    if config.metrics_listen.is_none() {
        routes = routes.route("/metrics", get(metrics::render).with_state(metrics.clone()));
    }
    // One service stack, so a request clones each layer once: layered on the
    // router one by one, each is boxed, and every layer's per-request clone
    // of what is under it would copy all of them.
    let host_layers = ServiceBuilder::new()
        .layer(from_fn_with_state(metrics, metrics::record))
        .layer(from_fn_with_state(
            load_shed::InFlight::new(edge_config.max_concurrent_requests),
            load_shed::shed,
        ))
        .layer(from_fn_with_state(
            client_addr::TrustedProxies::new(
                &edge_config.trusted_proxies,
                edge_config.forwarded_header,
            ),
            client_addr::resolve,
        ))
        .layer(from_fn_with_state(versions, versioning::route))
        .layer(from_fn_with_state(limiter, rate_limit::limit))
        .layer(from_fn_with_state(
            body_limit::BodyLimits {
                max_bytes: edge_config.max_body_bytes,
                read_timeout: Duration::from_secs(edge_config.body_read_timeout_secs),
            },
            body_limit::limit,
        ))
        .layer(from_fn_with_state(host_health, health::augment));
    let routes = routes
        .fallback(dispatch)
        .layer(host_layers)
        .with_state(runtime);
    edge::apply(routes, edge_config)
}

/// `/metrics` alone, for `METRICS_LISTEN`: scraped on an address the
/// public one does not expose.
pub fn metrics_router(runtime: Arc<Runtime>, config: &HostConfig) -> anyhow::Result<Router> {
    let versions = versioning::Versions::new(&config.edge, runtime.clone())?;
    Ok(Router::new().route(
        "/metrics",
        get(metrics::render).with_state(metrics::Metrics::new(runtime, versions)),
    ))
}

/// A client must send a request's headers within this (also the longest a
/// kept-alive connection may sit idle): a connection trickling its headers
/// would otherwise be held open for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then lets in-flight requests finish
/// for at most `grace`; new connections are refused from the signal on.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: not a reason to stop
                    // serving the connections already open.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Guest bodies stream: without TCP_NODELAY the last chunk waits on the
        // client's delayed ACK (40 ms per response on a kept-alive connection).
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
        let service = router
            .clone()
            .map_request(move |mut request: http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.map(Body::new)
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(service))
            .into_owned();
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "grace period over: abandoning the requests still in flight");
        }
    }
    Ok(())
}

async fn live() -> Response {
    let report = Report::new("mhmanus-edge", env!("CARGO_PKG_VERSION"));
    (
        [
            (http::header::CONTENT_TYPE, report::MEDIA_TYPE),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::to_string(&report).expect("a report always serializes"),
    )
        .into_response()
}

async fn dispatch(
    State(runtime): State<Arc<Runtime>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let client = request
        .extensions()
        .get::<client_addr::ClientAddr>()
        .map_or(peer, |client| client.0);
    let request = request.map(|body| {
        body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))
            .boxed_unsync()
    });
    runtime.handle(request, client).await.map(Body::new)
}
