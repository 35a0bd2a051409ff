//! Requests reach a guest as Spin delivers them: an absolute URI and the
//! `spin-*` headers (full URL, path info, matched route, client address,
//! route parameters). Headers of that name sent by a client are dropped
//! first, so a guest can trust them.

use std::net::SocketAddr;

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
        .unwrap_or("localhost")
        .to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/")
        .to_owned();
    let full_url = format!("http://{authority}{path_and_query}");
    if let Ok(uri) = full_url.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    let mut set = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            request.headers_mut().insert(name, value);
        }
    };
    set("spin-full-url", &full_url);
    set("spin-path-info", &route.path_info);
    set("spin-matched-route", route.route.as_str());
    set("spin-raw-component-route", route.route.as_str());
    set("spin-component-route", route.route.base());
    set("spin-base-path", "/");
    set("spin-client-addr", &client.to_string());
    for (name, value) in &route.params {
        set(&format!("spin-path-match-{name}"), value);
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
