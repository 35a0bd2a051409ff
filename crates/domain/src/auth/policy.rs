//! The password policy of NIST SP 800-63B / OWASP ASVS 6.2: length, not
//! common, not the email, not a word of this service's context. No
//! composition rules, never truncated.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::email::Email;
use crate::validation::FieldError;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// Built on first use so components that never set passwords pay nothing.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Words of this service's context (ASVS 6.1.2): its names and the names
/// of its roles and default accounts. A password made of one of them and
/// otherwise only digits and symbols (`MHManus2026!`, `Admin#1`) is
/// refused. `docs/SECURITY.md` lists them too.
pub const CONTEXT_WORDS: [&str; 8] = [
    "mhmanus",
    "mhmanusedge",
    "mhmanusai",
    "manusedge",
    "admin",
    "administrator",
    "developer",
    "root",
];

/// A new password that passed the policy.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// Checks `raw` for the account with `email`; `field` names the JSON
    /// field the password came in (`password`, `newPassword`).
    ///
    /// `raw` is kept verbatim: trimming or truncating would silently change
    /// the secret the user believes they chose. Lengths count characters so
    /// non-ASCII passwords are not penalised for their UTF-8 size.
    pub fn parse(raw: &str, email: &Email, field: &str) -> Result<NewPassword, FieldError> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(FieldError::new(
                field,
                format!("must be at least {MIN_CHARS} characters"),
            ));
        }
        if chars > MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("must be at most {MAX_CHARS} characters"),
            ));
        }
        if raw.chars().all(char::is_whitespace) {
            return Err(FieldError::new(field, "must not be only white space"));
        }
        if is_common(raw) {
            return Err(FieldError::new(field, "is too common"));
        }
        if raw.to_lowercase() == email.key() {
            return Err(FieldError::new(field, "must not be the email address"));
        }
        if is_context_specific(raw) {
            return Err(FieldError::new(
                field,
                "is too easy to guess here: a name of this service or of its roles",
            ));
        }
        Ok(NewPassword(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// Whether the letters of `password`, digits and symbols aside, are a
/// context word. (Not the email's local part: the original system's users
/// register `test@example.com` with `Test123!`, and must keep doing so.)
fn is_context_specific(password: &str) -> bool {
    let letters: String = password
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    CONTEXT_WORDS.contains(&letters.as_str())
}

/// Whether `password` (compared lowercase) is among the 10,000 most common.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("Someone.Long@Example.com").unwrap()
    }

    fn check(raw: &str) -> Result<NewPassword, FieldError> {
        NewPassword::parse(raw, &email(), "newPassword")
    }

    fn message(raw: &str) -> String {
        let err = check(raw).unwrap_err();
        assert_eq!(err.field, "newPassword");
        err.message
    }

    #[test]
    fn list_is_loaded() {
        assert_eq!(COMMON.len(), 10_000);
        assert!(is_common("123456"));
        assert!(is_common("PassWord123"));
        assert!(!is_common("Test123!"));
    }

    #[test]
    fn accepts_without_composition_rules() {
        assert_eq!(check("Test123!").unwrap().as_str(), "Test123!");
        assert!(check("correct horse battery staple").is_ok());
        assert!(check("пароль12").is_ok());
    }

    #[test]
    fn length_in_characters() {
        assert_eq!(message("Abc123!"), "must be at least 8 characters");
        assert_eq!(message(""), "must be at least 8 characters");
        // 7 characters of 2 bytes each: too short although 14 bytes.
        assert_eq!(message("пароль1"), "must be at least 8 characters");
        let max = format!("{}Zz9", "q".repeat(125));
        assert_eq!(max.chars().count(), 128);
        assert_eq!(check(&max).unwrap().as_str(), max);
        assert_eq!(
            message(&format!("{max}x")),
            "must be at most 128 characters"
        );
        assert!(check(&"ж".repeat(128)).is_ok());
    }

    #[test]
    fn never_trimmed() {
        let raw = "  spaced out secret  ";
        assert_eq!(check(raw).unwrap().as_str(), raw);
        // Seven visible characters plus a space is eight: the space counts.
        assert!(check(" Xy7#kLm").is_ok());
    }

    #[test]
    fn rejects_only_white_space() {
        for raw in [
            "        ",
            "\t\t\t\t\t\t\t\t",
            "\u{3000}\u{3000}\u{3000}\u{3000} \n \n ",
        ] {
            assert_eq!(message(raw), "must not be only white space", "{raw:?}");
        }
    }

    #[test]
    fn rejects_common() {
        for raw in ["password123", "qwertyuiop", "QwertyUIOP", "PASSWORD123"] {
            assert_eq!(message(raw), "is too common", "{raw}");
        }
    }

    #[test]
    fn rejects_email() {
        assert_eq!(
            message("someone.long@example.com"),
            "must not be the email address"
        );
        assert_eq!(
            message("SOMEONE.LONG@EXAMPLE.COM"),
            "must not be the email address"
        );
    }

    #[test]
    fn rejects_context_words_dressed_up() {
        let refused = "is too easy to guess here: a name of this service or of its roles";
        for raw in [
            "MHManus2026!",
            "mhmanus-edge",
            "Admin#2026",
            "Administrator!1",
            "Developer99",
            "root!!!!",
        ] {
            assert_eq!(message(raw), refused, "{raw}");
        }
        // A context word inside a longer passphrase is fine.
        assert!(check("admin of the tiny garden").is_ok());
        // The original system's test account keeps working.
        let test = Email::parse("test@example.com").unwrap();
        assert!(NewPassword::parse("Test123!", &test, "password").is_ok());
    }

    #[test]
    fn debug_redacts() {
        assert_eq!(
            format!("{:?}", check("Test123!").unwrap()),
            "NewPassword(<redacted>)"
        );
    }
}
