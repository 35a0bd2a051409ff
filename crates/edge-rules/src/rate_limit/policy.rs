//! Rate-limit policies as configured: `10/60s` (requests per window), `off`,
//! and per-route overrides `/v1/auth/login=5/60s` where a pattern ending in
//! `/...` covers every path below it, and a method before the path
//! (`PATCH /v1/auth/profile=5/60s`) narrows the entry to that method.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// `limit` requests per `window`, per client and route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window: Duration,
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.limit, self.window.as_secs())
    }
}

/// A configured policy: a quota, or no limit at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Limited(Quota),
    Off,
}

impl FromStr for Policy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Policy::Off);
        }
        let invalid = || format!("expected LIMIT/WINDOW such as 10/60s, or off; got {text:?}");
        let (limit, window) = text.split_once('/').ok_or_else(invalid)?;
        let limit: u32 = limit.trim().parse().map_err(|_| invalid())?;
        let window = humantime::parse_duration(window.trim()).map_err(|_| invalid())?;
        if limit == 0 || window.as_secs() == 0 || window.subsec_nanos() != 0 {
            return Err(format!(
                "{text:?}: the limit must be at least 1 and the window whole seconds (at least 1s)"
            ));
        }
        // The buckets count in milliseconds (`gcra`): a finer rate would be
        // enforced as one a millisecond, with a smaller burst than asked.
        if u128::from(limit) > window.as_millis() {
            return Err(format!(
                "{text:?}: at most one request a millisecond per client can be limited \
                 (1000/1s, 60000/60s); give a longer window, or off"
            ));
        }
        Ok(Policy::Limited(Quota { limit, window }))
    }
}

/// `RATE_LIMIT_ROUTES` unless configured: every route that checks or
/// hashes a password counts per address (issue 36's T4: a password change
/// guessed from one address with many accounts' tokens), as login does.
pub const DEFAULT_ROUTE_LIMITS: &str =
    "/v1/auth/login=5/60s,/v1/auth/register=5/60s,PATCH /v1/auth/profile=5/60s";

/// Whether a limiter with these policies limits anything: the rate-limit
/// layer is then in front, as the edge reports it.
pub fn limits_anything(default: Policy, routes: &[RouteLimit]) -> bool {
    default != Policy::Off || routes.iter().any(|route| route.policy != Policy::Off)
}

/// One `[METHOD ]PATTERN=POLICY` entry of `RATE_LIMIT_ROUTES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLimit {
    /// The one method the entry applies to (upper case), or every method.
    pub method: Option<String>,
    pub pattern: String,
    pub policy: Policy,
}

impl RouteLimit {
    /// Whether this entry covers a `method` request to `path`; a `GET`
    /// entry covers `HEAD` too, which is served as a GET.
    pub fn covers(&self, method: &str, path: &str) -> bool {
        let method = if method.eq_ignore_ascii_case("HEAD") {
            "GET"
        } else {
            method
        };
        if self
            .method
            .as_deref()
            .is_some_and(|own| !own.eq_ignore_ascii_case(method))
        {
            return false;
        }
        match self.pattern.strip_suffix("/...") {
            Some(base) => {
                path == base || path.strip_prefix(base).is_some_and(|r| r.starts_with('/'))
            }
            None => path == self.pattern,
        }
    }

    /// Sort key putting the most specific entries first: exact paths, then
    /// subtrees from the deepest; of one pattern, the entry for a method.
    pub fn specificity(&self) -> (bool, std::cmp::Reverse<usize>, bool) {
        let wildcard = self.pattern.ends_with("/...");
        let any_method = self.method.is_none();
        (wildcard, std::cmp::Reverse(self.pattern.len()), any_method)
    }

    /// The entry as written, without its policy: the name of its buckets.
    pub fn route(&self) -> String {
        match &self.method {
            Some(method) => format!("{method} {}", self.pattern),
            None => self.pattern.clone(),
        }
    }

    /// A path the pattern covers, to check that some route serves it.
    pub fn example_path(&self) -> &str {
        self.pattern
            .strip_suffix("/...")
            .filter(|base| !base.is_empty())
            .unwrap_or(&self.pattern)
    }
}

