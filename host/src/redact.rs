//! Connection URLs fit for logs and error messages: never a password.

/// `url` with its password, and any `password` query parameter, shown as `***`.
pub(crate) fn url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
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
    }
}
