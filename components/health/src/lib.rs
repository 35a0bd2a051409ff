//! Dependency checks as `application/health+json`.
//!
//! Runs unchanged under Spin and under the native host: the database is
//! reached through `spin:sqlite` (the default) or `spin:postgres` (when the
//! `database_url` variable names PostgreSQL), Redis through `spin:redis` when
//! `redis_url` is set. The host adds its own checks (memory, disk) around this.

mod checks;

use mhmanus_domain::health::{MEDIA_TYPE, Report};
use mhmanus_domain::problem::{self, Problem};
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> Response {
    let path = req.uri().path();
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut refused = problem_response(
            Problem::new(405)
                .detail("health routes answer GET and HEAD")
                .instance(path),
        );
        refused.headers_mut().insert(
            http::header::ALLOW,
            http::HeaderValue::from_static("GET, HEAD"),
        );
        return refused;
    }
    match path {
        "/health" | "/health/ready" => report_response(checks::run().await),
        // The native host answers liveness itself; under Spin this component does.
        "/health/live" => report_response(Report::new(
            mhmanus_domain::SERVICE_ID,
            env!("CARGO_PKG_VERSION"),
        )),
        _ => problem_response(
            Problem::new(404)
                .detail(format!("no health route {path}"))
                .instance(path),
        ),
    }
}

fn report_response(report: Report) -> Response {
    let body = serde_json::to_string(&report).expect("a report always serializes");
    json_response(report.http_status(), MEDIA_TYPE, body)
}

fn problem_response(problem: Problem) -> Response {
    json_response(problem.status, problem::MEDIA_TYPE, problem.to_json())
}

type Response = http::Response<String>;

fn json_response(status: u16, content_type: &str, body: String) -> Response {
    http::Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(body)
        .expect("static headers are valid")
}
