//! A display name: trimmed, 1 to 100 characters, no control characters
//! and no bidirectional controls.

use crate::validation::FieldError;

/// Counted in characters so non-Latin names get the same room as Latin ones.
const MAX_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates `raw` (field name `name`).
    pub fn parse(raw: &str) -> Result<DisplayName, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "is required"));
        }
        if name.chars().count() > MAX_CHARS {
            return Err(FieldError::new(
                "name",
                format!("must be at most {MAX_CHARS} characters"),
            ));
        }
        // Control characters would let a name forge log lines or UI layout.
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        // An override or isolate makes `admin\u{202e}` read otherwise than
        // it is, here and in whatever shows the name next to other text.
        if name.chars().any(is_bidi_control) {
            return Err(FieldError::new(
                "name",
                "must not contain bidirectional controls (U+202A to U+202E, U+2066 to U+2069, marks)",
            ));
        }
        Ok(DisplayName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The bidirectional formatting characters of UAX #9: embeddings and
/// overrides, isolates, and the implicit marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert_eq!(DisplayName::parse("X").unwrap().as_str(), "X");
    }

    #[test]
    fn counts_characters_not_bytes() {
        let hundred = "я".repeat(100);
        assert!(hundred.len() > 100);
        assert!(DisplayName::parse(&hundred).is_ok());
        let err = DisplayName::parse(&"я".repeat(101)).unwrap_err();
        assert_eq!(err.field, "name");
        assert_eq!(err.message, "must be at most 100 characters");
    }

    #[test]
    fn rejects_empty_and_control() {
        let err = DisplayName::parse(" \n ").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.message.as_str()),
            ("name", "is required")
        );
        for raw in ["Ada\nLovelace", "Ada\u{0}", "Ada\u{1b}[31m", "A\u{85}B"] {
            let err = DisplayName::parse(raw).unwrap_err();
            assert_eq!(
                err.message, "must not contain control characters",
                "{raw:?}"
            );
        }
    }

    #[test]
    fn rejects_bidi_controls() {
        for raw in [
            "admin\u{202e}",
            "\u{202d}Ada",
            "Ada\u{2066}x\u{2069}",
            "A\u{200f}B",
            "A\u{61c}B",
        ] {
            let err = DisplayName::parse(raw).unwrap_err();
            assert!(
                err.message
                    .starts_with("must not contain bidirectional controls"),
                "{raw:?}"
            );
        }
        // Right-to-left names themselves are names.
        assert!(DisplayName::parse("שלום עולם").is_ok());
        assert!(DisplayName::parse("مرحبا").is_ok());
    }
}
