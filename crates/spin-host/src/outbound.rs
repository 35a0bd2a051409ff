//! `allowed_outbound_hosts`: which databases and Redis servers a component may
//! open, enforced as Spin does (`scheme://host:port`, `*` for any host or port).

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    scheme: String,
    host: String,
    port: String,
}

#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    /// Parses the manifest entries (templates already expanded).
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let allowed = entries
            .into_iter()
            .map(|entry| {
                let (scheme, rest) = entry
                    .split_once("://")
                    .ok_or_else(|| format!("allowed_outbound_hosts entry {entry:?} needs a scheme, e.g. postgres://host:5432"))?;
                let authority = rest.trim_end_matches('/');
                let (host, port) = match authority.rsplit_once(':') {
                    Some((host, port)) if !port.contains(']') => (host, port),
                    _ => (authority, ""),
                };
                Ok(AllowedHost {
                    scheme: scheme.to_ascii_lowercase(),
                    host: host.to_ascii_lowercase(),
                    port: if port.is_empty() { default_port(scheme).to_string() } else { port.to_owned() },
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(OutboundPolicy { allowed })
    }

    /// Whether `url` (e.g. `redis://127.0.0.1:6379/0`) may be opened.
    pub(crate) fn allows_url(&self, url: &str) -> bool {
        let Ok(parsed) = url::Url::parse(url) else {
            return false;
        };
        let scheme = match parsed.scheme() {
            "postgresql" => "postgres",
            "rediss" => "redis",
            other => other,
        };
        let Some(host) = parsed.host_str() else {
            return false;
        };
        let port = parsed.port().unwrap_or(default_port(scheme));
        self.allows(scheme, host, port)
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        let port = port.to_string();
        self.allowed.iter().any(|allowed| {
            (allowed.scheme == "*" || allowed.scheme == scheme)
                && (allowed.host == "*" || allowed.host == host)
                && (allowed.port == "*" || allowed.port == port)
        })
    }
}

fn default_port(scheme: &str) -> u16 {
    match scheme {
        "postgres" | "postgresql" => 5432,
        "redis" | "rediss" => 6379,
        "mysql" => 3306,
        "https" => 443,
        _ => 80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_exact_entries() {
        let policy = OutboundPolicy::new(["postgres://*:*", "redis://127.0.0.1:6379"]).unwrap();
        assert!(policy.allows_url("postgres://postgres@db.internal:5433/app"));
        assert!(policy.allows_url("postgresql://localhost/app"));
        assert!(policy.allows_url("redis://127.0.0.1:6379"));
        assert!(policy.allows_url("redis://127.0.0.1"));
        assert!(!policy.allows_url("redis://127.0.0.1:6380"));
        assert!(!policy.allows_url("redis://evil.example:6379"));
        assert!(!policy.allows_url("mysql://127.0.0.1:3306"));
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        let policy = OutboundPolicy::new([]).unwrap();
        assert!(!policy.allows_url("postgres://127.0.0.1:5432/postgres"));
        assert!(!policy.allows_url("not a url"));
    }

    #[test]
    fn entries_need_a_scheme() {
        let err = OutboundPolicy::new(["127.0.0.1:6379"]).unwrap_err();
        assert!(err.contains("needs a scheme"), "{err}");
    }
}
