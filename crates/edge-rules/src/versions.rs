//! API versions in the path (`/v1/...`): which one a path names, and how a
//! version that is not served is answered.

/// `Some(N)` for a path whose first segment is `vN`.
pub fn version_of(path: &str) -> Option<u32> {
    let segment = path.strip_prefix('/')?.split('/').next()?;
    let digits = segment.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The versions as the 404 names them: `v1`, `v2`.
pub fn names(supported: &[u32]) -> Vec<String> {
    supported.iter().map(|v| format!("v{v}")).collect()
}

/// The 404's detail for a version not served.
pub fn unsupported_detail(version: u32, supported: &[u32]) -> String {
    format!(
        "API version v{version} is not served; supported: {}",
        names(supported).join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_segment_only() {
        assert_eq!(version_of("/v1/auth/login"), Some(1));
        assert_eq!(version_of("/v12"), Some(12));
        assert_eq!(version_of("/videos/1"), None);
        assert_eq!(version_of("/v/auth"), None);
        assert_eq!(version_of("/auth/v1"), None);
        assert_eq!(version_of("/"), None);
    }

    #[test]
    fn the_detail_names_every_supported_version() {
        assert_eq!(
            unsupported_detail(9, &[1, 2]),
            "API version v9 is not served; supported: v1, v2"
        );
    }
}
