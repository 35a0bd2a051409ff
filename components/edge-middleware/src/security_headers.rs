//! Security headers on every answer, the middleware's own included; the
//! values are the host's (`mhmanus_edge_rules::security_headers`).

use http::{HeaderMap, HeaderName, HeaderValue};
use mhmanus_edge_rules::security_headers as rules;

pub(crate) fn apply(headers: &mut HeaderMap, hsts_max_age_secs: u64) {
    headers.remove(rules::X_POWERED_BY);
    for (name, value) in rules::FIXED {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    if let Some(hsts) = rules::hsts(hsts_max_age_secs)
        && let Ok(value) = HeaderValue::try_from(hsts)
    {
        headers.insert(
            HeaderName::from_static(rules::STRICT_TRANSPORT_SECURITY),
            value,
        );
    }
}
