//! The generic cell rate algorithm: one timestamp per bucket (the
//! theoretical arrival time, TAT) decides each request, so a quota of 10 per
//! 60 s admits a burst of 10, then one request every 6 s. The same arithmetic
//! runs in process here and inside Redis (`remote_buckets.rs`), so a replica
//! that falls back to its own store keeps the same behaviour.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::policy::Quota;

/// The verdict on one request, with what the response headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Decision {
    pub allowed: bool,
    /// Requests still admitted right now.
    pub remaining: u32,
    /// Until the whole quota is available again.
    pub reset: Duration,
    /// Until the next request is admitted; zero when this one was.
    pub retry_after: Duration,
}

/// Milliseconds between two admissions at the sustained rate.
pub(super) fn interval_ms(quota: Quota) -> u64 {
    (quota.window.as_millis() as u64 / u64::from(quota.limit)).max(1)
}

/// Decides a request at `now` for a bucket whose TAT is `tat` (0 when new);
/// returns the decision and the TAT to store when it was admitted.
pub(super) fn decide(quota: Quota, tat: u64, now: u64) -> (Decision, Option<u64>) {
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

/// Buckets in this process: a TAT per key. Expired buckets are swept when
/// the map has doubled since the last sweep, so memory follows the number
/// of clients active within one window.
pub(super) struct LocalStore {
    epoch: Instant,
    buckets: Mutex<Buckets>,
}

struct Buckets {
    tats: HashMap<String, u64>,
    sweep_at: usize,
}

const FIRST_SWEEP: usize = 1024;

impl Default for LocalStore {
    fn default() -> Self {
        LocalStore {
            epoch: Instant::now(),
            buckets: Mutex::new(Buckets {
                tats: HashMap::new(),
                sweep_at: FIRST_SWEEP,
            }),
        }
    }
}

impl LocalStore {
    pub(super) fn decide(&self, key: &str, quota: Quota) -> Decision {
        // Starts at 1 ms so that a TAT of 0 always means "new bucket".
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let tat = buckets.tats.get(key).copied().unwrap_or(0);
        let (decision, next) = decide(quota, tat, now);
        if let Some(next) = next {
            match buckets.tats.get_mut(key) {
                Some(stored) => *stored = next,
                None => {
                    buckets.tats.insert(key.to_owned(), next);
                }
            }
            if buckets.tats.len() >= buckets.sweep_at {
                buckets.tats.retain(|_, tat| *tat > now);
                buckets.sweep_at = (buckets.tats.len() * 2).max(FIRST_SWEEP);
            }
        }
        decision
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tats
            .len()
    }
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

    #[test]
    fn the_local_store_keeps_buckets_apart_and_sweeps_expired_ones() {
        let store = LocalStore::default();
        let quota = Quota {
            limit: 1,
            window: Duration::from_secs(1),
        };
        assert!(store.decide("a", quota).allowed);
        assert!(!store.decide("a", quota).allowed);
        assert!(store.decide("b", quota).allowed);
        std::thread::sleep(Duration::from_millis(1_100));
        for i in 0..FIRST_SWEEP {
            store.decide(&format!("k{i}"), quota);
        }
        assert!(
            store.len() <= FIRST_SWEEP,
            "a and b expired and were swept: {}",
            store.len()
        );
        assert!(store.decide("a", quota).allowed);
    }
}
