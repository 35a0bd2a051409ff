//! The routes the bench drives, at the paths the components serve them.

mod auth;
mod health;
mod production_test;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mhmanus_contract::problem::{self, Problem};

use crate::App;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/health", get(health::full))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/profile", get(auth::profile))
        .route(
            "/v1/production-test/rate-limit",
            get(production_test::rate_limit),
        )
        .route(
            "/v1/production-test/compression",
            get(production_test::compression),
        )
        .with_state(app)
}

/// A body with its media type, never cached (as the components answer).
fn answer(status: u16, media_type: &'static str, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (status, headers, body).into_response()
}

fn json(status: u16, body: &serde_json::Value) -> Response {
    answer(status, "application/json", body.to_string())
}

fn problem(problem: Problem) -> Response {
    answer(problem.status, problem::MEDIA_TYPE, problem.to_json())
}

/// A failure of the store, as the components report one: 503, no details.
fn unavailable(error: anyhow::Error, path: &str) -> Response {
    tracing::error!(error = %format!("{error:#}"), "database failed");
    problem(
        Problem::new(503)
            .detail("the database is unavailable")
            .instance(path),
    )
}
