//! Spin's HTTP route syntax: exact paths, `:name` parameters and a trailing
//! `/...` wildcard. When several routes match, the most specific one wins.

use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl RoutePattern {
    pub fn parse(route: &str) -> Result<Self, String> {
        if !route.starts_with('/') {
            return Err(format!("route {route:?} must start with '/'"));
        }
        let (prefix, wildcard) = match route.strip_suffix("/...") {
            Some(prefix) => (prefix, true),
            None => (route, false),
        };
        let mut segments = Vec::new();
        for part in prefix.split('/').filter(|s| !s.is_empty()) {
            if part == "..." {
                return Err(format!("route {route:?}: '...' is allowed only at the end"));
            }
            segments.push(match part.strip_prefix(':') {
                Some("") => return Err(format!("route {route:?}: a parameter needs a name")),
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(part.to_owned()),
            });
        }
        Ok(RoutePattern {
            raw: route.to_owned(),
            segments,
            wildcard,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The route without its wildcard, as Spin's `spin-component-route` header gives it.
    pub fn base(&self) -> &str {
        self.raw.strip_suffix("/...").unwrap_or(&self.raw)
    }

    /// Ranks matches: more literal segments, then more segments, then exact over wildcard.
    fn specificity(&self) -> (usize, usize, bool) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (literals, self.segments.len(), !self.wildcard)
    }

    /// Matches `path`, giving the parameters and the path info after the matched prefix.
    fn matches(&self, path: &str) -> Option<(Vec<(String, String)>, String)> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() < self.segments.len()
            || (!self.wildcard && parts.len() != self.segments.len())
        {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), (*part).to_owned())),
            }
        }
        let rest = &parts[self.segments.len()..];
        let mut path_info = rest.iter().map(|p| format!("/{p}")).collect::<String>();
        if path.ends_with('/') && !rest.is_empty() {
            path_info.push('/');
        }
        Some((params, path_info))
    }
}

/// What a request path resolved to: owned (cheap to clone), so it can be
/// resolved once and travel with the request to every layer that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The trigger's component.
    pub component: Arc<str>,
    /// What serves the route: the component, or a composition of it behind
    /// its trigger's middleware (`Manifest::handler_id`).
    pub handler: Arc<str>,
    pub route: Arc<RoutePattern>,
    pub params: Vec<(String, String)>,
    pub path_info: String,
}

/// The manifest's HTTP routes, most specific first.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    routes: Vec<Route>,
}

#[derive(Debug, Clone)]
struct Route {
    pattern: Arc<RoutePattern>,
    component: Arc<str>,
    handler: Arc<str>,
}

impl Routes {
    /// Routes to components, each its own handler: `(route, component)`.
    pub fn new<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, String> {
        Self::with_handlers(
            routes
                .into_iter()
                .map(|(route, component)| (route, component, component)),
        )
    }

    /// Routes as `(route, component, handler)`.
    pub fn with_handlers<'a>(
        routes: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Result<Self, String> {
        let mut parsed: Vec<Route> = Vec::new();
        for (route, component, handler) in routes {
            let pattern = RoutePattern::parse(route)?;
            if let Some(other) = parsed.iter().find(|r| r.pattern.raw == pattern.raw) {
                return Err(format!(
                    "route {route} is given to both {} and {component}",
                    other.component
                ));
            }
            parsed.push(Route {
                pattern: Arc::new(pattern),
                component: component.into(),
                handler: handler.into(),
            });
        }
        // Most specific first, so the first match wins.
        parsed.sort_by_key(|r| std::cmp::Reverse(r.pattern.specificity()));
        Ok(Routes { routes: parsed })
    }

    pub fn find(&self, path: &str) -> Option<RouteMatch> {
        self.routes.iter().find_map(|r| {
            r.pattern
                .matches(path)
                .map(|(params, path_info)| RouteMatch {
                    component: r.component.clone(),
                    handler: r.handler.clone(),
                    route: r.pattern.clone(),
                    params,
                    path_info,
                })
        })
    }

    /// Whether some route serves `path`.
    pub fn serves(&self, path: &str) -> bool {
        self.routes
            .iter()
            .any(|r| r.pattern.matches(path).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes::new([
            ("/...", "fallback"),
            ("/health/...", "health"),
            ("/health/live", "live"),
            ("/v1/users/:id/roles", "roles"),
            ("/v1/users/...", "users"),
        ])
        .unwrap()
    }

    fn component(path: &str) -> Option<String> {
        routes().find(path).map(|m| m.component.to_string())
    }

    #[test]
    fn most_specific_route_wins() {
        assert_eq!(component("/health/live").as_deref(), Some("live"));
        assert_eq!(component("/health/ready").as_deref(), Some("health"));
        assert_eq!(component("/health").as_deref(), Some("health"));
        assert_eq!(component("/v1/users/42/roles").as_deref(), Some("roles"));
        assert_eq!(component("/v1/users/42").as_deref(), Some("users"));
        assert_eq!(component("/elsewhere").as_deref(), Some("fallback"));
    }

    #[test]
    fn exact_routes_do_not_match_longer_paths() {
        let routes = Routes::new([("/health/live", "live")]).unwrap();
        assert!(routes.find("/health/live/more").is_none());
        assert!(routes.find("/health").is_none());
    }

    #[test]
    fn gives_params_and_path_info() {
        let routes = routes();
        let m = routes.find("/v1/users/42/roles").unwrap();
        assert_eq!(m.params, [("id".to_owned(), "42".to_owned())]);
        let m = routes.find("/health/ready").unwrap();
        assert_eq!(
            (m.route.base(), m.path_info.as_str()),
            ("/health", "/ready")
        );
        assert_eq!(routes.find("/health").unwrap().path_info, "");
    }

    #[test]
    fn rejects_malformed_and_duplicate_routes() {
        assert!(RoutePattern::parse("health").is_err());
        assert!(RoutePattern::parse("/a/.../b").is_err());
        assert!(RoutePattern::parse("/a/:").is_err());
        assert!(Routes::new([("/a", "x"), ("/a", "y")]).is_err());
    }
}
