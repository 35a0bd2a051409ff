//! Who the client is. The TCP peer, unless the peer is one of
//! `TRUSTED_PROXIES`: then the rightmost hop, not itself a trusted proxy, of
//! the one header those proxies write (`FORWARDED_HEADER`: `X-Forwarded-For`,
//! or `Forwarded` per RFC 7239). Anything left of that hop, and the other
//! header altogether, was written by the client and is never believed.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use ipnet::IpNet;

/// The client's address as the host believes it; a request extension set
/// by [`resolve`] for the limiter and for `spin-client-addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The header the trusted proxies append the client to. Proxies pass the
/// other one through as the client sent it, so only this one is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    XForwardedFor,
    Forwarded,
}

#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    pub fn new(networks: &[IpNet], header: ForwardedHeader) -> Self {
        TrustedProxies {
            networks: networks.to_vec(),
            header,
        }
    }

    /// The header these proxies write.
    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the request's forwarding headers.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if !self.trusts(peer.ip()) {
            return peer;
        }
        let hops = forwarded_hops(headers, self.header);
        // Walking from the right: each trusted hop vouches for the one before it.
        let mut client = peer.ip();
        for hop in hops.iter().rev() {
            let Some(ip) = hop else {
                // An obfuscated or malformed hop ends what can be believed.
                break;
            };
            client = ip.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        if client == peer.ip() {
            peer
        } else {
            SocketAddr::new(client, 0)
        }
    }
}

/// The hops of `header`, in order (all its lines joined); `None` for a hop
/// that is not an IP address.
fn forwarded_hops(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let name = match header {
        ForwardedHeader::Forwarded => http::header::FORWARDED,
        ForwardedHeader::XForwardedFor => http::HeaderName::from_static("x-forwarded-for"),
    };
    let lines: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    let joined = lines.join(",");
    if joined.trim().is_empty() {
        return Vec::new();
    }
    joined
        .split(',')
        .map(|element| match header {
            ForwardedHeader::XForwardedFor => parse_node(element.trim()),
            ForwardedHeader::Forwarded => element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| parse_node(node.trim().trim_matches('"'))),
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:443`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|ip| ip.parse().ok())
}

/// Middleware: puts the resolved [`ClientAddr`] on the request.
pub async fn resolve(
    State(proxies): State<TrustedProxies>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = proxies.client(peer, request.headers());
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        proxies_writing(list, ForwardedHeader::XForwardedFor)
    }

    fn proxies_writing(list: &[&str], header: ForwardedHeader) -> TrustedProxies {
        let networks: Vec<IpNet> = list.iter().map(|n| n.parse().unwrap()).collect();
        TrustedProxies::new(&networks, header)
    }

    const PEER: &str = "10.0.0.2:40000";

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let client = proxies(&[]).client(
            PEER.parse().unwrap(),
            &headers(&[("x-forwarded-for", "1.2.3.4")]),
        );
        assert_eq!(client, PEER.parse().unwrap());
    }

    #[test]
    fn a_trusted_proxy_names_the_rightmost_untrusted_hop() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let forged = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.7")]);
        let client = trusted.client(PEER.parse().unwrap(), &forged);
        assert_eq!(client.ip(), "203.0.113.9".parse::<IpAddr>().unwrap());
        // Several header lines are one list.
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            trusted.client(PEER.parse().unwrap(), &split).ip(),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn only_the_header_the_proxies_write_is_read() {
        let both = headers(&[
            (
                "forwarded",
                r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        let peer = PEER.parse().unwrap();
        let xff = proxies(&["10.0.0.0/8"]).client(peer, &both);
        assert_eq!(xff.ip(), "198.51.100.1".parse::<IpAddr>().unwrap());
        let forwarded =
            proxies_writing(&["10.0.0.0/8"], ForwardedHeader::Forwarded).client(peer, &both);
        assert_eq!(forwarded.ip(), "2001:db8::7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_unreadable_hop_stops_the_walk_at_the_last_trusted_one() {
        let trusted = proxies_writing(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let obfuscated = headers(&[("forwarded", "for=_hidden, for=10.0.0.9")]);
        let client = trusted.client(PEER.parse().unwrap(), &obfuscated);
        assert_eq!(client.ip(), "10.0.0.9".parse::<IpAddr>().unwrap());
        let none = trusted.client(PEER.parse().unwrap(), &HeaderMap::new());
        assert_eq!(none, PEER.parse().unwrap());
    }
}
