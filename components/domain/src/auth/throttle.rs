//! Per-account login slow-down: after `FREE_FAILURES` consecutive failures
//! each further attempt must wait a doubling delay (capped) before it counts.

pub const FREE_FAILURES: u32 = 5;
pub const FIRST_DELAY_MS: i64 = 1_000;
pub const MAX_DELAY_MS: i64 = 15 * 60 * 1_000;

/// How long after the latest failure the next attempt is refused, given the
/// number of consecutive failures so far: 0 up to `FREE_FAILURES - 1`, then
/// 1 s, 2 s, 4 s ... up to `MAX_DELAY_MS`.
///
/// The failure count comes from storage and may be anything, so the
/// arithmetic saturates instead of overflowing.
pub fn delay_ms(failures: u32) -> i64 {
    let Some(doublings) = failures.checked_sub(FREE_FAILURES) else {
        return 0;
    };
    // 2^62 is the largest power of two an i64 holds.
    if doublings > 62 {
        return MAX_DELAY_MS;
    }
    FIRST_DELAY_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_failures_cost_nothing() {
        for failures in 0..FREE_FAILURES {
            assert_eq!(delay_ms(failures), 0);
        }
    }

    #[test]
    fn doubles_then_caps() {
        assert_eq!(delay_ms(5), 1_000);
        assert_eq!(delay_ms(6), 2_000);
        assert_eq!(delay_ms(7), 4_000);
        assert_eq!(delay_ms(14), 512_000);
        assert_eq!(delay_ms(15), MAX_DELAY_MS);
        for failures in [16, 62, 67, 68, 69, 100, u32::MAX - 1, u32::MAX] {
            assert_eq!(delay_ms(failures), MAX_DELAY_MS, "{failures}");
        }
        let mut previous = 0;
        for failures in 0..200 {
            let delay = delay_ms(failures);
            assert!(delay >= previous && delay <= MAX_DELAY_MS);
            previous = delay;
        }
    }
}
