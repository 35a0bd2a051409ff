//! Requests reach a guest as Spin delivers them: an absolute URI and the
//! `spin-*` headers (full URL, path info, matched route, client address,
//! route parameters). Headers of that name sent by a client are dropped
//! first, so a guest can trust them.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::HOST;
use http::{HeaderName, HeaderValue, Request, Uri};

use mhmanus_manifest::RouteMatch;

pub(super) fn prepare<B>(request: &mut Request<B>, route: &RouteMatch, client: SocketAddr) {
    let headers = request.headers_mut();
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    mhmanus_edge_layers::trace_context::hand_on(headers);
    let authority = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.parse::<http::uri::Authority>().is_ok())
        .unwrap_or("localhost");
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    // One buffer for the request's URI and `spin-full-url` alike.
    let full_url = Bytes::from(format!("http://{authority}{path_and_query}"));
    if let Ok(uri) = Uri::from_maybe_shared(full_url.clone()) {
        *request.uri_mut() = uri;
    }
    let route_pattern = HeaderValue::from_str(route.route.as_str()).ok();
    let headers = request.headers_mut();
    let mut set = |name: &'static str, value: Option<HeaderValue>| {
        if let Some(value) = value {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set(
        "spin-full-url",
        HeaderValue::from_maybe_shared(full_url).ok(),
    );
    set(
        "spin-path-info",
        HeaderValue::from_str(&route.path_info).ok(),
    );
    set("spin-matched-route", route_pattern.clone());
    set("spin-raw-component-route", route_pattern);
    set(
        "spin-component-route",
        HeaderValue::from_str(route.route.base()).ok(),
    );
    set("spin-base-path", Some(HeaderValue::from_static("/")));
    set(
        "spin-client-addr",
        HeaderValue::try_from(client.to_string()).ok(),
    );
    for (name, value) in &route.params {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(format!("spin-path-match-{name}")),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mhmanus_manifest::Routes;

    #[test]
    fn sets_spin_headers_and_drops_spoofed_ones() {
        let router = Routes::new([("/v1/users/:id/...", "users")]).unwrap();
        let route = router.find("/v1/users/7/roles").unwrap();
        let mut request = Request::builder()
            .uri("/v1/users/7/roles?x=1")
            .header("host", "edge.test:3000")
            .header("spin-client-addr", "6.6.6.6:1")
            .body(())
            .unwrap();
        prepare(&mut request, &route, "127.0.0.1:5000".parse().unwrap());
        let header = |name: &str| request.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(
            request.uri().to_string(),
            "http://edge.test:3000/v1/users/7/roles?x=1"
        );
        assert_eq!(
            header("spin-full-url"),
            "http://edge.test:3000/v1/users/7/roles?x=1"
        );
        assert_eq!(header("spin-client-addr"), "127.0.0.1:5000");
        assert_eq!(header("spin-path-info"), "/roles");
        assert_eq!(header("spin-matched-route"), "/v1/users/:id/...");
        assert_eq!(header("spin-component-route"), "/v1/users/:id");
        assert_eq!(header("spin-path-match-id"), "7");
        assert_eq!(
            request.headers().get_all("spin-client-addr").iter().count(),
            1
        );
    }
}
