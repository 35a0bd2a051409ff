//! Rate limiting per client and route, as the original system's throttler:
//! a default quota for every route, stricter or looser ones per route
//! pattern, the client keyed by address (IPv6 by /64) or verified subject,
//! and the quota reported on every answer.

pub mod gcra;
pub mod policy;

use std::net::IpAddr;
use std::time::Duration;

use self::gcra::Decision;
use self::policy::Quota;

/// The bucket of the paths that are not (known to be) routes.
pub const UNROUTED: &str = "(unrouted)";

/// The bucket's client: `user:<subject>` for the verified subject of the
/// request's bearer token (the caller leaves it out where a route counts
/// by address), else `ip:<address or /64>`, else `ip:unknown`.
pub fn client_key(subject: Option<String>, address: Option<IpAddr>) -> String {
    match (subject, address) {
        (Some(subject), _) => format!("user:{subject}"),
        (None, Some(ip)) => format!("ip:{}", network_of(ip)),
        (None, None) => "ip:unknown".to_owned(),
    }
}

/// An IPv4 address, or the /64 an IPv6 address belongs to: one host
/// usually owns a whole /64 and could otherwise rotate through it.
pub fn network_of(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
    }
}

/// `path` without empty segments: `/v1//auth/login/` is `/v1/auth/login`,
/// as the manifest's routes match it.
pub fn normalize(path: &str) -> String {
    let mut normalized = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        normalized.push('/');
        normalized.push_str(segment);
    }
    if normalized.is_empty() {
        normalized.push('/');
    }
    normalized
}

/// Seconds for a header: rounded up, so a client that waits that long is admitted.
pub fn seconds(duration: Duration) -> u64 {
    duration.as_millis().div_ceil(1000) as u64
}

/// draft-ietf-httpapi-ratelimit-headers (`RateLimit-Policy`, `RateLimit`)
/// and the `X-RateLimit-*` headers older clients read; `name` is `default`
/// or `route`.
pub fn headers(name: &str, quota: Quota, decision: &Decision) -> [(&'static str, String); 5] {
    let window = quota.window.as_secs();
    let reset = seconds(decision.reset);
    [
        (
            "ratelimit-policy",
            format!("\"{name}\";q={};w={window}", quota.limit),
        ),
        (
            "ratelimit",
            format!("\"{name}\";r={};t={reset}", decision.remaining),
        ),
        ("x-ratelimit-limit", quota.limit.to_string()),
        ("x-ratelimit-remaining", decision.remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
    ]
}

/// The 429 problem's detail.
pub fn limited_detail(quota: Quota, decision: &Decision) -> String {
    format!(
        "more than {} requests in {} s to this route; retry in {} s",
        quota.limit,
        quota.window.as_secs(),
        seconds(decision.retry_after)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        let a = network_of("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = network_of("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = network_of("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(network_of("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn paths_are_compared_without_empty_segments() {
        assert_eq!(normalize("/v1//auth/login/"), "/v1/auth/login");
        assert_eq!(normalize("//v1/auth/login"), "/v1/auth/login");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize(""), "/");
    }
}
