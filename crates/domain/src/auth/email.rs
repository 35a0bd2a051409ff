//! An email address as accounts use it: trimmed, in Unicode's compatibility
//! normal form, unique on a key that folds case in the local part and maps
//! the domain to ASCII (IDNA, UTS 46).
//!
//! Two addresses a person cannot tell apart must not make two accounts: the
//! key folds what NFKC and case folding equate (a Kelvin sign is a `k`, a
//! fullwidth letter its plain one), and what the key cannot fold is refused
//! (invisible characters anywhere, a local part mixing scripts, such as a
//! Cyrillic `а` among Latin letters, or written wholly in letters of
//! another script that pass for Latin ones: `сосо` in Cyrillic for `coco`).

use std::borrow::Cow;

use icu_casemap::CaseMapper;
use icu_properties::CodePointSetData;
use icu_properties::props::DefaultIgnorableCodePoint;
use unicode_normalization::UnicodeNormalization;
use unicode_security::MixedScript;
use unicode_security::confusable_detection::skeleton;
use unicode_security::mixed_script::AugmentedScriptSet;

use crate::validation::FieldError;

/// RFC 5321 caps a forward path at 254 characters and a local part at 64.
const MAX_CHARS: usize = 254;
const MAX_LOCAL_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// As the user typed it, trimmed, in NFKC; a domain that is not ASCII
    /// in its ASCII form (the A-labels), so `pеntest.example` with a
    /// Cyrillic `е` reads `xn--pntest-3of.example`, not as `pentest.example`.
    address: String,
    /// The form accounts are unique on (see `key`).
    key: String,
}

