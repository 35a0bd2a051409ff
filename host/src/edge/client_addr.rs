//! Who the client is. The TCP peer, unless the peer is one of
//! `TRUSTED_PROXIES`: then the rightmost hop of `Forwarded` (RFC 7239) or
//! `X-Forwarded-For` that is not itself a trusted proxy. Anything left of
//! that hop was written by the client and is never believed.

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

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: &[IpNet]) -> Self {
        TrustedProxies(networks.to_vec())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the request's forwarding headers.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if !self.trusts(peer.ip()) {
            return peer;
        }
        let hops = forwarded_hops(headers);
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

/// The hops of `Forwarded` if present, else of `X-Forwarded-For`, in order
/// (all header lines joined); `None` for a hop that is not an IP address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let joined = |name: http::HeaderName| -> Option<String> {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    if let Some(forwarded) = joined(http::header::FORWARDED) {
        return forwarded
            .split(',')
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node.trim().trim_matches('"')))
            })
            .collect();
    }
    joined(http::HeaderName::from_static("x-forwarded-for"))
        .map(|list| list.split(',').map(|hop| parse_node(hop.trim())).collect())
        .unwrap_or_default()
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
        TrustedProxies::new(&list.iter().map(|n| n.parse().unwrap()).collect::<Vec<_>>())
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
    fn forwarded_wins_over_x_forwarded_for_and_takes_ports_and_brackets() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let both = headers(&[
            (
                "forwarded",
                r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        let client = trusted.client(PEER.parse().unwrap(), &both);
        assert_eq!(client.ip(), "2001:db8::7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_unreadable_hop_stops_the_walk_at_the_last_trusted_one() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let obfuscated = headers(&[("forwarded", "for=_hidden, for=10.0.0.9")]);
        let client = trusted.client(PEER.parse().unwrap(), &obfuscated);
        assert_eq!(client.ip(), "10.0.0.9".parse::<IpAddr>().unwrap());
        let none = trusted.client(PEER.parse().unwrap(), &HeaderMap::new());
        assert_eq!(none, PEER.parse().unwrap());
    }
}
