//! Rate-limit policies as configured: `10/60s` (requests per window), `off`,
//! and per-route overrides `/v1/auth/login=5/60s` where a pattern ending in
//! `/...` covers every path below it.

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
        Ok(Policy::Limited(Quota { limit, window }))
    }
}

/// Whether a limiter with these policies limits anything: the rate-limit
/// layer is then in front, as the edge reports it.
pub fn limits_anything(default: Policy, routes: &[RouteLimit]) -> bool {
    default != Policy::Off || routes.iter().any(|route| route.policy != Policy::Off)
}

/// One `PATTERN=POLICY` entry of `RATE_LIMIT_ROUTES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLimit {
    pub pattern: String,
    pub policy: Policy,
}

impl RouteLimit {
    /// Whether this entry covers `path`.
    pub fn covers(&self, path: &str) -> bool {
        match self.pattern.strip_suffix("/...") {
            Some(base) => {
                path == base || path.strip_prefix(base).is_some_and(|r| r.starts_with('/'))
            }
            None => path == self.pattern,
        }
    }

    /// Sort key putting the most specific entries first: exact paths, then
    /// subtrees from the deepest.
    pub fn specificity(&self) -> (bool, std::cmp::Reverse<usize>) {
        let wildcard = self.pattern.ends_with("/...");
        (wildcard, std::cmp::Reverse(self.pattern.len()))
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
        let (pattern, policy) = text
            .split_once('=')
            .ok_or_else(|| format!("expected PATH=LIMIT/WINDOW, got {text:?}"))?;
        let pattern = pattern.trim();
        if !pattern.starts_with('/') {
            return Err(format!("{pattern:?}: a route starts with /"));
        }
        Ok(RouteLimit {
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
        for bad in [
            "",
            "10",
            "0/60s",
            "10/0s",
            "10/1500ms",
            "ten/60s",
            "10/sixty",
        ] {
            assert!(bad.parse::<Policy>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn route_patterns_cover_exact_paths_or_subtrees() {
        let login: RouteLimit = "/v1/auth/login=5/60s".parse().unwrap();
        assert!(login.covers("/v1/auth/login"));
        assert!(!login.covers("/v1/auth/login/x"));
        let auth: RouteLimit = "/v1/auth/...=off".parse().unwrap();
        assert_eq!(auth.policy, Policy::Off);
        assert!(auth.covers("/v1/auth") && auth.covers("/v1/auth/profile"));
        assert!(!auth.covers("/v1/authz"));
        assert_eq!(auth.example_path(), "/v1/auth");
        let mut entries = [auth.clone(), login.clone()];
        entries.sort_by_key(RouteLimit::specificity);
        assert_eq!(entries[0], login, "the exact entry wins over the subtree");
        assert!("v1/auth=5/60s".parse::<RouteLimit>().is_err());
        assert!("/v1/auth".parse::<RouteLimit>().is_err());
    }
}
