//! The HTTP side: axum serves the routes of the manifest through the
//! runtime, and answers `/health/live` itself (process alive, no dependency
//! checks), so liveness never waits on a component or a database.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use http_body_util::BodyExt;
use mhmanus_domain::health::{self, Report};

use crate::config::EdgeConfig;
use crate::edge;
use crate::runtime::Runtime;

/// The host's routes: `/health/live` answered here, everything else by the
/// components, all of it inside the edge layers.
pub fn router(runtime: Arc<Runtime>, config: &EdgeConfig) -> anyhow::Result<Router> {
    let routes = Router::new()
        .route("/health/live", get(live))
        .fallback(dispatch)
        .layer(axum::middleware::from_fn_with_state(
            edge::versioning::Versions::new(config, runtime.clone())?,
            edge::versioning::route,
        ))
        .with_state(runtime);
    edge::apply(routes, config)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Guest bodies stream: without TCP_NODELAY the last chunk waits on the
    // client's delayed ACK (40 ms per response on a kept-alive connection).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn live() -> Response {
    let report = Report::new("mhmanus-edge", env!("CARGO_PKG_VERSION"));
    (
        [
            (http::header::CONTENT_TYPE, health::MEDIA_TYPE),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::to_string(&report).expect("a report always serializes"),
    )
        .into_response()
}

async fn dispatch(
    State(runtime): State<Arc<Runtime>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let request = request.map(|body| {
        body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))
            .boxed_unsync()
    });
    runtime.handle(request, client).await.map(Body::new)
}
