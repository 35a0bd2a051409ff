//! The paths a component has answered with a success: only those get a
//! bucket of their own. Under a wildcard route (`/v1/auth/...`) every path
//! reaches the component, so "the manifest serves it" does not tell a route
//! from a probe; a 404 (or any refusal) does. A path never answered with a
//! success counts in the client's one bucket of unrouted paths, so probing
//! many paths is limited as probing one.

use std::collections::HashSet;
use std::sync::RwLock;

/// Enough for every real route of an application many times over; past it
/// new paths stay in the shared bucket (limited, never unlimited).
const CAPACITY: usize = 4096;

#[derive(Default)]
pub(super) struct KnownPaths(RwLock<HashSet<String>>);

impl KnownPaths {
    pub(super) fn contains(&self, path: &str) -> bool {
        self.0.read().expect("never poisoned").contains(path)
    }

    /// Records that `path` answered `status`.
    pub(super) fn learn(&self, path: String, status: http::StatusCode) {
        if status.is_client_error() || status.is_server_error() {
            return;
        }
        let mut known = self.0.write().expect("never poisoned");
        if known.len() < CAPACITY {
            known.insert(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn only_a_success_makes_a_path_known() {
        let known = KnownPaths::default();
        known.learn("/v1/auth/probe".into(), StatusCode::NOT_FOUND);
        known.learn("/v1/users/x/roles".into(), StatusCode::UNAUTHORIZED);
        assert!(!known.contains("/v1/auth/probe"));
        assert!(!known.contains("/v1/users/x/roles"));
        known.learn("/v1/production-test/config".into(), StatusCode::OK);
        assert!(known.contains("/v1/production-test/config"));
    }

    #[test]
    fn it_stops_growing_at_its_capacity() {
        let known = KnownPaths::default();
        for i in 0..CAPACITY + 10 {
            known.learn(format!("/p/{i}"), StatusCode::OK);
        }
        assert!(known.contains("/p/0"));
        assert!(!known.contains(&format!("/p/{}", CAPACITY + 5)));
    }
}
