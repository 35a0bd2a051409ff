//! Answers `ok` at once, reading nothing: against the production test's
//! trivial handler, what a reused instance costs with no guest work in it.

use spin_sdk::http::Request;
use spin_sdk::http_service;

#[http_service]
async fn handle(_request: Request) -> http::Response<String> {
    http::Response::new("ok".to_owned())
}
