//! When an answer is worth compressing: its type is not compressed already
//! (tower-http's default exclusions, images but SVG, gRPC, server-sent
//! events, and archives, WOFF2 fonts, video and audio), and the client
//! takes the encoding.

const ALREADY_COMPRESSED: [&str; 9] = [
    "image/",
    "application/grpc",
    "text/event-stream",
    "application/zip",
    "application/gzip",
    "application/zstd",
    "font/woff2",
    "video/",
    "audio/",
];

/// Whether a body of `content_type` gains from compression.
pub fn compressible_type(content_type: &str) -> bool {
    let content_type = content_type.trim().to_ascii_lowercase();
    content_type.starts_with("image/svg+xml")
        || !ALREADY_COMPRESSED
            .iter()
            .any(|prefix| content_type.starts_with(prefix))
}

/// Whether a `Vary` header's values already name `Accept-Encoding` (or `*`).
pub fn varies_by_encoding<'a>(vary: impl IntoIterator<Item = &'a str>) -> bool {
    vary.into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|name| name == "*" || name.eq_ignore_ascii_case("accept-encoding"))
}

/// Whether `Accept-Encoding` takes `encoding` (by name or `*`, with a
/// non-zero quality).
pub fn accepts(accept_encoding: &str, encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (name.eq_ignore_ascii_case(encoding) || name == "*") && quality > 0.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_names_accept_encoding_in_any_of_its_values() {
        assert!(varies_by_encoding(["origin, Accept-Encoding"]));
        assert!(varies_by_encoding(["origin", "*"]));
        assert!(!varies_by_encoding(["origin, accept-language"]));
        assert!(!varies_by_encoding([]));
    }

    #[test]
    fn compressed_types_are_left_alone_but_svg() {
        assert!(compressible_type("application/json"));
        assert!(compressible_type("text/html; charset=utf-8"));
        assert!(compressible_type("image/svg+xml"));
        assert!(!compressible_type("image/png"));
        assert!(!compressible_type("text/event-stream"));
        assert!(!compressible_type("application/gzip"));
    }

    #[test]
    fn an_encoding_is_taken_by_name_or_star_unless_its_quality_is_zero() {
        assert!(accepts("gzip, deflate, br", "gzip"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5", "gzip"));
        assert!(accepts("*", "gzip"));
        assert!(!accepts("gzip;q=0", "gzip"));
        assert!(!accepts("br, identity", "gzip"));
        assert!(!accepts("", "gzip"));
    }
}
