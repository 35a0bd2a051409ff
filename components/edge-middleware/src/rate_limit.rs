//! Rate limiting per client and route: the host's policy, arithmetic and
//! headers, with each bucket's TAT in Spin's key-value store (the `default`
//! store of the component in front of which this runs), so that under a
//! Redis runtime config every Spin instance shares the buckets. The store
//! has no compare-and-swap: two requests of one client at the same instant
//! may both take the last place of a quota.

use std::net::SocketAddr;

use http::HeaderMap;
use http::request::Parts;
use mhmanus_domain::health;
use mhmanus_edge_rules::rate_limit::gcra::{self, Decision};
use mhmanus_edge_rules::rate_limit::policy::Quota;
use mhmanus_edge_rules::rate_limit::{self as rules, UNROUTED, normalize};
use mhmanus_edge_rules::versions::version_of;
use spin_sdk::key_value::Store;

use crate::settings::{Settings, quota};

/// How one request fared.
pub(crate) enum Verdict {
    /// No limit applies.
    Unlimited,
    /// Admitted or refused, with the quota's headers.
    Decided {
        decision: Decision,
        quota: Quota,
        headers: [(&'static str, String); 5],
    },
}

pub(crate) async fn decide(request: &Parts, settings: &Settings) -> Verdict {
    let path = normalize(request.uri.path());
    if health::is_health_path(&path) {
        return Verdict::Unlimited;
    }
    let path = canonical(path, settings.api_default_version);
    // An exact entry beats a subtree (the list is sorted so).
    let method = request.method.as_str();
    let route = settings
        .rate_limit_routes
        .iter()
        .find(|r| r.covers(method, &path));
    let (policy, name, bucket, by_address) = match route {
        Some(route) => (route.policy, "route", route.route(), true),
        // The catch-all route's paths share one bucket per client, so
        // probing random URLs does not mint buckets.
        None if last(&request.headers, "spin-matched-route") == Some("/...") => {
            (settings.rate_limit, "default", UNROUTED.to_owned(), false)
        }
        None => (settings.rate_limit, "default", path, false),
    };
    let Some(quota) = quota(policy) else {
        return Verdict::Unlimited;
    };
    let client = client_key(&request.headers, settings, by_address);
    let decision = match take(&format!("rate-limit|{bucket}|{client}"), quota).await {
        Ok(decision) => decision,
        Err(error) => {
            // Failing open: an edge that refuses everything when its store
            // is missing would take the service down with it.
            eprintln!("edge-middleware: rate limit store: {error}; request admitted");
            return Verdict::Unlimited;
        }
    };
    Verdict::Decided {
        decision,
        quota,
        headers: rules::headers(name, quota, &decision),
    }
}

/// The versioned path an unversioned one is served as (`/auth/login` is
/// `/v1/auth/login`), as the host's versioning layer rewrites it before its
/// limiter: both count in one bucket, and route entries name canonical paths.
fn canonical(path: String, default_version: u32) -> String {
    if version_of(&path).is_some() || path == "/" {
        path
    } else {
        format!("/v{default_version}{path}")
    }
}

/// The client: the peer Spin saw (`spin-client-addr`), or the client a
/// trusted proxy in front names, by the host's rule.
fn client_key(headers: &HeaderMap, settings: &Settings, by_address: bool) -> String {
    let subject = settings
        .tokens
        .as_ref()
        .filter(|_| !by_address)
        .and_then(|tokens| {
            tokens.subject_of(headers.get(http::header::AUTHORIZATION)?.to_str().ok()?)
        });
    let address = peer(headers).map(|peer| {
        let forwarded = headers
            .get_all(settings.proxies.header().name())
            .iter()
            .map(|value| value.to_str().unwrap_or(""));
        settings.proxies.client(peer, forwarded).ip()
    });
    rules::client_key(subject, address)
}

/// The TCP peer, as Spin says it.
pub(crate) fn peer(headers: &HeaderMap) -> Option<SocketAddr> {
    last(headers, "spin-client-addr")?.parse().ok()
}

/// The last value of a header: Spin appends its `spin-*` headers after
/// whatever the client sent under the same name.
fn last<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(name).iter().next_back()?.to_str().ok()
}

/// Decides the request against the bucket `key`, storing its new TAT.
async fn take(key: &str, quota: Quota) -> Result<Decision, spin_sdk::key_value::Error> {
    let store = Store::open_default().await?;
    let tat = store
        .get(key)
        .await?
        .and_then(|bytes| String::from_utf8(bytes).ok()?.parse().ok())
        .unwrap_or(0);
    let (decision, next) = gcra::decide(quota, tat, now_millis());
    if let Some(next) = next {
        store.set(key, next.to_string()).await?;
    }
    Ok(decision)
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |since| since.as_millis() as u64)
}
