//! Rate limiting per client and route, as the original system's throttler:
//! `RATE_LIMIT` (10 per 60 s) for every route, `RATE_LIMIT_ROUTES` for
//! stricter or looser ones. The client is the verified JWT subject when the
//! request carries a valid bearer token, else its address (IPv6 by /64).
//! Buckets live in Redis when `REDIS_URL` is set, else in process.
//! Health and metrics are never limited.

mod known_paths;
mod local_buckets;
mod remote_buckets;

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use mhmanus_contract::health::{self, Check};
use mhmanus_contract::problem::Problem;
use mhmanus_manifest::Routes;

use mhmanus_edge_rules::rate_limit::gcra::Decision;
use mhmanus_edge_rules::rate_limit::policy::{Policy, Quota};
use mhmanus_edge_rules::rate_limit::{self as rules, UNROUTED, normalize};

use self::known_paths::KnownPaths;
use self::local_buckets::LocalStore;
use self::remote_buckets::RemoteBuckets;
use super::client_addr::ClientAddr;
use crate::config::EdgeConfig;
use crate::problem;
use crate::routing::Matched;

pub use self::remote_buckets::Redis;
pub use mhmanus_edge_rules::rate_limit::policy::{self, RouteLimit};

/// How one request is limited.
struct Applied {
    policy: Policy,
    /// `default`, or `route` for a `RATE_LIMIT_ROUTES` entry.
    name: &'static str,
    /// The bucket family: the route entry, the path, or the
    /// client's one bucket of unrouted paths.
    bucket: String,
    /// A served path not known to be a route yet: it also counts in the
    /// unrouted bucket, and is learnt from the component's answer.
    unknown: Option<String>,
    /// Routes with their own policy (login, register) count per address
    /// whatever token comes with them: an account's token must not buy a
    /// fresh quota of login attempts.
    by_address: bool,
}

/// The verified subject of an `Authorization` header's bearer token, or
/// `None`: the limiter tells accounts apart without knowing how tokens
/// are made.
pub type Subject = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub struct RateLimiter {
    default: Policy,
    limits: Vec<RouteLimit>,
    store: Store,
    subject: Option<Subject>,
    known: KnownPaths,
}

enum Store {
    Local(LocalStore),
    Remote(RemoteBuckets),
}

impl RateLimiter {
    /// A limiter recognising clients with a token by its `subject`, with
    /// its buckets in `redis` when given (else in process). Warns about
    /// configured routes the manifest's `routes` do not serve: such an
    /// entry has no effect, which is worth knowing.
    pub fn new(
        edge: &EdgeConfig,
        routes: &Routes,
        subject: Option<Subject>,
        redis: Option<Arc<dyn Redis>>,
    ) -> Self {
        for route in &edge.rate_limit_routes {
            if !routes.serves(route.example_path()) {
                tracing::warn!(
                    route = %route.route(),
                    "RATE_LIMIT_ROUTES: no route in the manifest serves this path; the entry has no effect (name canonical paths, /v1/...)"
                );
            }
        }
        let store = match redis {
            Some(redis) => Store::Remote(RemoteBuckets::new(redis)),
            None => Store::Local(LocalStore::default()),
        };
        let mut limits = edge.rate_limit_routes.clone();
        limits.sort_by_key(|route| route.specificity());
        RateLimiter {
            default: edge.rate_limit,
            limits,
            store,
            subject,
            known: KnownPaths::default(),
        }
    }

    /// How a `method` request to `path` is limited, `routed` when a
    /// manifest route serves it. Paths are compared with empty segments
    /// dropped, as the manifest's routes match them, so `/v1//auth/login/`
    /// counts as `/v1/auth/login`.
    fn applied(&self, method: &str, path: &str, routed: bool) -> Applied {
        let path = normalize(path);
        // Most specific first (see `new`): an exact entry beats a subtree.
        if let Some(route) = self.limits.iter().find(|r| r.covers(method, &path)) {
            return Applied {
                policy: route.policy,
                name: "route",
                bucket: route.route(),
                unknown: None,
                by_address: true,
            };
        }
        // Paths no route serves share one bucket per client, so probing
        // random URLs does not mint buckets; so do the first requests to
        // a served path, until a component has answered it with a success
        // (`known_paths`): under a wildcard route, probes are limited too.
        let (bucket, unknown) = if self.known.contains(&path) {
            (path, None)
        } else if routed {
            (path.clone(), Some(path))
        } else {
            (UNROUTED.to_owned(), None)
        };
        Applied {
            policy: self.default,
            name: "default",
            bucket,
            unknown,
            by_address: false,
        }
    }

