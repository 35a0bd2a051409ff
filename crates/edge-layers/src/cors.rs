//! CORS for browsers on other origins (`CORS_ORIGINS`), by the rules of
//! `mhmanus_edge_rules::cors`, with tower-http's layer.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http::Method;
use http::header::{HeaderName, HeaderValue};
use mhmanus_edge_rules::cors as rules;
use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};

use crate::config::EdgeConfig;

pub fn layer(config: &EdgeConfig) -> anyhow::Result<CorsLayer> {
    let origins = allowed_origins(&config.cors_origins)?;
    if origins.is_empty() {
        // Nothing to allow: no header at all, not even `Vary`.
        return Ok(CorsLayer::new().vary(Vec::<HeaderName>::new()));
    }
    let allowed = Arc::new(origins.clone());
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        // Only alongside an echoed origin, not on every answer.
        .allow_credentials(AllowCredentials::predicate(move |origin, _| {
            allowed.contains(origin)
        }))
        .allow_methods(rules::METHODS.map(|m| Method::from_bytes(m.as_bytes()).expect("a method")))
        .allow_headers(rules::ALLOWED_HEADERS.map(HeaderName::from_static))
        .expose_headers(rules::EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(Duration::from_secs(config.cors_max_age_secs)))
}

/// The configured origins, as header values.
fn allowed_origins(entries: &[String]) -> anyhow::Result<Vec<HeaderValue>> {
    rules::allowed_origins(entries.iter().map(String::as_str))
        .map_err(|e| anyhow::anyhow!("CORS_ORIGINS: {e}"))?
        .into_iter()
        .map(|origin| HeaderValue::try_from(origin).context("CORS_ORIGINS"))
        .collect()
}
