//! An email address as accounts use it: trimmed, compared case-insensitively.

use crate::validation::FieldError;

/// RFC 5321 caps a forward path at 254 characters and a local part at 64.
const MAX_CHARS: usize = 254;
const MAX_LOCAL_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// As the user typed it, trimmed.
    address: String,
    /// The lowercase form accounts are unique on.
    key: String,
}

impl Email {
    /// Validates `raw` (field name `email`): trimmed, at most 254 characters,
    /// one `@` with a non-empty local part and a dotted-or-not domain, no
    /// whitespace or control characters.
    ///
    /// Deliberately loose: the only real proof of an address is mail reaching
    /// it, so this only rejects what cannot possibly be one.
    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        let address = raw.trim();
        if address.is_empty() {
            return Err(FieldError::new("email", "is required"));
        }
        if address.chars().count() > MAX_CHARS {
            return Err(FieldError::new(
                "email",
                format!("must be at most {MAX_CHARS} characters"),
            ));
        }
        if !is_plausible(address) {
            return Err(FieldError::new("email", "must be an email address"));
        }
        Ok(Email {
            address: address.to_owned(),
            key: key_of(address),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The unique, case-insensitive lookup key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

fn is_plausible(address: &str) -> bool {
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_CHARS
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The lookup key of an address that is only looked up (login), never stored.
pub fn key_of(raw: &str) -> String {
    raw.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(raw: &str) -> String {
        let err = Email::parse(raw).unwrap_err();
        assert_eq!(err.field, "email");
        err.message
    }

    #[test]
    fn accepts_and_keys_lowercase() {
        let email = Email::parse("  Alice.Smith@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "Alice.Smith@Example.COM");
        assert_eq!(email.key(), "alice.smith@example.com");
        assert_eq!(email.key(), key_of(" ALICE.smith@example.com"));
        assert!(Email::parse("root@localhost").is_ok());
        assert!(Email::parse("δοκιμή@παράδειγμα.δοκιμή").is_ok());
    }

    #[test]
    fn empty_is_required() {
        assert_eq!(message(""), "is required");
        assert_eq!(message("   \t"), "is required");
    }

    #[test]
    fn length_limits() {
        let domain = format!("{}.com", "d".repeat(250 - 4));
        let ok = format!("abc@{domain}");
        assert_eq!(ok.chars().count(), 254);
        assert!(Email::parse(&ok).is_ok());
        let long = format!("abcd@{domain}");
        assert_eq!(message(&long), "must be at most 254 characters");

        assert!(Email::parse(&format!("{}@x.org", "l".repeat(64))).is_ok());
        assert_eq!(
            message(&format!("{}@x.org", "l".repeat(65))),
            "must be an email address"
        );
    }

    #[test]
    fn rejects_malformed() {
        for raw in [
            "plain",
            "@example.com",
            "alice@",
            "a@b@example.com",
            "al ice@example.com",
            "alice@exa\tmple.com",
            "alice@example.com\u{0}",
            "alice\u{7f}@example.com",
            "alice@.example.com",
            "alice@example.com.",
            "alice@.",
        ] {
            assert_eq!(message(raw), "must be an email address", "{raw:?}");
        }
    }
}
