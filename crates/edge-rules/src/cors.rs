//! CORS for browsers on other origins: an allow-list of exact origins,
//! with credentials, so `*` is refused. An origin not on the list is never
//! echoed and gets no CORS header; an empty list sends no CORS header at all.

pub const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Request headers a browser may send cross-origin.
pub const ALLOWED_HEADERS: [&str; 3] = ["authorization", "content-type", "x-request-id"];

/// Response headers a cross-origin script may read: the rate limits and the
/// request id.
pub const EXPOSED_HEADERS: [&str; 4] = [
    "ratelimit",
    "ratelimit-policy",
    "retry-after",
    "x-request-id",
];

/// The configured origins, each exactly as a browser sends it in `Origin`
/// (`scheme://host[:port]`, no path); empty entries are skipped.
pub fn allowed_origins<'a>(
    entries: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, String> {
    entries
        .into_iter()
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| origin(entry).map_err(|why| format!("invalid origin {entry:?}: {why}")))
        .collect()
}

fn origin(entry: &str) -> Result<String, String> {
    if entry == "*" {
        return Err("`*` cannot be combined with credentials; list the exact origins".into());
    }
    if !entry.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("not a valid header value".into());
    }
    let url = url::Url::parse(entry).map_err(|_| "not scheme://host[:port]".to_owned())?;
    let serialized = url.origin().ascii_serialization();
    if serialized != entry {
        return Err(format!(
            "browsers send the origin as {serialized:?}; list it that way"
        ));
    }
    Ok(entry.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exact_origins_and_skips_blanks() {
        let list =
            allowed_origins(["https://app.example.com", " http://localhost:5173 ", ""]).unwrap();
        assert_eq!(list, ["https://app.example.com", "http://localhost:5173"]);
        assert!(allowed_origins([""]).unwrap().is_empty(), "none configured");
    }

    #[test]
    fn refuses_a_wildcard_and_names_the_entry() {
        let error = allowed_origins(["https://a.example", "*"]).unwrap_err();
        assert!(
            error.contains("\"*\"") && error.contains("credentials"),
            "{error}"
        );
    }

    #[test]
    fn refuses_what_a_browser_never_sends_as_an_origin() {
        for entry in [
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://App.example.com",
            "https://app.example.com:443",
            "null",
            "https://a.example\u{7f}",
        ] {
            let error = allowed_origins([entry]).unwrap_err();
            assert!(error.contains(&format!("{entry:?}")), "{error}");
        }
    }
}
