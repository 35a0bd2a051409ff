//! Security headers on every answer, the middleware's own included; the
//! values are the host's (`mhmanus_edge_rules::security_headers`).
//! `Strict-Transport-Security` only over HTTPS, as the host sends it.

use http::{HeaderMap, HeaderName, HeaderValue};
use mhmanus_edge_rules::forwarding::TrustedProxies;
use mhmanus_edge_rules::security_headers as rules;

/// Whether the client came over HTTPS: Spin took the request over TLS
/// (`spin up --tls-cert`: the scheme of the URL it says the client asked
/// for), or a trusted proxy in front says so, by the host's rule.
pub(crate) fn came_over_https(headers: &HeaderMap, proxies: &TrustedProxies) -> bool {
    // The last: Spin appends its own after any a client sent.
    if headers
        .get_all("spin-full-url")
        .iter()
        .next_back()
        .is_some_and(|url| url.as_bytes().starts_with(b"https://"))
    {
        return true;
    }
    crate::rate_limit::peer(headers).is_some_and(|peer| {
        let proto = headers
            .get_all(proxies.proto_header())
            .iter()
            .map(|value| value.to_str().unwrap_or(""));
        proxies.says_https(peer.ip(), proto)
    })
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
