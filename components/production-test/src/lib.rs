//! The service checks itself, as the original system's `/production-test/*`
//! suite did: configuration (secrets redacted), a cheap route to watch the
//! rate limiter, bearer and role checks, a large body for compression, and
//! `all-features`, which runs every check for real.
//!
//! Runs unchanged under Spin and under the native host; which edge layers
//! are in front it learns from the host's variables or the edge
//! middleware's signed attestation (`edge`), never from a client's word.

mod config;
mod edge;
mod features;
mod redact;
mod settings;

use http::header::{ALLOW, AUTHORIZATION};
use mhmanus_domain::auth::jwt::{Claims, JwtSettings};
use mhmanus_domain::auth::role::Role;
use mhmanus_domain::clock;
use mhmanus_domain::problem::Problem;
use mhmanus_domain::selftest;
use mhmanus_guest::auth_guard::{self, Caller};
use mhmanus_guest::db::Db;
use mhmanus_guest::response::{self, Failure, Response};
use mhmanus_guest::{admin, schema};
use serde_json::json;
use spin_sdk::http::Request;
use spin_sdk::http_service;

use crate::edge::EdgeInFront;
use crate::settings::Settings;

const ROUTES: [&str; 6] = [
    "config",
    "rate-limit",
    "protected",
    "admin",
    "compression",
    "all-features",
];

#[http_service]
async fn handle(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let Some(route) = route_of(&path) else {
        return response::problem(
            Problem::new(404)
                .detail(format!(
                    "no such route; production-test serves {}",
                    ROUTES.join(", ")
                ))
                .instance(path),
        );
    };
    // HEAD is GET without the body (the runtime drops it).
    if !matches!(*req.method(), http::Method::GET | http::Method::HEAD) {
        return response::with_header(
            response::problem(
                Problem::new(405)
                    .detail(format!("{path} answers GET and HEAD"))
                    .instance(&path),
            ),
            ALLOW,
            "GET, HEAD",
        );
    }
    let settings = Settings::current().await;
    let edge = EdgeInFront::of(settings, req.headers());
    match route {
        "config" => config(settings, &edge, req.headers(), &path).await,
        "rate-limit" => rate_limit(settings, &edge, req.headers()),
        "compression" => response::json(200, &selftest::compression_payload()),
        _ => authenticated(route, settings, &edge, req.headers(), &path).await,
    }
}

/// `config` for `/v1/production-test/config` or `/production-test/config`.
fn route_of(path: &str) -> Option<&'static str> {
    let rest = path
        .strip_prefix("/v1")
        .filter(|r| r.starts_with('/'))
        .unwrap_or(path);
    let name = rest.strip_prefix("/production-test/")?;
    ROUTES.into_iter().find(|route| *route == name)
}

/// The configuration report; its URLs (passwords hidden) only for an
/// Admin's bearer token, as they name hosts and users. A missing or
/// unusable token gets the public report: the route is not a bearer door.
async fn config(
    settings: &Settings,
    edge: &EdgeInFront,
    headers: &http::HeaderMap,
    path: &str,
) -> Response {
    let db = Db::open(&settings.database_url).await.ok();
    let admin_state = admin::state(db.as_ref(), &settings.admin_email).await;
    let mut for_admin = false;
    if let (Some(db), Ok(jwt), true) = (&db, settings.jwt(), headers.contains_key(AUTHORIZATION))
        && let Ok(claims) = auth_guard::verify(headers, &jwt, path)
        && let Ok(caller) = admit(db, claims, path).await
    {
        for_admin = caller.roles().contains(&Role::Admin);
    }
    response::json(200, &config::report(settings, edge, admin_state, for_admin))
}

/// What the limiter is watching: the client address the runtime gave us
/// (without its port: that is the connection's, not the client's), and
/// whether a limiter is in front at all.
fn rate_limit(settings: &Settings, edge: &EdgeInFront, headers: &http::HeaderMap) -> Response {
    let client = headers
        .get("spin-client-addr")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| "unknown".to_owned(), without_port);
    let limited = edge.has("rate-limit");
    let message = if limited {
        format!(
            "rate limited by {}: watch the RateLimit headers, and a 429 once the quota is spent",
            edge.provided_by
        )
    } else {
        "no rate limiter in this runtime; the platform in front may have one".to_owned()
    };
    response::json(
        200,
        &json!({
            "message": message,
            "clientAddr": client,
            "runtime": settings.host_runtime,
            "rateLimited": limited,
        }),
    )
}

/// `203.0.113.7:5123` is `203.0.113.7`, `[2001:db8::1]:5123` is
/// `2001:db8::1`; anything else as it is.
fn without_port(addr: &str) -> String {
    addr.parse::<std::net::SocketAddr>()
        .map_or_else(|_| addr.to_owned(), |addr| addr.ip().to_string())
}

/// The shared bearer door, on a connection of its own, with the accounts
/// schema made current first (this component may be asked before auth).
async fn admit(db: &Db, claims: Claims, path: &str) -> Result<Caller, Failure> {
    schema::ensure(db, clock::now_ms()).await?;
    auth_guard::admit(db, claims, path).await
}

async fn caller(
    jwt: &JwtSettings,
    settings: &Settings,
    headers: &http::HeaderMap,
    path: &str,
) -> Result<Caller, Failure> {
    let claims = auth_guard::verify(headers, jwt, path)?;
    let db = Db::open(&settings.database_url).await?;
    admit(&db, claims, path).await
}

/// The routes behind the bearer door.
async fn authenticated(
    route: &str,
    settings: &Settings,
    edge: &EdgeInFront,
    headers: &http::HeaderMap,
    path: &str,
) -> Response {
    let jwt = match settings.jwt() {
        Ok(jwt) => jwt,
        Err(e) => {
            eprintln!("production-test: misconfigured: {e}");
            return response::problem(
                Problem::new(503)
                    .detail("the service is misconfigured")
                    .instance(path),
            );
        }
    };
    let caller = match caller(&jwt, settings, headers, path).await {
        Ok(caller) => caller,
        Err(refused) => return refused.into_response(path),
    };
    match route {
        "protected" => response::json(
            200,
            &json!({ "message": "authenticated", "claims": caller.claims, "roles": caller.roles() }),
        ),
        "admin" => match caller.require(Role::Admin, path) {
            Ok(()) => response::json(
                200,
                &json!({ "message": "Admin role confirmed", "claims": caller.claims, "roles": caller.roles() }),
            ),
            Err(refused) => refused,
        },
        _ => {
            // Every check for real costs an argon2 hash and round trips to
            // each backend: in production, an Admin's tool, not any User's.
            if settings.production
                && let Err(refused) = caller.require(Role::Admin, path)
            {
                return refused;
            }
            let (status, body) = features::run(settings, edge, &jwt, &caller).await;
            response::json(status, &body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_and_unversioned_paths_name_the_same_route() {
        assert_eq!(route_of("/v1/production-test/config"), Some("config"));
        assert_eq!(
            route_of("/production-test/all-features"),
            Some("all-features")
        );
        assert_eq!(route_of("/v1/production-test/nothing"), None);
        assert_eq!(route_of("/v2/production-test/config"), None);
        assert_eq!(route_of("/v1production-test/config"), None);
    }
}
