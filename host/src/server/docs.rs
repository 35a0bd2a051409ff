//! `GET /docs`: the OpenAPI document as a page to read, shipped in the
//! binary (no CDN, nothing fetched but `/openapi.json`). Its script is a
//! file of its own, so the page keeps the host's `script-src 'self'`.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mhmanus_edge_layers::security_headers::PageOverPlainHttp;

const PAGE: &str = include_str!("docs/index.html");
const SCRIPT: &str = include_str!("docs/docs.js");
const STYLE: &str = include_str!("docs/docs.css");

/// The page and what it loads.
pub(super) fn routes() -> Router {
    Router::new()
        .route("/docs", get(|| serve("text/html; charset=utf-8", PAGE)))
        .route(
            "/docs/docs.js",
            get(|| serve("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/docs/docs.css",
            get(|| serve("text/css; charset=utf-8", STYLE)),
        )
}

async fn serve(media_type: &'static str, text: &'static str) -> Response {
    let mut response = (
        [
            (http::header::CONTENT_TYPE, media_type),
            // A new build may change them: revalidate, cheaply.
            (http::header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response();
    // Readable over plain HTTP too, on any address.
    response.extensions_mut().insert(PageOverPlainHttp);
    response
}
