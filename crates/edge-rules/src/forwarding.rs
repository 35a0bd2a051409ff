//! Whom to believe about a client behind proxies, one rule for the host's
//! layer and the Spin middleware: the TCP peer, unless the peer is one of
//! the trusted proxies (`TRUSTED_PROXIES`); then the rightmost hop, not
//! itself trusted, of the one header those proxies write
//! (`FORWARDED_HEADER`: `X-Forwarded-For`, or `Forwarded` per RFC 7239).
//! Anything left of that hop, and the other header altogether, was written
//! by the client and is never believed. The protocol the client used is
//! believed only from a trusted peer too, as the nearest proxy recorded it.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The header the trusted proxies append the client to. Proxies pass the
/// other one through as the client sent it, so only this one is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    XForwardedFor,
    Forwarded,
}

impl std::str::FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(format!(
                "{other:?} is neither x-forwarded-for nor forwarded"
            )),
        }
    }
}

impl ForwardedHeader {
    /// The header's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }

    /// Where the protocol is recorded beside this header.
    fn proto_name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-proto",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// `10.0.0.0/8,192.0.2.1`: networks, or single addresses; empty: none.
pub fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(parse_network)
        .collect()
}

/// One network, or one address (a /32 or /128).
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an IP address or network (10.0.0.0/8)"))
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
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the lines of the forwarding header
    /// (`lines` of [`ForwardedHeader::name`]).
    pub fn client<'a>(
        &self,
        peer: SocketAddr,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> SocketAddr {
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if !self.trusts(peer.ip()) {
            return peer;
        }
        let hops = forwarded_hops(lines, self.header);
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

    /// Where a trusted peer records the protocol the client used.
    pub fn proto_header(&self) -> &'static str {
        self.header.proto_name()
    }

    /// Whether a trusted `peer` says the client came over HTTPS, in the
    /// lines of [`Self::proto_header`]: the last value, the nearest proxy's.
    pub fn says_https<'a>(&self, peer: IpAddr, lines: impl IntoIterator<Item = &'a str>) -> bool {
        if !self.trusts(peer) {
            return false;
        }
        let joined = lines.into_iter().collect::<Vec<_>>().join(",");
        let Some(last) = joined.rsplit(',').next().map(str::trim) else {
            return false;
        };
        let proto = match self.header {
            ForwardedHeader::XForwardedFor => Some(last),
            ForwardedHeader::Forwarded => last
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("proto"))
                .map(|(_, value)| value.trim().trim_matches('"')),
        };
        proto.is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
    }
}

/// The hops of the header's lines, in order; `None` for a hop that is not
/// an IP address.
fn forwarded_hops<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    header: ForwardedHeader,
) -> Vec<Option<IpAddr>> {
    let joined = lines.into_iter().collect::<Vec<_>>().join(",");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &str, header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(&parse_networks(list).unwrap(), header)
    }

    const PEER: &str = "10.0.0.2:40000";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let client =
            proxies("", ForwardedHeader::XForwardedFor).client(PEER.parse().unwrap(), ["1.2.3.4"]);
        assert_eq!(client, PEER.parse().unwrap());
    }

    #[test]
    fn a_trusted_proxy_names_the_rightmost_untrusted_hop() {
        let trusted = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let peer = PEER.parse().unwrap();
        let forged = ["6.6.6.6, 203.0.113.9, 10.0.0.7"];
        assert_eq!(trusted.client(peer, forged).ip(), ip("203.0.113.9"));
        // Several header lines are one list.
        assert_eq!(
            trusted.client(peer, ["6.6.6.6", "203.0.113.9"]).ip(),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn forwarded_reads_for_and_an_unreadable_hop_stops_the_walk() {
        let trusted = proxies("10.0.0.0/8", ForwardedHeader::Forwarded);
        let peer = PEER.parse().unwrap();
        let ipv6 = [r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#];
        assert_eq!(trusted.client(peer, ipv6).ip(), ip("2001:db8::7"));
        assert_eq!(
            trusted.client(peer, ["for=_hidden, for=10.0.0.9"]).ip(),
            ip("10.0.0.9")
        );
        assert_eq!(trusted.client(peer, []), peer);
    }

    #[test]
    fn https_is_believed_from_a_trusted_peer_only_as_the_nearest_proxy_says() {
        let xff = proxies("10.0.0.0/8,192.0.2.1", ForwardedHeader::XForwardedFor);
        assert!(xff.says_https(ip("10.1.2.3"), ["https"]));
        assert!(xff.says_https(ip("192.0.2.1"), ["HTTPS"]));
        assert!(!xff.says_https(ip("192.0.2.2"), ["https"]));
        assert!(!xff.says_https(ip("10.1.2.3"), ["https, http"]));
        let forwarded = proxies("10.0.0.0/8", ForwardedHeader::Forwarded);
        assert!(forwarded.says_https(ip("10.1.2.3"), ["for=192.0.2.7;proto=https"]));
        assert!(!forwarded.says_https(ip("10.1.2.3"), ["for=192.0.2.7"]));
    }

    #[test]
    fn settings_parse_as_the_host_reads_them() {
        assert_eq!(parse_networks(" 10.0.0.0/8, 192.0.2.1 ,").unwrap().len(), 2);
        assert!(parse_networks("10.0.0.0/33").is_err());
        assert_eq!("Forwarded".parse(), Ok(ForwardedHeader::Forwarded));
        assert!("via".parse::<ForwardedHeader>().is_err());
    }
}
