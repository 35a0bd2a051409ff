//! The login slow-down, per email address: after `FREE_FAILURES`
//! consecutive failures each further attempt must wait a doubling delay
//! (capped) before it counts; one refused before its check is told how long.

pub const FREE_FAILURES: u32 = 5;
pub const FIRST_DELAY_MS: i64 = 1_000;
pub const MAX_DELAY_MS: i64 = 15 * 60 * 1_000;
/// How long an attempt past the free ones holds the account while it is
/// verified (its outcome then replaces the hold): longer than any
/// verification, short enough that an attempt that never finishes (a trap,
/// a lost connection) blocks the account only briefly.
pub const HOLD_MS: i64 = 10_000;

/// How long a refused attempt is told to wait while only a hold stands:
/// the held check ends the hold once its password is verified.
pub const HELD_WAIT_MS: i64 = 1_000;

/// How long an attempt refused at `now_ms` must wait, given the stored
/// delay and hold: to the end of the delay, else a moment while a hold
/// stands, else nothing.
pub fn wait_ms(now_ms: i64, next_attempt_at: i64, held_until: i64) -> i64 {
    if next_attempt_at > now_ms {
        next_attempt_at - now_ms
    } else if held_until > now_ms {
        (held_until - now_ms).min(HELD_WAIT_MS)
    } else {
        0
    }
}

/// `Retry-After` for a wait: whole seconds, rounded up, at least one (a
/// client told 0 would come straight back).
pub fn retry_after_secs(wait_ms: i64) -> i64 {
    wait_ms.max(1).saturating_add(999) / 1_000
}

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

/// The `next_attempt_at` to store once the account has `failures` consecutive
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
    fn a_refused_attempt_waits_for_the_delay_or_a_moment_for_a_hold() {
        let now = 1_700_000_000_000;
        assert_eq!(wait_ms(now, now + 4_000, 0), 4_000);
        assert_eq!(wait_ms(now, now + 4_000, now + 10_000), 4_000);
        assert_eq!(wait_ms(now, 0, now + 10_000), HELD_WAIT_MS);
        assert_eq!(wait_ms(now, 0, now + 300), 300);
        assert_eq!(wait_ms(now, now, now), 0);
        assert_eq!(retry_after_secs(0), 1);
        assert_eq!(retry_after_secs(300), 1);
        assert_eq!(retry_after_secs(1_000), 1);
        assert_eq!(retry_after_secs(1_001), 2);
        assert_eq!(retry_after_secs(MAX_DELAY_MS), 900);
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
