//! Buckets in Redis, so every host replica counts against one limit. Each
//! decision is one script, atomic in Redis, timed by Redis's own clock. When
//! Redis cannot answer quickly the decision is made in process instead:
//! the limiter degrades, requests never fail because its store is down.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use mhmanus_contract::health::{Check, Status};

use mhmanus_edge_rules::rate_limit::gcra::{self, Decision};
use mhmanus_edge_rules::rate_limit::policy::Quota;

use super::local_buckets::LocalStore;

/// How the limiter reaches Redis. The host lends the connections its
/// components use (cached per address, checked at start-up), so the
/// limiter opens none of its own.
pub trait Redis: Send + Sync + 'static {
    /// Runs `command`: its reply, or why there is none.
    fn query(&self, command: redis::Cmd) -> BoxFuture<'static, Result<redis::Value, String>>;

    /// Where Redis is, fit for logs (no password).
    fn address(&self) -> String;
}

/// `decide` of `gcra.rs`, in Lua. Returns admitted (0/1), the TAT to report
/// from, and Redis's now, in milliseconds.
const SCRIPT: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
local next = tat + interval
if now < next - window then
  return {0, tat, now}
end
redis.call('SET', KEYS[1], next, 'PX', next - now)
return {1, tat, now}
"#;

const KEY_PREFIX: &str = "mhmanus:ratelimit:";

/// A decision waits no longer than this for Redis before falling back.
const DECISION_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, decisions stay in process this long before Redis is
/// tried again, so a Redis that hangs costs one request a second, not all.
const RETRY_AFTER: Duration = Duration::from_secs(1);

pub(super) struct RemoteBuckets {
    redis: Arc<dyn Redis>,
    fallback: LocalStore,
    degraded: Mutex<Option<Degraded>>,
}

/// Why decisions are made in process, and since when.
struct Degraded {
    reason: String,
    at: Instant,
}

impl RemoteBuckets {
    pub(super) fn new(redis: Arc<dyn Redis>) -> Self {
        RemoteBuckets {
            redis,
            fallback: LocalStore::default(),
            degraded: Mutex::new(None),
        }
    }

    /// The decision, and which store made it (`redis` or `fallback`).
    pub(super) async fn decide(&self, key: &str, quota: Quota) -> (Decision, &'static str) {
        if self.recently_failed() {
            return (self.fallback.decide(key, quota), "fallback");
        }
        let remote = tokio::time::timeout(DECISION_TIMEOUT, self.remote(key, quota)).await;
        let failure = match remote {
            Ok(Ok(decision)) => {
                if self.set_degraded(None) {
                    tracing::info!("rate limiter: Redis answers again; limits are shared");
                }
                return (decision, "redis");
            }
            Ok(Err(reason)) => reason,
            Err(_) => format!("Redis did not answer within {DECISION_TIMEOUT:?}"),
        };
        if self.set_degraded(Some(failure.clone())) {
            tracing::warn!(
                address = %self.redis.address(),
                error = %failure,
                "rate limiter: Redis unavailable, counting in process until it returns"
            );
        }
        (self.fallback.decide(key, quota), "fallback")
    }

    fn recently_failed(&self) -> bool {
        let degraded = self.degraded.lock().unwrap_or_else(|e| e.into_inner());
        degraded
            .as_ref()
            .is_some_and(|d| d.at.elapsed() < RETRY_AFTER)
    }

    async fn remote(&self, key: &str, quota: Quota) -> Result<Decision, String> {
        let mut eval = redis::cmd("EVAL");
        eval.arg(SCRIPT)
            .arg(1)
            .arg(format!("{KEY_PREFIX}{key}"))
            .arg(gcra::interval_ms(quota))
            .arg(quota.window.as_millis() as u64);
        let reply = self.redis.query(eval).await?;
        let (admitted, tat, now): (u8, u64, u64) =
            redis::from_redis_value(reply).map_err(|e| e.to_string())?;
        let (decision, _) = gcra::decide(quota, tat, now);
        // The script decided atomically; the arithmetic above only re-derives
        // the figures for the headers, and must agree with it.
        debug_assert_eq!(decision.allowed, admitted == 1);
        Ok(Decision {
            allowed: admitted == 1,
            ..decision
        })
    }

    /// Records the store's state; true when that changed it.
    fn set_degraded(&self, reason: Option<String>) -> bool {
        let mut degraded = self.degraded.lock().unwrap_or_else(|e| e.into_inner());
        let changed = degraded.is_some() != reason.is_some();
        *degraded = reason.map(|reason| Degraded {
            reason,
            at: Instant::now(),
        });
        changed
    }

    /// The limiter's line in `/health`: a warning while it counts in process.
    pub(super) fn check(&self) -> Check {
        let degraded = self
            .degraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|d| d.reason.clone());
        let check = Check::pass().component("rate-limiter", "datastore");
        match degraded {
            None => check.observed("redis", "backend"),
            Some(reason) => Check {
                status: Status::Warn,
                output: Some(format!(
                    "Redis unavailable ({reason}); limits are counted per replica until it returns"
                )),
                ..check.observed("in-process", "backend")
            },
        }
    }
}