impl Email {
    /// Validates `raw` (field name `email`): trimmed, at most 254 characters
    /// in NFKC, one `@` with a local part of at most 64 characters in one
    /// script and a domain that IDNA accepts, no whitespace, control or
    /// invisible characters.
    ///
    /// Otherwise loose: the only real proof of an address is mail reaching
    /// it, so this only rejects what cannot be one, or would pass for
    /// another.
    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("email", "is required"));
        }
        if trimmed.chars().any(is_invisible) {
            return Err(FieldError::new(
                "email",
                "must not contain invisible characters",
            ));
        }
        let address: String = trimmed.nfkc().collect();
        if address.chars().count() > MAX_CHARS {
            return Err(FieldError::new(
                "email",
                format!("must be at most {MAX_CHARS} characters"),
            ));
        }
        let Some((local, typed_domain)) = split(&address) else {
            return Err(FieldError::new("email", "must be an email address"));
        };
        if !local.is_single_script() {
            return Err(FieldError::new(
                "email",
                "must write the part before @ in one script",
            ));
        }
        let Some(domain) = ascii_domain(typed_domain) else {
            return Err(FieldError::new("email", "must be an email address"));
        };
        let key = format!("{}@{domain}", fold(local));
        let address = if typed_domain.is_ascii() {
            address
        } else {
            format!("{local}@{domain}")
        };
        Ok(Email { address, key })
    }

    /// `parse`, and for an address an account is about to be made with,
    /// UTS 39's whole-script confusables with Latin too: a local part in
    /// another script (Cyrillic `сосо`) whose skeleton is ASCII (`coco`).
    /// Only new addresses: an account made so before this rule, or one
    /// configured, is still looked up and served by `parse`.
    pub fn parse_new(raw: &str) -> Result<Email, FieldError> {
        let email = Email::parse(raw)?;
        let local = split(&email.address).map_or("", |(local, _)| local);
        let mut latin = local.resolve_script_set();
        latin.intersect_with(AugmentedScriptSet::for_char('a'));
        if latin.is_empty() && skeleton(local).all(|c| c.is_ascii()) {
            return Err(FieldError::new(
                "email",
                "must not write the part before @ in letters of another script that pass for Latin ones; use the Latin letters",
            ));
        }
        Ok(email)
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The unique lookup key: the local part case-folded (and in NFKC
    /// again, as folding may leave it otherwise), the domain in ASCII.
    /// For an ASCII address this is its lowercase form.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The lookup key of an address that is only looked up (login), never
/// stored; `None` when it is no address, so no account can have it.
pub fn key_of(raw: &str) -> Option<String> {
    Email::parse(raw).ok().map(|email| email.key)
}

/// The default-ignorable code points (zero-width spaces and joiners, soft
/// hyphens, ...), which render as nothing.
fn is_invisible(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// `local@domain` with both parts plausible, no whitespace or control
/// characters.
fn split(address: &str) -> Option<(&str, &str)> {
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = address.split_once('@')?;
    let plausible = !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_CHARS
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    plausible.then_some((local, domain))
}

/// UTS 46 processing (mapping, normalisation, Punycode), without the
/// STD3 ASCII rules: mail systems see names that DNS hostnames may not be.
fn ascii_domain(domain: &str) -> Option<Cow<'_, str>> {
    idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::EMPTY)
        .ok()
        .filter(|ascii| !ascii.is_empty() && !ascii.split('.').any(str::is_empty))
}

fn fold(local: &str) -> String {
    CaseMapper::new().fold_string(local).nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(raw: &str) -> String {
        let err = Email::parse(raw).unwrap_err();
        assert_eq!(err.field, "email");
        err.message
    }

    fn key(raw: &str) -> String {
        Email::parse(raw).unwrap().key().to_owned()
    }

    #[test]
    fn accepts_and_keys_lowercase() {
        let email = Email::parse("  Alice.Smith@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "Alice.Smith@Example.COM");
        assert_eq!(email.key(), "alice.smith@example.com");
        assert_eq!(
            Some(email.key().to_owned()),
            key_of(" ALICE.smith@example.com")
        );
        assert_eq!(key("root@localhost"), "root@localhost");
        assert_eq!(
            key("Δοκιμή@Παράδειγμα.δοκιμή"),
            "δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp"
        );
        assert_eq!(key_of("not an address"), None);
    }

    #[test]
    fn look_alikes_share_one_key() {
        // The Kelvin sign, fullwidth letters, a ligature, German sharp s.
        assert_eq!(key("\u{212a}ate@x.org"), "kate@x.org");
        assert_eq!(
            Email::parse("\u{212a}ate@x.org").unwrap().as_str(),
            "Kate@x.org"
        );
        assert_eq!(key("ｋａｔｅ@ｘ.ｏｒｇ"), "kate@x.org");
        assert_eq!(key("\u{fb01}@x.org"), "fi@x.org");
        assert_eq!(key("STRASSE@x.org"), key("straße@x.org"));
        assert_eq!(key("kate@X.ORG"), "kate@x.org");
        assert_eq!(key("kate@bücher.example"), "kate@xn--bcher-kva.example");
        // Shown as A-labels too: a Cyrillic е does not pass for a Latin e.
        assert_eq!(
            Email::parse("Alice@p\u{435}ntest.example")
                .unwrap()
                .as_str(),
            "Alice@xn--pntest-3of.example"
        );
        assert_eq!(
            Email::parse("kate@BÜCHER.example").unwrap().as_str(),
            "kate@xn--bcher-kva.example"
        );
        assert_eq!(
            key("kate@BÜCHER.example"),
            key("kate@xn--bcher-kva.example")
        );
    }

    #[test]
    fn invisible_and_mixed_script_addresses_are_refused() {
        for raw in [
            "ad\u{200b}min@x.org",
            "ad\u{ad}min@x.org",
            "ad\u{200d}min@x.org",
            "admin@x\u{2060}.org",
            "\u{feff}admin@x.org",
        ] {
            assert_eq!(
                message(raw),
                "must not contain invisible characters",
                "{raw:?}"
            );
        }
        // A Cyrillic а, and a Greek ο, among Latin letters.
        for raw in ["\u{430}dmin@x.org", "r\u{3bf}ot@x.org"] {
            assert_eq!(
                message(raw),
                "must write the part before @ in one script",
                "{raw:?}"
            );
        }
        // One script that passes for Latin throughout: Cyrillic сосо for
        // coco, Greek ορα for opa. An account made so before still signs in.
        for raw in [
            "\u{441}\u{43e}\u{441}\u{43e}@p.example",
            "\u{3bf}\u{3c1}\u{3b1}@x.org",
        ] {
            let refused = Email::parse_new(raw).unwrap_err();
            assert!(refused.message.contains("pass for Latin ones"), "{raw:?}");
            assert!(
                Email::parse(raw).is_ok() && key_of(raw).is_some(),
                "{raw:?}"
            );
        }
        // One script is fine, whichever it is; digits and dots go with any.
        // Latin letters outside ASCII are Latin, whatever their skeleton
        // (the dotless ı of yılmaz is an i's).
        for raw in ["админ.2@x.org", "иван@x.org", "café@x.org", "yılmaz@x.org"] {
            assert!(Email::parse_new(raw).is_ok(), "{raw:?}");
        }
        assert!(Email::parse("山田.太郎@x.jp").is_ok());
        assert!(Email::parse("やまだ.タロウ@x.jp").is_ok());
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
            "alice@a..b",
        ] {
            assert_eq!(message(raw), "must be an email address", "{raw:?}");
        }
    }
}
