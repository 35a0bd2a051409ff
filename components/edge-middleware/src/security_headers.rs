//! Security headers on every answer, the middleware's own included; the
//! values are the host's (`mhmanus_edge_rules::security_headers`).
//! `Strict-Transport-Security` only over HTTPS, as the host sends it.

use http::{HeaderMap, HeaderName, HeaderValue};
use mhmanus_edge_rules::security_headers as rules;

/// Whether Spin took the request over HTTPS (`spin up --tls-cert`): the
/// scheme of the URL it says the client asked for.
pub(crate) fn came_over_https(headers: &HeaderMap) -> bool {
    headers
        .get("spin-full-url")
        .is_some_and(|url| url.as_bytes().starts_with(b"https://"))
}

pub(crate) fn apply(headers: &mut HeaderMap, hsts_max_age_secs: u64, https: bool) {
    headers.remove(rules::X_POWERED_BY);
    for (name, value) in rules::FIXED {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers.remove(rules::STRICT_TRANSPORT_SECURITY);
    if let Some(hsts) = rules::hsts(hsts_max_age_secs).filter(|_| https)
        && let Ok(value) = HeaderValue::try_from(hsts)
    {
        headers.insert(
            HeaderName::from_static(rules::STRICT_TRANSPORT_SECURITY),
            value,
        );
    }
}
