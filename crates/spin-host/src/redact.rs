//! Connection URLs fit for logs and error messages: never a password.

/// `url` with its password, and any `password` query parameter, shown as `***`.
pub fn url(url: &str) -> String {
    let url = mask_userinfo(url);
    let Ok(mut parsed) = url::Url::parse(&url) else {
        return "(an unreadable URL)".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    "***".into()
                } else {
                    value
                };
                (key.into_owned(), value.into_owned())
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// The password masked by text first, up to the last `@`: a password that
/// a URL parser would read otherwise (`u:/pw@db` as a path) never shows.
/// Masks too much rather than too little when an `@` comes later.
fn mask_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let Some(at) = rest.rfind('@') else {
        return url.into();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{}", &rest[at + 1..]).into(),
        None => url.into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_passwords_in_userinfo_and_query() {
        assert_eq!(
            super::url("postgres://app:hunter2@db:5432/app?password=hunter2&sslmode=disable"),
            "postgres://app:***@db:5432/app?password=***&sslmode=disable"
        );
        assert_eq!(
            super::url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert!(!super::url("not a url hunter2").contains("hunter2"));
        // Passwords a URL parser would take for a path or a query.
        assert_eq!(
            super::url("postgres://u:/hunter2@db/app"),
            "postgres://u:***@db/app"
        );
        assert_eq!(
            super::url("postgres://u:hun?ter2@db/app?sslmode=require"),
            "postgres://u:***@db/app?sslmode=require"
        );
    }
}
