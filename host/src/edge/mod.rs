//! What the host adds around the components, as an edge platform would:
//! one module per layer, applied to the router in `apply`.

pub mod compression;
pub mod cors;
pub mod security_headers;
pub mod versioning;

use axum::Router;

use crate::config::EdgeConfig;

/// Wraps `router` in the edge layers. Security headers are outermost, so
/// every answer carries them (404, 429, CORS preflights included);
/// compression is innermost, next to the bodies it compresses.
pub fn apply(router: Router, config: &EdgeConfig) -> anyhow::Result<Router> {
    Ok(router
        .layer(compression::layer(config))
        .layer(cors::layer(config)?)
        .layer(security_headers::layer(config)))
}
