//! The generic cell rate algorithm: one timestamp per bucket (the
//! theoretical arrival time, TAT) decides each request, so a quota of 10 per
//! 60 s admits a burst of 10, then one request every 6 s. The same arithmetic
//! runs in the host's process, inside Redis, and in the Spin middleware over
//! the key-value store, so every store keeps the same behaviour.

use std::time::Duration;

use super::policy::Quota;

/// The verdict on one request, with what the response headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests still admitted right now.
    pub remaining: u32,
    /// Until the whole quota is available again.
    pub reset: Duration,
    /// Until the next request is admitted; zero when this one was.
    pub retry_after: Duration,
}

/// Milliseconds between two admissions at the sustained rate.
pub fn interval_ms(quota: Quota) -> u64 {
    (quota.window.as_millis() as u64 / u64::from(quota.limit)).max(1)
}

/// Decides a request at `now` for a bucket whose TAT is `tat` (0 when new);
/// returns the decision and the TAT to store when it was admitted.
pub fn decide(quota: Quota, tat: u64, now: u64) -> (Decision, Option<u64>) {
    let interval = interval_ms(quota);
    let window = quota.window.as_millis() as u64;
    let tat = tat.max(now);
    let next = tat + interval;
    let allow_at = next.saturating_sub(window);
    if now < allow_at {
        let denied = Decision {
            allowed: false,
            remaining: 0,
            reset: Duration::from_millis(tat - now),
            retry_after: Duration::from_millis(allow_at - now),
        };
        return (denied, None);
    }
    let admitted = Decision {
        allowed: true,
        remaining: ((window - (next - now)) / interval) as u32,
        reset: Duration::from_millis(next - now),
        retry_after: Duration::ZERO,
    };
    (admitted, Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_PER_MINUTE: Quota = Quota {
        limit: 10,
        window: Duration::from_secs(60),
    };

    #[test]
    fn a_burst_of_the_limit_then_one_per_interval() {
        let (mut tat, now) = (0, 1_000);
        for expected_remaining in (0..10).rev() {
            let (decision, next) = decide(TEN_PER_MINUTE, tat, now);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            tat = next.unwrap();
        }
        let (denied, next) = decide(TEN_PER_MINUTE, tat, now);
        assert!(!denied.allowed && next.is_none());
        assert_eq!(denied.retry_after, Duration::from_secs(6));
        assert_eq!(denied.reset, Duration::from_secs(60));
        // One interval later exactly one more is admitted.
        let (later, next) = decide(TEN_PER_MINUTE, tat, now + 6_000);
        assert!(later.allowed && later.remaining == 0);
        assert!(!decide(TEN_PER_MINUTE, next.unwrap(), now + 6_000).0.allowed);
        // A full window later the bucket is whole again.
        let (fresh, _) = decide(TEN_PER_MINUTE, tat, now + 60_000);
        assert_eq!(fresh.remaining, 9);
    }
}
