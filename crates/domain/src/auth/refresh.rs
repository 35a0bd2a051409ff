//! Refresh tokens: opaque 256-bit random values. Only their SHA-256 is
//! stored, so a database leak yields no usable token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub const TTL_SECS: i64 = 14 * 24 * 60 * 60;

/// A session (a family of refresh tokens) ends this long after its login,
/// however often it was renewed (ASVS 7.3.2): then its user logs in again.
pub const MAX_SESSION_SECS: i64 = 30 * 24 * 60 * 60;

/// A new token (43 base64url characters) and the hash to store.
///
/// A plain SHA-256 (no salt, no slow hash) is enough: the token carries 256
/// bits of entropy, so there is nothing to brute-force, and lookups stay
/// exact-match.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    // Without the OS random source no token may be issued at all.
    getrandom::fill(&mut bytes).expect("the system random number generator failed");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hashed = hash(&token);
    (token, hashed)
}

/// When a token issued at `now_ms` in a session that began at
/// `started_ms` expires: `TTL_SECS` on, but never past the session's
/// `MAX_SESSION_SECS`; `None` once the session is over.
pub fn expires_at(now_ms: i64, started_ms: i64) -> Option<i64> {
    let by_ttl = now_ms.saturating_add(TTL_SECS.saturating_mul(1000));
    let by_session = started_ms.saturating_add(MAX_SESSION_SECS.saturating_mul(1000));
    let expires = by_ttl.min(by_session);
    (expires > now_ms).then_some(expires)
}

/// The stored form: lowercase hex SHA-256 of the token text.
pub fn hash(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_at_its_maximum_however_often_it_is_renewed() {
        let day = 24 * 3600 * 1000;
        // Fresh: the token's own TTL.
        assert_eq!(expires_at(0, 0), Some(14 * day));
        // Renewed on day 20: cut at day 30, not day 34.
        assert_eq!(expires_at(20 * day, 0), Some(30 * day));
        assert_eq!(expires_at(30 * day, 0), None);
        assert_eq!(expires_at(31 * day, 0), None);
    }

    #[test]
    fn hash_is_lowercase_hex_sha256() {
        assert_eq!(
            hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generate_is_random_base64url() {
        let (token, hashed) = generate();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
        assert_eq!(hashed, hash(&token));
        let (other, other_hash) = generate();
        assert_ne!(token, other);
        assert_ne!(hashed, other_hash);
    }
}
