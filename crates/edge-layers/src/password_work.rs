//! A budget for password work. Checking or hashing a password (argon2)
//! takes tens of milliseconds of a core, so the routes that do it
//! (`PASSWORD_ROUTES`) share `MAX_PASSWORD_CHECKS` places, as many as the
//! cores by default. A request that finds no place free within half a
//! second is answered then, instead of queueing behind a flood of guesses:
//! 503 with `Retry-After`, or 429 when the client's own requests hold
//! places. A login under such a flood answers in its usual time or is told
//! when to retry, never seconds later. The per-address rate limit in front
//! keeps one address from taking every place for long. A request's body is
//! read before it takes a place (`body_limit`, outside, bounds that read),
//! and its place is given back when its handler ends, even if the client
//! has gone: a slow body or a dropped connection holds no place while the
//! hashing runs on.

use std::collections::HashMap;
use std::convert::Infallible;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use mhmanus_contract::problem::Problem;
use mhmanus_edge_rules::rate_limit::{network_of, normalize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Service, ServiceExt as _};
use tracing::Instrument;

use crate::client_addr::ClientAddr;
use crate::problem;
use crate::routing::Matched;

/// How long a request may wait for a place: a few checks' time.
const WAIT: Duration = Duration::from_millis(500);

/// Seconds a refused client is asked to wait.
const RETRY_AFTER_SECS: u32 = 1;

/// `PASSWORD_ROUTES` unless configured: login, registration, a password
/// change and the production test's hashing check.
pub const DEFAULT_PASSWORD_ROUTES: &str = "POST /v1/auth/login,POST /v1/auth/register,\
     PATCH /v1/auth/profile,GET /v1/production-test/all-features";

/// One `METHOD PATH` entry of `PASSWORD_ROUTES` (a canonical path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRoute {
    method: http::Method,
    path: String,
}

impl FromStr for PasswordRoute {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("expected METHOD PATH such as POST /v1/auth/login, got {text:?}");
        let (method, path) = text.trim().split_once(' ').ok_or_else(invalid)?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(invalid());
        }
        let method = method
            .to_ascii_uppercase()
            .parse::<http::Method>()
            .map_err(|_| invalid())?;
        Ok(PasswordRoute {
            method,
            path: normalize(path),
        })
    }
}

/// The places, and how many of them each client holds.
pub struct PasswordWork {
    places: Arc<Semaphore>,
    routes: Vec<PasswordRoute>,
    held: Mutex<HashMap<String, usize>>,
}

impl PasswordWork {
    /// `max` places (0: as many as the cores) for requests to `routes`.
    pub fn new(max: usize, routes: Vec<PasswordRoute>) -> Self {
        let max = match max {
            0 => std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            max => max,
        };
        PasswordWork {
            places: Arc::new(Semaphore::new(max)),
            routes,
            held: Mutex::default(),
        }
    }

    fn counts(&self, request: &Request) -> bool {
        let path = normalize(request.uri().path());
        // A HEAD is served as a GET, hashing included.
        let method = match request.method() {
            &http::Method::HEAD => &http::Method::GET,
            method => method,
        };
        self.routes
            .iter()
            .any(|route| route.method == method && route.path == path)
    }

    /// A place for `client`, or `None` after the wait.
    async fn take(self: &Arc<Self>, client: &str) -> Option<Place> {
        let permit = tokio::time::timeout(WAIT, self.places.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        *self.held_by().entry(client.to_owned()).or_default() += 1;
        Some(Place {
            work: self.clone(),
            client: client.to_owned(),
            _permit: permit,
        })
    }

    fn holds_any(&self, client: &str) -> bool {
        self.held_by().get(client).is_some_and(|&n| n > 0)
    }

    fn held_by(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A place held: given back, and its client's count lowered, on drop.
struct Place {
    work: Arc<PasswordWork>,
    client: String,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut held = self.work.held_by();
        if let Some(count) = held.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

impl PasswordWork {
    /// Serves `request` by `inner`: a component's request to a password
    /// route once it has a place, briefly waited for; every other at once.
    pub async fn serve<S>(self: &Arc<Self>, request: Request, inner: S) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send,
    {
        if request.extensions().get::<Matched>().is_none() || !self.counts(&request) {
            return answer(inner.oneshot(request).await);
        }
        let client = request.extensions().get::<ClientAddr>().map_or_else(
            || "unknown".to_owned(),
            |ClientAddr(addr)| network_of(addr.ip()),
        );
        let (parts, body) = request.into_parts();
        let Ok(body) = body.collect().await else {
            // Cut off: `body_limit` answers its 413 or 408 instead of this.
            return http::StatusCode::BAD_REQUEST.into_response();
        };
        let request = Request::from_parts(parts, Body::from(body.to_bytes()));
        if let Some(place) = self.take(&client).await {
            let handling = async move {
                let _place = place;
                answer(inner.oneshot(request).await)
            };
            return tokio::spawn(handling.in_current_span())
                .await
                .unwrap_or_else(|_| problem::response(Problem::new(500)));
        }
        let (status, detail, reason) = if self.holds_any(&client) {
            (
                429,
                "this client's other password checks are still running; retry shortly",
                "client",
            )
        } else {
            (
                503,
                "every password check the service runs at once is taken; retry shortly",
                "capacity",
            )
        };
        metrics::counter!("password_checks_refused_total", "reason" => reason).increment(1);
        tracing::info!(%client, status, "password check refused: no place free");
        let mut response = problem::response(
            Problem::new(status)
                .detail(detail)
                .instance(request.uri().path()),
        );
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        response
    }
}

fn answer(result: Result<Response, Infallible>) -> Response {
    match result {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_a_method_and_a_canonical_path() {
        let route: PasswordRoute = " patch //v1/auth/profile/ ".parse().unwrap();
        assert_eq!(route.method, http::Method::PATCH);
        assert_eq!(route.path, "/v1/auth/profile");
        for bad in ["/v1/auth/login", "POST v1/auth/login", "PO ST /x", ""] {
            assert!(bad.parse::<PasswordRoute>().is_err(), "{bad:?}");
        }
        let defaults = DEFAULT_PASSWORD_ROUTES
            .split(',')
            .map(str::parse::<PasswordRoute>);
        assert_eq!(defaults.filter(Result::is_ok).count(), 4);
    }
}
