//! Per-account login slow-down: after `FREE_FAILURES` consecutive failures
//! each further attempt must wait a doubling delay (capped) before it counts.

pub const FREE_FAILURES: u32 = 5;
pub const FIRST_DELAY_MS: i64 = 1_000;
pub const MAX_DELAY_MS: i64 = 15 * 60 * 1_000;
/// How long an attempt past the free ones holds the account while it is
/// verified (its outcome then replaces the hold): longer than any
/// verification, short enough that an attempt that never finishes (a trap,
/// a lost connection) blocks the account only briefly.
pub const HOLD_MS: i64 = 10_000;

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

/// The `next_login_at` to store once the account has `failures` consecutive
/// failures, at `now_ms`: 0 (no delay) while failures are free.
///
/// 0 rather than `now_ms` below the threshold, so a stored non-zero value
/// always means a delay was imposed. `failures` comes from storage and is
/// clamped rather than trusted.
pub fn next_attempt_at(now_ms: i64, failures: i64) -> i64 {
    let failures = u32::try_from(failures.max(0)).unwrap_or(u32::MAX);
    match delay_ms(failures) {
        0 => 0,
        delay => now_ms.saturating_add(delay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_attempt_is_zero_while_free_then_delayed() {
        let now = 1_700_000_000_000;
        for failures in [-5, 0, 1, 4] {
            assert_eq!(next_attempt_at(now, failures), 0, "{failures}");
        }
        assert_eq!(next_attempt_at(now, 5), now + 1_000);
        assert_eq!(next_attempt_at(now, 6), now + 2_000);
        assert_eq!(next_attempt_at(now, i64::MAX), now + MAX_DELAY_MS);
        assert_eq!(next_attempt_at(i64::MAX, 5), i64::MAX);
    }

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
