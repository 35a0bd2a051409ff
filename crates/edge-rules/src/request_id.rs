//! Request ids: a client's `x-request-id` is kept when it is a sensible id
//! (1 to 128 visible ASCII characters); anything else is replaced by a
//! fresh UUID, which the answer carries back.

pub const HEADER: &str = "x-request-id";

const MAX_LEN: usize = 128;

/// Whether a client's id is kept as it is.
pub fn is_sensible(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_LEN && id.iter().all(u8::is_ascii_graphic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_up_to_128_bytes_is_kept() {
        assert!(is_sensible(b"req-42"));
        assert!(is_sensible(&[b'a'; 128]));
        assert!(!is_sensible(&[b'a'; 129]));
        assert!(!is_sensible(b""));
        assert!(!is_sensible(b"has space"));
        assert!(!is_sensible("é".as_bytes()));
    }
}
