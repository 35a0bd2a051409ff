//! Secrets in the configuration report: shown as whether they are set,
//! never as their value or any part of it.

pub(crate) const REDACTED: &str = "[redacted]";
pub(crate) const UNSET: &str = "[unset]";

/// A secret: only whether it is set.
pub(crate) fn secret(value: &str) -> &'static str {
    if value.is_empty() { UNSET } else { REDACTED }
}

/// A URL with its password and query string hidden:
/// `postgres://app:hunter22@db:5432/app?sslmode=disable` becomes
/// `postgres://app:[redacted]@db:5432/app?[redacted]`. Anything that is
/// not a URL, or is one whose parts cannot be told apart for sure, is a
/// secret as a whole: hiding too much is the safe way to be wrong.
pub(crate) fn url(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return REDACTED.to_owned();
    };
    let (before_query, query) = match rest.find(['?', '#']) {
        Some(at) => (&rest[..at], Some(REDACTED)),
        None => (rest, None),
    };
    // An `@` after the query would mean a password holding `?` or `#`:
    // where it ends cannot be known.
    if rest.contains('@') && !before_query.contains('@') {
        return format!("{scheme}://{REDACTED}");
    }
    // The userinfo ends at the last `@` (a password may hold one, or a `/`).
    let (userinfo, host_and_path) = match before_query.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, before_query),
    };
    let userinfo = match userinfo {
        Some(userinfo) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            if user.contains(['/', '?', '#', '@']) {
                format!("{REDACTED}@")
            } else if userinfo.contains(':') {
                format!("{user}:{REDACTED}@")
            } else {
                format!("{user}@")
            }
        }
        None => String::new(),
    };
    let mut shown = format!("{scheme}://{userinfo}{host_and_path}");
    if let Some(query) = query {
        shown.push('?');
        shown.push_str(query);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_where_and_hide_how() {
        assert_eq!(
            url("postgres://app:hunter22@db:5432/app?sslmode=disable&password=x"),
            "postgres://app:[redacted]@db:5432/app?[redacted]"
        );
        assert_eq!(
            url("redis://:hunter22@cache:6379"),
            "redis://:[redacted]@cache:6379"
        );
        assert_eq!(url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(url("postgres://app@db/app"), "postgres://app@db/app");
        // A password with an @ in it: the host is after the last one.
        assert_eq!(
            url("postgres://u:p@ss@db/x"),
            "postgres://u:[redacted]@db/x"
        );
        assert_eq!(
            url("postgres://u:pa/ss@db/x"),
            "postgres://u:[redacted]@db/x"
        );
        assert_eq!(url("not a url hunter22"), REDACTED);
        assert_eq!(url(""), "");
    }

    #[test]
    fn secrets_show_only_whether_they_are_set() {
        assert_eq!(secret("hunter22"), REDACTED);
        assert_eq!(secret(""), UNSET);
    }
}
