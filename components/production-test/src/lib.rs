//! The service checks itself, as the original system's `/production-test/*`
//! suite did: configuration (secrets redacted), a cheap route to watch the
//! rate limiter, bearer and role checks, a large body for compression, and
//! `all-features`, which runs every check for real.
//!
//! Runs unchanged under Spin and under the native host; the host tells it
//! which edge layers are in front through the `edge_layers` variable
//! (empty under Spin), never through anything a client sends.

mod config;
mod features;
mod redact;
mod settings;

use http::header::ALLOW;
use mhmanus_domain::auth::role::Role;
use mhmanus_domain::problem::Problem;
use mhmanus_domain::selftest;
use mhmanus_guest::auth_guard;
use mhmanus_guest::response::{self, Response};
use serde_json::json;
use spin_sdk::http::Request;
use spin_sdk::http_service;

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
    match route {
        "config" => response::json(200, &config::report(settings)),
        "rate-limit" => rate_limit(settings, req.headers()),
        "compression" => response::json(200, &selftest::compression_payload()),
        _ => authenticated(route, settings, req.headers(), &path).await,
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

/// What the limiter is watching: the client address the runtime gave us,
/// and whether a limiter is in front at all.
fn rate_limit(settings: &Settings, headers: &http::HeaderMap) -> Response {
    let client = headers
        .get("spin-client-addr")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    let limited = settings.has_layer("rate-limit");
    response::json(
        200,
        &json!({
            "message": if limited {
                "rate limited by the host: watch the RateLimit headers, and a 429 once the quota is spent"
            } else {
                "no rate limiter in this runtime; the platform in front may have one"
            },
            "clientAddr": client,
            "runtime": settings.host_runtime,
            "rateLimited": limited,
        }),
    )
}

/// The routes behind the bearer door.
async fn authenticated(
    route: &str,
    settings: &Settings,
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
    let claims = match auth_guard::authenticate(headers, &jwt, path) {
        Ok(claims) => claims,
        Err(refused) => return refused,
    };
    match route {
        "protected" => response::json(
            200,
            &json!({ "message": "authenticated", "claims": claims }),
        ),
        "admin" => match auth_guard::require_role(&claims, Role::Admin, path) {
            Ok(()) => response::json(
                200,
                &json!({ "message": "Admin role confirmed", "claims": claims }),
            ),
            Err(refused) => refused,
        },
        _ => {
            let (status, body) = features::run(settings, &jwt, &claims).await;
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
