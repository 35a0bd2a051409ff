//! Whether the client reached the service over HTTPS: the listener knows
//! when it holds the TLS session itself (the server puts [`Encrypted`] on
//! each request of such a connection); behind a proxy that terminates TLS,
//! only a proxy in `TRUSTED_PROXIES` is believed, through the protocol it
//! records (`X-Forwarded-Proto`, or `proto=` of `Forwarded` when that is
//! the configured header; the last value, written by the nearest proxy).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::{Extensions, HeaderMap};

use crate::client_addr::TrustedProxies;

/// A request extension: the connection is TLS, ended by this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encrypted;

/// Whether the request was made over HTTPS, as far as can be believed.
pub fn is_https(extensions: &Extensions, headers: &HeaderMap, proxies: &TrustedProxies) -> bool {
    if extensions.get::<Encrypted>().is_some() {
        return true;
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| proxies.says_https(peer.ip(), headers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_addr::ForwardedHeader;
    use http::request::Parts;

    fn is_https(parts: &Parts, proxies: &TrustedProxies) -> bool {
        super::is_https(&parts.extensions, &parts.headers, proxies)
    }

    fn parts(peer: &str, headers: &[(&str, &str)], encrypted: bool) -> Parts {
        let mut request = http::Request::builder().uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        if encrypted {
            request.extensions_mut().insert(Encrypted);
        }
        request.into_parts().0
    }

    fn proxies(header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(&["10.0.0.0/8".parse().unwrap()], header)
    }

    #[test]
    fn a_tls_connection_is_https() {
        let proxies = proxies(ForwardedHeader::XForwardedFor);
        assert!(is_https(&parts("192.0.2.1:1", &[], true), &proxies));
        assert!(!is_https(&parts("192.0.2.1:1", &[], false), &proxies));
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let proxies = proxies(ForwardedHeader::XForwardedFor);
        let https = [("x-forwarded-proto", "https")];
        assert!(is_https(&parts("10.1.2.3:1", &https, false), &proxies));
        assert!(!is_https(&parts("192.0.2.1:1", &https, false), &proxies));
        // The nearest proxy's word is the last.
        let both = [("x-forwarded-proto", "https, http")];
        assert!(!is_https(&parts("10.1.2.3:1", &both, false), &proxies));
    }

    #[test]
    fn forwarded_gives_proto_when_it_is_the_configured_header() {
        let proxies = proxies(ForwardedHeader::Forwarded);
        let forwarded = [("forwarded", "for=192.0.2.7;proto=https")];
        assert!(is_https(&parts("10.1.2.3:1", &forwarded, false), &proxies));
        let other = [("x-forwarded-proto", "https")];
        assert!(!is_https(&parts("10.1.2.3:1", &other, false), &proxies));
    }
}
