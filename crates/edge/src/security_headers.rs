//! Security headers on every answer, as helmet's defaults set them: the
//! components' own answers, the host's 404 and problem answers and the CORS
//! preflights alike. The host's values override a component's, and
//! `X-Powered-By` never leaves the host.

use std::future::{Ready, ready};
use std::sync::Arc;

use axum::extract::State;
use axum::middleware::{MapResponseLayer, map_response_with_state};
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::config::EdgeConfig;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self';base-uri 'self';\
font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';\
img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';\
style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests";

/// The header a component may set and the host takes off.
const X_POWERED_BY: &str = "x-powered-by";

/// The headers set on every answer whatever the configuration.
fn fixed() -> [(HeaderName, &'static str); 11] {
    [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (HeaderName::from_static("origin-agent-cluster"), "?1"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_DNS_PREFETCH_CONTROL, "off"),
        (HeaderName::from_static("x-download-options"), "noopen"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        (
            HeaderName::from_static("x-permitted-cross-domain-policies"),
            "none",
        ),
        (header::X_XSS_PROTECTION, "0"),
    ]
}

/// The header values for one configuration, built once.
#[derive(Debug, Clone)]
pub struct SecurityHeaders(Arc<HeaderMap>);

impl SecurityHeaders {
    pub fn new(config: &EdgeConfig) -> Self {
        let mut headers: HeaderMap = fixed()
            .into_iter()
            .map(|(name, value)| (name, HeaderValue::from_static(value)))
            .collect();
        if config.hsts_max_age_secs > 0 {
            let hsts = format!("max-age={}; includeSubDomains", config.hsts_max_age_secs);
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::try_from(hsts).expect("digits and ASCII are a valid header value"),
            );
        }
        SecurityHeaders(Arc::new(headers))
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.0
    }

    /// Sets the headers on `target`, replacing any value already there.
    fn apply(&self, target: &mut HeaderMap) {
        target.remove(X_POWERED_BY);
        for (name, value) in self.0.iter() {
            target.insert(name, value.clone());
        }
    }
}

type Apply = fn(State<SecurityHeaders>, Response) -> Ready<Response>;

/// The layer: outermost, so every answer passes through it.
pub type SecurityHeadersLayer = MapResponseLayer<Apply, SecurityHeaders, (State<SecurityHeaders>,)>;

pub fn layer(config: &EdgeConfig) -> SecurityHeadersLayer {
    map_response_with_state(SecurityHeaders::new(config), set_headers as Apply)
}

fn set_headers(State(headers): State<SecurityHeaders>, mut response: Response) -> Ready<Response> {
    headers.apply(response.headers_mut());
    ready(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(hsts_max_age_secs: u64) -> EdgeConfig {
        let mut config = EdgeConfig::defaults();
        config.hsts_max_age_secs = hsts_max_age_secs;
        config
    }

    #[test]
    fn overrides_what_a_component_set_and_drops_x_powered_by() {
        let mut target = HeaderMap::new();
        target.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        target.append(header::X_FRAME_OPTIONS, HeaderValue::from_static("ALLOW"));
        target.insert("x-powered-by", HeaderValue::from_static("Express"));
        target.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        SecurityHeaders::new(&config(600)).apply(&mut target);

        let all = |name: &str| {
            target
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("x-frame-options"), ["SAMEORIGIN"]);
        assert!(all("x-powered-by").is_empty());
        assert_eq!(all("content-type"), ["text/plain"], "others untouched");
        assert_eq!(
            all("strict-transport-security"),
            ["max-age=600; includeSubDomains"]
        );
        assert_eq!(all("x-xss-protection"), ["0"]);
        assert_eq!(all("origin-agent-cluster"), ["?1"]);
        assert_eq!(all("content-security-policy"), [CONTENT_SECURITY_POLICY]);
    }

    #[test]
    fn hsts_is_left_out_when_its_max_age_is_zero() {
        let headers = SecurityHeaders::new(&config(0));
        assert!(!headers.0.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert_eq!(headers.0.len(), fixed().len());
    }

    #[test]
    fn the_policy_is_helmets_default() {
        assert_eq!(
            CONTENT_SECURITY_POLICY,
            "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"
        );
    }
}
