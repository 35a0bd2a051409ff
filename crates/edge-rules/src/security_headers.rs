//! The security headers every answer carries, as helmet's defaults set
//! them, and the one a component may set that never leaves the edge.

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self';base-uri 'self';\
font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';\
img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';\
style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests";

/// Taken off every answer.
pub const X_POWERED_BY: &str = "x-powered-by";

/// The headers set on every answer whatever the configuration.
pub const FIXED: [(&str, &str); 11] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("origin-agent-cluster", "?1"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
];

pub const STRICT_TRANSPORT_SECURITY: &str = "strict-transport-security";

/// `Strict-Transport-Security` for `max_age_secs`; none for 0.
pub fn hsts(max_age_secs: u64) -> Option<String> {
    (max_age_secs > 0).then(|| format!("max-age={max_age_secs}; includeSubDomains"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_helmets_default() {
        assert_eq!(
            CONTENT_SECURITY_POLICY,
            "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"
        );
    }

    #[test]
    fn hsts_is_left_out_when_its_max_age_is_zero() {
        assert_eq!(hsts(0), None);
        assert_eq!(hsts(600).as_deref(), Some("max-age=600; includeSubDomains"));
    }
}
