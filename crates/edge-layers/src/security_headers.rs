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
    /// The policy of a [`PageOverPlainHttp`] served over plain HTTP.
    page_policy: HeaderValue,
}

/// Marks the answer of a host route whose page must work over plain HTTP
/// too (`/docs`). Over plain HTTP its policy is helmet's without
/// `upgrade-insecure-requests`, which would send the page's own script,
/// style and data requests to an https:// that may not exist; over HTTPS it
/// is helmet's, as every other answer's.
#[derive(Debug, Clone, Copy)]
pub struct PageOverPlainHttp;

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
        let page_policy = rules::CONTENT_SECURITY_POLICY
            .trim_end_matches(";upgrade-insecure-requests")
            .parse()
            .expect("a part of a valid header value is valid");
        SecurityHeaders(Arc::new(Headers {
            all,
            hsts,
            proxies: TrustedProxies::new(&config.trusted_proxies, config.forwarded_header),
            page_policy,
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

    /// Sets the headers on `response`, replacing any value already there.
    pub fn apply<B>(&self, response: &mut http::Response<B>, https: bool) {
        let page = !https && response.extensions().get::<PageOverPlainHttp>().is_some();
        let target = response.headers_mut();
        target.remove(rules::X_POWERED_BY);
        for (name, value) in self.0.all.iter() {
            target.insert(name, value.clone());
        }
        if page {
            target.insert(header::CONTENT_SECURITY_POLICY, self.0.page_policy.clone());
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
        let mut response = http::Response::new(());
        let target = response.headers_mut();
        target.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        target.append(header::X_FRAME_OPTIONS, HeaderValue::from_static("ALLOW"));
        target.insert("x-powered-by", HeaderValue::from_static("Express"));
        target.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        SecurityHeaders::new(&config(600)).apply(&mut response, true);
        let target = response.headers();

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
        let mut plain = http::Response::new(());
        plain.headers_mut().insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=1"),
        );
        SecurityHeaders::new(&config(600)).apply(&mut plain, false);
        assert!(
            !plain.headers().contains_key("strict-transport-security"),
            "not over plain HTTP"
        );
        assert_eq!(all("x-xss-protection"), ["0"]);
        assert_eq!(all("origin-agent-cluster"), ["?1"]);
        assert_eq!(
            all("content-security-policy"),
            [rules::CONTENT_SECURITY_POLICY]
        );
    }

    #[test]
    fn a_page_keeps_its_requests_on_plain_http_when_served_over_it() {
        let policy = |https: bool, page: bool| {
            let mut response = http::Response::new(());
            if page {
                response.extensions_mut().insert(PageOverPlainHttp);
            }
            SecurityHeaders::new(&config(600)).apply(&mut response, https);
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned()
        };
        let page = policy(false, true);
        assert!(!page.contains("upgrade-insecure-requests"), "{page}");
        assert!(page.contains("script-src 'self'"), "{page}");
        assert_eq!(policy(true, true), rules::CONTENT_SECURITY_POLICY);
        assert_eq!(policy(false, false), rules::CONTENT_SECURITY_POLICY);
    }
}
