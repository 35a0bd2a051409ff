//! URI versioning: `/v1/...` is canonical; an unversioned API path is served
//! by the default version when the manifest has a route for it there; a
//! version the host does not serve is a 404 problem naming those it does.
//! Health routes are version-free. Routing itself stays in spin.toml.

use std::sync::Arc;

use anyhow::ensure;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use mhmanus_domain::problem::Problem;

use mhmanus_manifest::Routes;

use crate::config::EdgeConfig;
use crate::problem;

#[derive(Clone)]
pub struct Versions {
    supported: Vec<u32>,
    default: u32,
    routes: Arc<Routes>,
}

impl Versions {
    pub fn new(config: &EdgeConfig, routes: Arc<Routes>) -> anyhow::Result<Self> {
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
            routes,
        })
    }

    /// What to do with `path`.
    fn decide(&self, path: &str) -> Decision {
        if is_version_free(path) {
            return Decision::Pass;
        }
        match version_of(path) {
            Some(version) if self.supported.contains(&version) => Decision::Pass,
            Some(version) => Decision::Unsupported(version),
            None => {
                let versioned = format!("/v{}{path}", self.default);
                if self.routes.serves(&versioned) {
                    Decision::Rewrite(versioned)
                } else {
                    Decision::Pass
                }
            }
        }
    }

    /// The path a request for `path` is served under: the versioned one
    /// when an unversioned path is rewritten, else `path` itself.
    pub fn canonical<'a>(&self, path: &'a str) -> std::borrow::Cow<'a, str> {
        match self.decide(path) {
            Decision::Rewrite(versioned) => versioned.into(),
            _ => path.into(),
        }
    }

    fn supported_names(&self) -> Vec<String> {
        self.supported.iter().map(|v| format!("v{v}")).collect()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Pass,
    Rewrite(String),
    Unsupported(u32),
}

pub async fn route(State(versions): State<Versions>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    match versions.decide(&path) {
        Decision::Pass => {}
        Decision::Rewrite(versioned) => {
            let uri = match request.uri().query() {
                Some(query) => format!("{versioned}?{query}"),
                None => versioned,
            };
            // The path came from a valid URI, with only an ASCII prefix added.
            if let Ok(uri) = uri.parse() {
                *request.uri_mut() = uri;
            }
        }
        Decision::Unsupported(version) => {
            return problem::response(
                Problem::new(404)
                    .detail(format!(
                        "API version v{version} is not served; supported: {}",
                        versions.supported_names().join(", ")
                    ))
                    .instance(path)
                    .extension("supportedVersions", versions.supported_names()),
            );
        }
    }
    next.run(request).await
}

/// Health routes answer the same in every version.
fn is_version_free(path: &str) -> bool {
    path == "/health" || path.starts_with("/health/")
}

/// `Some(N)` for a path whose first segment is `vN`.
fn version_of(path: &str) -> Option<u32> {
    let segment = path.strip_prefix('/')?.split('/').next()?;
    let digits = segment.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_segment_only() {
        assert_eq!(version_of("/v1/auth/login"), Some(1));
        assert_eq!(version_of("/v12"), Some(12));
        assert_eq!(version_of("/videos/1"), None);
        assert_eq!(version_of("/v/auth"), None);
        assert_eq!(version_of("/auth/v1"), None);
        assert_eq!(version_of("/"), None);
    }

    #[test]
    fn health_is_version_free() {
        assert!(is_version_free("/health"));
        assert!(is_version_free("/health/ready"));
        assert!(!is_version_free("/healthz"));
    }
}
