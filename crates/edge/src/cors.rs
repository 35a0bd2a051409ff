//! CORS for browsers on other origins: an allow-list of exact origins
//! (`CORS_ORIGINS`), with credentials, so `*` is refused. An origin not on
//! the list is never echoed and gets no CORS header; an empty list sends no
//! CORS header at all.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use http::Method;
use http::header::{self, HeaderName, HeaderValue};
use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};

use crate::config::EdgeConfig;

const METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// Request headers a browser may send cross-origin.
fn allowed_headers() -> [HeaderName; 3] {
    [
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        HeaderName::from_static("x-request-id"),
    ]
}

/// Response headers a cross-origin script may read: the rate limits and the
/// request id.
fn exposed_headers() -> [HeaderName; 4] {
    [
        HeaderName::from_static("ratelimit"),
        HeaderName::from_static("ratelimit-policy"),
        header::RETRY_AFTER,
        HeaderName::from_static("x-request-id"),
    ]
}

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
        .allow_methods(METHODS)
        .allow_headers(allowed_headers())
        .expose_headers(exposed_headers())
        .max_age(Duration::from_secs(config.cors_max_age_secs)))
}

/// The configured origins, each exactly as a browser sends it in `Origin`
/// (`scheme://host[:port]`, no path); empty entries are skipped.
fn allowed_origins(entries: &[String]) -> anyhow::Result<Vec<HeaderValue>> {
    entries
        .iter()
        .map(|entry| entry.trim())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            origin(entry).with_context(|| format!("CORS_ORIGINS: invalid origin {entry:?}"))
        })
        .collect()
}

fn origin(entry: &str) -> anyhow::Result<HeaderValue> {
    if entry == "*" {
        bail!("`*` cannot be combined with credentials; list the exact origins");
    }
    let value = HeaderValue::from_str(entry).context("not a valid header value")?;
    let url = url::Url::parse(entry).context("not scheme://host[:port]")?;
    let serialized = url.origin().ascii_serialization();
    if serialized != entry {
        bail!("browsers send the origin as {serialized:?}; list it that way");
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(entries: &[&str]) -> anyhow::Result<Vec<HeaderValue>> {
        allowed_origins(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn accepts_exact_origins_and_skips_blanks() {
        let list = origins(&["https://app.example.com", " http://localhost:5173 ", ""]).unwrap();
        assert_eq!(list, ["https://app.example.com", "http://localhost:5173"]);
        assert!(origins(&[""]).unwrap().is_empty(), "CORS_ORIGINS unset");
    }

    #[test]
    fn refuses_a_wildcard_and_names_the_entry() {
        let error = format!("{:#}", origins(&["https://a.example", "*"]).unwrap_err());
        assert!(
            error.contains("\"*\"") && error.contains("credentials"),
            "{error}"
        );
    }

    #[test]
    fn refuses_what_a_browser_never_sends_as_an_origin() {
        for entry in [
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://App.example.com",
            "https://app.example.com:443",
            "null",
            "https://a.example\u{7f}",
        ] {
            let error = format!("{:#}", origins(&[entry]).unwrap_err());
            assert!(error.contains(&format!("{entry:?}")), "{error}");
        }
    }
}
