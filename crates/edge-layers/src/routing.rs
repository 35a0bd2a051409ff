//! The route of a request, resolved once: the version decision
//! (`versioning`), the rewrite it may call for, then the manifest route
//! serving the path. The layers below read [`Matched`] from the request
//! instead of matching again, and the answer carries [`ServedBy`] back
//! out to the layers above it (metrics).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use mhmanus_manifest::{RouteMatch, RoutePattern, Routes};

use crate::versioning::{Decision, Versions};

/// The manifest route serving a request, in its extensions.
#[derive(Debug, Clone)]
pub struct Matched(pub RouteMatch);

/// The manifest route that served an answer, in its extensions.
#[derive(Debug, Clone)]
pub struct ServedBy(pub Arc<RoutePattern>);

pub struct Resolver {
    pub versions: Versions,
    pub routes: Arc<Routes>,
}

/// Middleware: rewrites an unversioned path to the default version when
/// that version serves it, refuses versions not served, and records the
/// route, if any, on the request and on its answer.
pub async fn resolve(
    State(resolver): State<Arc<Resolver>>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = match resolver
        .versions
        .decide(request.uri().path(), &resolver.routes)
    {
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
                Err(_) => resolver.routes.find(request.uri().path()),
            }
        }
        Decision::Unsupported(version) => {
            return resolver.versions.unsupported(version, request.uri().path());
        }
    };
    let Some(route) = route else {
        return next.run(request).await;
    };
    let pattern = route.route.clone();
    let span = tracing::Span::current();
    span.record("http.route", pattern.as_str());
    span.record("component", &*route.component);
    crate::trace_context::name(&span, request.method(), pattern.as_str());
    request.extensions_mut().insert(Matched(route));
    let mut response = next.run(request).await;
    response.extensions_mut().insert(ServedBy(pattern));
    response
}
