//! Who the client is. The TCP peer, unless the peer is one of
//! `TRUSTED_PROXIES`: then the rightmost hop, not itself a trusted proxy, of
//! the one header those proxies write (`FORWARDED_HEADER`: `X-Forwarded-For`,
//! or `Forwarded` per RFC 7239). Anything left of that hop, and the other
//! header altogether, was written by the client and is never believed.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::HeaderMap;
use ipnet::IpNet;
use mhmanus_edge_rules::forwarding;

pub use mhmanus_edge_rules::forwarding::ForwardedHeader;

/// The client's address as the host believes it; a request extension set
/// by [`TrustedProxies::resolve`] for the limiter and for `spin-client-addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The rule of `mhmanus_edge_rules::forwarding`, read from a request's headers.
#[derive(Debug, Clone)]
pub struct TrustedProxies(forwarding::TrustedProxies);

impl TrustedProxies {
    pub fn new(networks: &[IpNet], header: ForwardedHeader) -> Self {
        TrustedProxies(forwarding::TrustedProxies::new(networks, header))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.trusts(ip)
    }

    /// The client behind `peer`, given the request's forwarding headers.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        self.0.client(peer, lines(headers, self.0.header().name()))
    }

    /// The request's client (none without a peer).
    pub fn client_of<B>(&self, request: &http::Request<B>) -> Option<SocketAddr> {
        let &ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
        Some(self.client(peer, request.headers()))
    }

    /// Puts the request's [`ClientAddr`] on it (none without a peer).
    pub fn resolve<B>(&self, request: &mut http::Request<B>) {
        if let Some(client) = self.client_of(request) {
            request.extensions_mut().insert(ClientAddr(client));
        }
    }

    /// Whether a trusted `peer` says the client came over HTTPS.
    pub fn says_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        self.0
            .says_https(peer, lines(headers, self.0.proto_header()))
    }
}

/// Each line of the header `name` (a line that is not text counts as empty).
fn lines<'a>(headers: &'a HeaderMap, name: &'static str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule itself is tested in `mhmanus_edge_rules::forwarding`; here,
    /// that a request's header lines reach it whole and the other header not.
    #[test]
    fn reads_every_line_of_the_configured_header_only() {
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6".parse().unwrap());
        headers.append("x-forwarded-for", "203.0.113.9".parse().unwrap());
        headers.append("forwarded", "for=198.51.100.1".parse().unwrap());
        let peer: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let networks = ["10.0.0.0/8".parse().unwrap()];
        let xff = TrustedProxies::new(&networks, ForwardedHeader::XForwardedFor);
        assert_eq!(xff.client(peer, &headers).ip().to_string(), "203.0.113.9");
        let forwarded = TrustedProxies::new(&networks, ForwardedHeader::Forwarded);
        assert_eq!(
            forwarded.client(peer, &headers).ip().to_string(),
            "198.51.100.1"
        );
    }
}