    fn client_key(
        &self,
        applied: &Applied,
        headers: &HeaderMap,
        client: Option<ClientAddr>,
    ) -> String {
        let subject = self
            .subject
            .as_ref()
            .filter(|_| !applied.by_address)
            .and_then(|subject| subject(headers.get(http::header::AUTHORIZATION)?.to_str().ok()?));
        rules::client_key(subject, client.map(|ClientAddr(addr)| addr.ip()))
    }

    async fn decide(&self, key: &str, quota: Quota) -> Decision {
        let (decision, backend) = match &self.store {
            Store::Local(store) => (store.decide(key, quota), "in-process"),
            Store::Remote(store) => store.decide(key, quota).await,
        };
        let verdict = if decision.allowed {
            "allowed"
        } else {
            "limited"
        };
        metrics::counter!("rate_limit_decisions_total", "decision" => verdict, "backend" => backend)
            .increment(1);
        decision
    }

    /// The limiter's line in `/health`, when it depends on Redis.
    pub fn check(&self) -> Option<Check> {
        match &self.store {
            Store::Local(_) => None,
            Store::Remote(store) => Some(store.check()),
        }
    }
}

/// The limiter's word on one request, given before it is served.
pub struct Verdict {
    applied: Applied,
    quota: Quota,
    client: String,
    decision: Decision,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.decision.allowed
    }

    /// The 429 for a request to `path` that was not allowed.
    pub fn refusal(&self, path: &str) -> Response {
        let retry = rules::seconds(self.decision.retry_after);
        tracing::info!(route = %self.applied.bucket, client = %self.client, retry_after = retry, "rate limited");
        let problem = Problem::new(429)
            .detail(rules::limited_detail(self.quota, &self.decision))
            .instance(path);
        let mut response = problem::response(problem);
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(retry));
        response
    }
}

impl RateLimiter {
    /// Whether `request` may be served, or `None` when it is not limited.
    /// (What it needs of the request is read before the wait: a request's
    /// body cannot be shared across threads.)
    pub fn verdict<B>(
        &self,
        request: &http::Request<B>,
    ) -> impl Future<Output = Option<Verdict>> + Send + '_ {
        let limited = self.limited(request);
        async move {
            let (applied, quota, client) = limited?;
            let shared = match applied.unknown {
                Some(_) => Some(self.decide(&format!("{UNROUTED}|{client}"), quota).await),
                None => None,
            };
            let decision = match shared {
                Some(shared) if !shared.allowed => shared,
                _ => {
                    self.decide(&format!("{}|{client}", applied.bucket), quota)
                        .await
                }
            };
            Some(Verdict {
                applied,
                quota,
                client,
                decision,
            })
        }
    }

    /// How `request` is limited, its quota and its client, unless it is not.
    fn limited<B>(&self, request: &http::Request<B>) -> Option<(Applied, Quota, String)> {
        let path = request.uri().path();
        if health::is_health_path(path) {
            return None;
        }
        let routed = request.extensions().get::<Matched>().is_some();
        let applied = self.applied(request.method().as_str(), path, routed);
        let Policy::Limited(quota) = applied.policy else {
            return None;
        };
        let client = self.client_key(
            &applied,
            request.headers(),
            request.extensions().get::<ClientAddr>().copied(),
        );
        Some((applied, quota, client))
    }

    /// Reports the quota on the answer, replacing any a component set, and
    /// learns from it whether a path is a route.
    pub fn finish(&self, verdict: Verdict, response: &mut Response) {
        if let Some(path) = verdict.applied.unknown.filter(|_| verdict.decision.allowed) {
            self.known.learn(path, response.status());
        }
        set_headers(
            response.headers_mut(),
            verdict.applied.name,
            verdict.quota,
            &verdict.decision,
        );
    }
}

/// The quota's headers, replacing any a component set.
fn set_headers(headers: &mut HeaderMap, name: &str, quota: Quota, decision: &Decision) {
    for (header, value) in rules::headers(name, quota, decision) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header, value);
        }
    }
}
