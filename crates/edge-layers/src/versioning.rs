//! URI versioning: `/v1/...` is canonical; an unversioned API path is served
//! by the default version when the manifest has a route for it there; a
//! version the host does not serve is a 404 problem naming those it does.
//! Health routes are version-free. Routing itself stays in spin.toml;
//! `routing` applies the decision.

use anyhow::ensure;
use axum::response::Response;
use mhmanus_contract::health;
use mhmanus_contract::problem::Problem;
use mhmanus_manifest::{RouteMatch, Routes};

use mhmanus_edge_rules::versions::{self, version_of};

use crate::config::EdgeConfig;
use crate::problem;

/// The versions served, and the one unversioned paths get.
#[derive(Debug, Clone)]
pub struct Versions {
    supported: Vec<u32>,
    default: u32,
}

/// Where a request path goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Served as it is, by this route or by none.
    AsIs(Option<RouteMatch>),
    /// An unversioned path served by the default version: this path, this route.
    Rewrite(String, RouteMatch),
    /// A version not served.
    Unsupported(u32),
}

impl Versions {
    pub fn new(config: &EdgeConfig) -> anyhow::Result<Self> {
        ensure!(
            !config.api_versions.is_empty(),
            "API_VERSIONS names no version"
        );
        ensure!(
            config.api_versions.contains(&config.api_default_version),
            "API_DEFAULT_VERSION {} is not among API_VERSIONS {:?}",
            config.api_default_version,
            config.api_versions
        );
        Ok(Versions {
            supported: config.api_versions.clone(),
            default: config.api_default_version,
        })
    }

    /// Where `path` goes among `routes`.
    pub fn decide(&self, path: &str, routes: &Routes) -> Decision {
        if health::is_health_path(path) {
            return Decision::AsIs(routes.find(path));
        }
        match version_of(path) {
            Some(version) if self.supported.contains(&version) => Decision::AsIs(routes.find(path)),
            Some(version) => Decision::Unsupported(version),
            None => {
                let versioned = format!("/v{}{path}", self.default);
                match routes.find(&versioned) {
                    Some(route) => Decision::Rewrite(versioned, route),
                    None => Decision::AsIs(routes.find(path)),
                }
            }
        }
    }

    /// The 404 for a request to `path` in a version not served.
    pub fn unsupported(&self, version: u32, path: &str) -> Response {
        problem::response(
            Problem::new(404)
                .detail(versions::unsupported_detail(version, &self.supported))
                .instance(path)
                .extension("supportedVersions", versions::names(&self.supported)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unversioned_paths_take_the_default_version_only_where_it_serves_them() {
        let routes = Routes::new([("/v1/auth/...", "auth"), ("/health/...", "health")]).unwrap();
        let versions = Versions::new(&EdgeConfig::defaults()).unwrap();
        match versions.decide("/auth/login", &routes) {
            Decision::Rewrite(path, route) => {
                assert_eq!(
                    (path.as_str(), &*route.component),
                    ("/v1/auth/login", "auth")
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            versions.decide("/v2/auth/login", &routes),
            Decision::Unsupported(2)
        );
        assert!(matches!(
            versions.decide("/health/ready", &routes),
            Decision::AsIs(Some(_))
        ));
        assert_eq!(versions.decide("/elsewhere", &routes), Decision::AsIs(None));
    }

    #[test]
    fn health_is_version_free() {
        let routes = Routes::new([("/health/...", "health"), ("/v1/...", "api")]).unwrap();
        let versions = Versions::new(&EdgeConfig::defaults()).unwrap();
        assert!(matches!(
            versions.decide("/health/ready", &routes),
            Decision::AsIs(Some(_))
        ));
        assert!(matches!(
            versions.decide("/healthz", &routes),
            Decision::Rewrite(..)
        ));
    }
}
