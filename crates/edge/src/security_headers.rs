//! Security headers on every answer (the values in `mhmanus_edge_rules`): the
//! components' own answers, the host's 404 and problem answers and the CORS
//! preflights alike. The host's values override a component's, and
//! `X-Powered-By` never leaves the host.

use std::future::{Ready, ready};
use std::sync::Arc;

use axum::extract::State;
use axum::middleware::{MapResponseLayer, map_response_with_state};
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use mhmanus_edge_rules::security_headers as rules;

use crate::config::EdgeConfig;

/// The header values for one configuration, built once.
#[derive(Debug, Clone)]
pub struct SecurityHeaders(Arc<HeaderMap>);

impl SecurityHeaders {
    pub fn new(config: &EdgeConfig) -> Self {
        let mut headers: HeaderMap = rules::FIXED
            .into_iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect();
        if let Some(hsts) = rules::hsts(config.hsts_max_age_secs) {
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
        target.remove(rules::X_POWERED_BY);
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
        assert_eq!(
            all("content-security-policy"),
            [rules::CONTENT_SECURITY_POLICY]
        );
    }
}