impl FromStr for RouteLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (route, policy) = text
            .split_once('=')
            .ok_or_else(|| format!("expected [METHOD ]PATH=LIMIT/WINDOW, got {text:?}"))?;
        let (method, pattern) = match route.split_whitespace().collect::<Vec<_>>()[..] {
            [pattern] => (None, pattern),
            [method, pattern] if method.bytes().all(|b| b.is_ascii_alphabetic()) => {
                (Some(method.to_ascii_uppercase()), pattern)
            }
            _ => {
                return Err(format!(
                    "{route:?}: expected a path, or a method and a path (PATCH /v1/auth/profile)"
                ));
            }
        };
        if !pattern.starts_with('/') {
            return Err(format!("{pattern:?}: a route starts with /"));
        }
        Ok(RouteLimit {
            method,
            pattern: pattern.to_owned(),
            policy: policy.parse()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotas_and_off() {
        assert_eq!(
            "10/60s".parse::<Policy>().unwrap(),
            Policy::Limited(Quota {
                limit: 10,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!(
            "100/1m".parse::<Policy>().unwrap(),
            Policy::Limited(Quota {
                limit: 100,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!("OFF".parse::<Policy>().unwrap(), Policy::Off);
        assert!("1000/1s".parse::<Policy>().is_ok(), "one a millisecond");
        for bad in [
            "",
            "10",
            "0/60s",
            "10/0s",
            "10/1500ms",
            "ten/60s",
            "10/sixty",
            "1001/1s",
            "100000/60s",
        ] {
            assert!(bad.parse::<Policy>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn route_patterns_cover_exact_paths_or_subtrees() {
        let login: RouteLimit = "/v1/auth/login=5/60s".parse().unwrap();
        assert!(login.covers("POST", "/v1/auth/login"));
        assert!(!login.covers("POST", "/v1/auth/login/x"));
        let auth: RouteLimit = "/v1/auth/...=off".parse().unwrap();
        assert_eq!(auth.policy, Policy::Off);
        assert!(auth.covers("GET", "/v1/auth") && auth.covers("PATCH", "/v1/auth/profile"));
        assert!(!auth.covers("GET", "/v1/authz"));
        assert_eq!(auth.example_path(), "/v1/auth");
        let mut entries = [auth.clone(), login.clone()];
        entries.sort_by_key(RouteLimit::specificity);
        assert_eq!(entries[0], login, "the exact entry wins over the subtree");
        assert!("v1/auth=5/60s".parse::<RouteLimit>().is_err());
        assert!("/v1/auth".parse::<RouteLimit>().is_err());
    }

    #[test]
    fn a_method_narrows_an_entry_and_wins_over_the_same_path_without_one() {
        let change: RouteLimit = " patch /v1/auth/profile = 5/60s".parse().unwrap();
        assert_eq!(change.method.as_deref(), Some("PATCH"));
        assert_eq!(change.route(), "PATCH /v1/auth/profile");
        assert!(change.covers("PATCH", "/v1/auth/profile"));
        assert!(!change.covers("GET", "/v1/auth/profile"));
        let read: RouteLimit = "GET /v1/x=1/60s".parse().unwrap();
        assert!(read.covers("HEAD", "/v1/x"), "a HEAD is served as a GET");
        let any: RouteLimit = "/v1/auth/profile=off".parse().unwrap();
        let mut entries = [any.clone(), change.clone()];
        entries.sort_by_key(RouteLimit::specificity);
        assert_eq!(entries[0], change);
        for bad in [
            "PATCH  =5/60s",
            "GET POST /x=1/1s",
            "GE-T /x=1/1s",
            "PATCH x=1/1s",
        ] {
            assert!(bad.parse::<RouteLimit>().is_err(), "{bad:?}");
        }
        let defaults: Vec<RouteLimit> = DEFAULT_ROUTE_LIMITS
            .split(',')
            .map(|entry| entry.parse().unwrap())
            .collect();
        assert!(
            defaults
                .iter()
                .any(|r| r.covers("PATCH", "/v1/auth/profile"))
        );
    }
}
