//! Accounts and tokens: register, login, refresh, logout, profile and user
//! administration, as `application/json` with `application/problem+json`
//! errors.
//!
//! Runs unchanged under Spin and under the native host: accounts live in
//! `spin:sqlite` (the default) or `spin:postgres` (when `database_url` names
//! PostgreSQL); the JWT secret and the bootstrap Admin come from
//! `spin:variables`. The schema migrates itself on an instance's first
//! request.

mod bootstrap;
mod fields;
mod handlers;
mod request;
mod response;
mod routes;
mod settings;
mod store;
mod view;

use std::sync::atomic::{AtomicBool, Ordering};

use http::header::ALLOW;
use mhmanus_domain::clock;
use mhmanus_domain::problem::Problem;
use mhmanus_guest::auth_guard;
use spin_sdk::http::Request;
use spin_sdk::http_service;

use crate::handlers::Ctx;
use crate::response::Response;
use crate::routes::Resolved;
use crate::store::StoreError;

/// Set once this instance has migrated the schema and bootstrapped the
/// Admin; until then every request tries (a failure is a 503, and the next
/// request tries again).
static READY: AtomicBool = AtomicBool::new(false);

#[http_service]
async fn handle(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let settings = match settings::current().await {
        Ok(settings) => settings,
        Err(e) => {
            // The reason is for the operator, not for clients (it may
            // describe the secret, e.g. its length); it never holds a value.
            eprintln!("auth: misconfigured: {e}");
            return response::problem(
                Problem::new(503)
                    .detail("the service is misconfigured")
                    .instance(path),
            );
        }
    };
    let action = match routes::resolve(parts.method.as_str(), path) {
        Resolved::Found(action) => action,
        Resolved::WrongMethod { allow } => {
            return response::with_header(
                response::problem(
                    Problem::new(405)
                        .detail(format!("{path} answers {allow}"))
                        .instance(path),
                ),
                ALLOW,
                allow,
            );
        }
        Resolved::NotFound => {
            return response::problem(
                Problem::new(404)
                    .detail("there is no such route")
                    .instance(path),
            );
        }
    };
    let mut ctx = Ctx::new(
        settings,
        &parts.headers,
        path,
        parts.uri.query().unwrap_or_default(),
    );
    if let Err(e) = ensure_ready(&ctx).await {
        return response::unavailable(e, path);
    }
    match handlers::dispatch(&mut ctx, action, body).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(path),
    }
}

/// Migrates the schema and bootstraps the Admin, on the request's own
/// connection, unless this instance already has.
async fn ensure_ready(ctx: &Ctx<'_>) -> Result<(), StoreError> {
    if READY.load(Ordering::Acquire) {
        return Ok(());
    }
    let db = ctx.db().await?;
    let now_ms = clock::now_ms();
    mhmanus_guest::schema::ensure(db, now_ms).await?;
    bootstrap::ensure_admin(db, ctx.settings, now_ms).await?;
    READY.store(true, Ordering::Release);
    Ok(())
}
