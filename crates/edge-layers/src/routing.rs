//! The route of a request, resolved once: the version decision
//! (`versioning`), the rewrite it may call for, then the manifest route
//! serving the path. What comes after reads [`Matched`] from the request
//! instead of matching again; the pattern is returned for the metrics.

use std::sync::Arc;

use axum::response::Response;
use mhmanus_manifest::{RouteMatch, RoutePattern, Routes};

use crate::versioning::{Decision, Versions};

/// The manifest route serving a request, in its extensions.
#[derive(Debug, Clone)]
pub struct Matched(pub RouteMatch);

pub struct Resolver {
    pub versions: Versions,
    pub routes: Arc<Routes>,
}

impl Resolver {
    /// Rewrites an unversioned path to the default version when that
    /// version serves it, and puts the route, if any, on the request (and
    /// on the request's span) as [`Matched`], returning its pattern; a
    /// version not served is refused.
    pub fn resolve<B>(
        &self,
        request: &mut http::Request<B>,
    ) -> Result<Option<Arc<RoutePattern>>, Response> {
        let route = match self.versions.decide(request.uri().path(), &self.routes) {
            Decision::AsIs(route) => route,
            Decision::Rewrite(versioned, route) => {
                let uri = match request.uri().query() {
                    Some(query) => format!("{versioned}?{query}"),
                    None => versioned,
                };
                // The path came from a valid URI, with only an ASCII prefix added.
                match uri.parse() {
                    Ok(uri) => {
                        *request.uri_mut() = uri;
                        Some(route)
                    }
                    Err(_) => self.routes.find(request.uri().path()),
                }
            }
            Decision::Unsupported(version) => {
                return Err(self.versions.unsupported(version, request.uri().path()));
            }
        };
        let Some(route) = route else {
            return Ok(None);
        };
        let pattern = route.route.clone();
        let span = tracing::Span::current();
        span.record("http.route", pattern.as_str());
        span.record("component", &*route.component);
        crate::trace_context::name(&span, request.method(), pattern.as_str());
        request.extensions_mut().insert(Matched(route));
        Ok(Some(pattern))
    }
}
