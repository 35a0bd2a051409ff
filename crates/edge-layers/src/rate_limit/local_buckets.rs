//! The GCRA buckets of this process: a TAT per key, decided by the shared
//! arithmetic (`mhmanus_edge_rules::rate_limit::gcra`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use mhmanus_edge_rules::rate_limit::gcra::{Decision, decide};
use mhmanus_edge_rules::rate_limit::policy::Quota;

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
    use std::time::Duration;

    use super::*;

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
