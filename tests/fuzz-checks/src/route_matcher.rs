//! spin.toml routes and request paths: the first line holds routes (space
//! separated), the rest are paths. Parsing and matching never panic, the
//! same path always finds the same route, and a match is consistent with
//! the route it names.

use mhmanus_manifest::{RoutePattern, Routes};

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let routes: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    for route in &routes {
        if let Ok(pattern) = RoutePattern::parse(route) {
            assert_eq!(pattern.as_str(), *route);
            assert!(route.starts_with(pattern.base()));
        }
    }
    let named: Vec<(&str, &str)> = routes.iter().map(|r| (*r, "component")).collect();
    let Ok(routes) = Routes::new(named) else {
        return;
    };
    for path in lines {
        let found = routes.find(path);
        assert_eq!(found, routes.find(path), "matching is deterministic");
        if let Some(found) = found {
            let base = found.route.base();
            if !found.route.as_str().ends_with("/...") && found.params.is_empty() {
                // An exact literal route matches only its own path (up to
                // the empty segments the matcher ignores).
                assert_eq!(segments(path), segments(base));
            }
            assert!(found.path_info.is_empty() || found.path_info.starts_with('/'));
        }
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}
