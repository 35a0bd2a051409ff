//! `X-Forwarded-For` and `Forwarded` as clients and proxies write them: the
//! client address the host believes never comes from an untrusted peer's
//! headers, is the peer itself or an address the headers name, and nothing
//! panics.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderValue};
use ipnet::IpNet;
use mhmanus_edge_layers::client_addr::{ForwardedHeader, TrustedProxies};

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let header = if selector & 1 == 0 {
        ForwardedHeader::XForwardedFor
    } else {
        ForwardedHeader::Forwarded
    };
    let networks: Vec<IpNet> = ["127.0.0.0/8", "10.0.0.0/8", "::1/128"]
        .iter()
        .map(|n| n.parse().expect("a network"))
        .collect();
    let proxies = TrustedProxies::new(&networks, header);
    let mut headers = HeaderMap::new();
    // Each line of the input is one header line, alternately of each name.
    for (i, line) in rest.split(|&b| b == b'\n').enumerate() {
        let Ok(value) = HeaderValue::from_bytes(line) else {
            continue;
        };
        let name = if i % 2 == 0 {
            "x-forwarded-for"
        } else {
            "forwarded"
        };
        headers.append(name, value);
    }
    let untrusted: SocketAddr = "203.0.113.9:4000".parse().expect("an address");
    assert_eq!(proxies.client(untrusted, &headers), untrusted);
    let trusted: SocketAddr = if selector & 2 == 0 {
        "127.0.0.1:5000"
    } else {
        "[::1]:5000"
    }
    .parse()
    .expect("an address");
    let client = proxies.client(trusted, &headers);
    if client != trusted {
        assert_eq!(client.port(), 0, "a forwarded client has no port of ours");
    }
}
