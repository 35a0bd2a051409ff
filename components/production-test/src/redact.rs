//! Secrets in the configuration report: shown as whether they are set,
//! never as their value or any part of it.

pub const REDACTED: &str = "[redacted]";
pub const UNSET: &str = "[unset]";

/// A secret: only whether it is set.
pub fn secret(value: &str) -> &'static str {
    if value.is_empty() { UNSET } else { REDACTED }
}

/// A URL with its password and query string hidden:
/// `postgres://app:hunter22@db:5432/app?sslmode=disable` becomes
/// `postgres://app:[redacted]@db:5432/app?[redacted]`. Anything that is
/// not a URL is a secret as a whole.
pub fn url(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return REDACTED.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, _)) => (rest, Some(REDACTED)),
        None => (rest, None),
    };
    // The userinfo ends at the last `@`, even when the password holds a
    // `/` or an `@` its author forgot to encode.
    let (userinfo, host_and_path) = match rest.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, rest),
    };
    let userinfo = match userinfo {
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{REDACTED}@"),
            None => format!("{userinfo}@"),
        },
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
