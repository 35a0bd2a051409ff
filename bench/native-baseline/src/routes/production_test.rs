//! The production-test component's cheap routes.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::response::Response;
use mhmanus_domain::selftest;
use serde_json::json;

pub(super) async fn rate_limit(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    super::json(
        200,
        &json!({
            "message": "no rate limiter in this runtime; the platform in front may have one",
            "clientAddr": peer.to_string(),
            "runtime": "native-baseline",
            "rateLimited": false,
        }),
    )
}

pub(super) async fn compression() -> Response {
    super::json(200, &selftest::compression_payload())
}
