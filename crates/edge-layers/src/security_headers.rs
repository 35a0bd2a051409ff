//! Security headers on every answer (the values in `mhmanus_edge_rules`): the
//! components' own answers, the host's 404 and problem answers and the CORS
//! preflights alike. The host's values override a component's, and
//! `X-Powered-By` never leaves the host. `Strict-Transport-Security` is
//! sent only to a client that came over HTTPS (`transport.rs`): over plain
//! HTTP a browser must ignore it (RFC 6797 §8.1).

use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use mhmanus_edge_rules::security_headers as rules;

use crate::client_addr::TrustedProxies;
use crate::config::EdgeConfig;
use crate::transport;

/// The header values for one configuration, built once.
#[derive(Debug, Clone)]
pub struct SecurityHeaders(Arc<Headers>);

#[derive(Debug)]
struct Headers {
    /// Those of every answer.
    all: HeaderMap,
    hsts: Option<HeaderValue>,
    proxies: TrustedProxies,
}

impl SecurityHeaders {
    pub fn new(config: &EdgeConfig) -> Self {
        let all: HeaderMap = rules::FIXED
            .into_iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect();
        let hsts = rules::hsts(config.hsts_max_age_secs).map(|hsts| {
            HeaderValue::try_from(hsts).expect("digits and ASCII are a valid header value")
        });
        SecurityHeaders(Arc::new(Headers {
            all,
            hsts,
            proxies: TrustedProxies::new(&config.trusted_proxies, config.forwarded_header),
        }))
    }

    /// The headers of an answer over HTTPS, or over plain HTTP.
    pub fn headers(&self, https: bool) -> HeaderMap {
        let mut headers = self.0.all.clone();
        if let Some(hsts) = self.0.hsts.clone().filter(|_| https) {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
        }
        headers
    }

    /// Whether `request` came over HTTPS, as far as can be believed.
    pub fn over_https<B>(&self, request: &http::Request<B>) -> bool {
        transport::is_https(request.extensions(), request.headers(), &self.0.proxies)
    }

    /// Sets the headers on `target`, replacing any value already there.
    pub fn apply(&self, target: &mut HeaderMap, https: bool) {
        target.remove(rules::X_POWERED_BY);
        for (name, value) in self.0.all.iter() {
            target.insert(name, value.clone());
        }
        match self.0.hsts.clone().filter(|_| https) {
            Some(hsts) => target.insert(header::STRICT_TRANSPORT_SECURITY, hsts),
            // A component's own would say the same thing over plain HTTP.
            None => target.remove(header::STRICT_TRANSPORT_SECURITY),
        };
    }
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
        SecurityHeaders::new(&config(600)).apply(&mut target, true);

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
        let mut plain = HeaderMap::new();
        plain.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=1"),
        );
        SecurityHeaders::new(&config(600)).apply(&mut plain, false);
        assert!(
            !plain.contains_key("strict-transport-security"),
            "not over plain HTTP"
        );
        assert_eq!(all("x-xss-protection"), ["0"]);
        assert_eq!(all("origin-agent-cluster"), ["?1"]);
        assert_eq!(
            all("content-security-policy"),
            [rules::CONTENT_SECURITY_POLICY]
        );
    }
}
