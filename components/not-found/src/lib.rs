//! The catch-all route's component under Spin (`route = "/..."`): Spin
//! answers a path no route serves with a plain-text 404, the native host
//! with problem+json naming the path, or the versions served when the path
//! names another (`api_versions`, as `API_VERSIONS`). The native host
//! answers these itself and does not load this component
//! (`[component.not-found.tool.mhmanus-host]`).

use mhmanus_domain::problem::{self, Problem};
use mhmanus_edge_rules::versions;
use spin_sdk::http::{Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(request: Request) -> http::Response<String> {
    let path = request.uri().path();
    let problem = match versions::version_of(path) {
        Some(version) => {
            let supported = supported_versions().await;
            if supported.contains(&version) {
                no_route(path)
            } else {
                Problem::new(404)
                    .detail(versions::unsupported_detail(version, &supported))
                    .instance(path)
                    .extension("supportedVersions", versions::names(&supported))
            }
        }
        None => no_route(path),
    };
    http::Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header("content-type", problem::MEDIA_TYPE)
        .body(problem.to_json())
        .expect("a problem is a valid response")
}

fn no_route(path: &str) -> Problem {
    Problem::new(404)
        .detail(format!("no route for {path}"))
        .instance(path)
}

/// `api_versions`, comma-separated; `1` when unset or unreadable.
async fn supported_versions() -> Vec<u32> {
    let value = spin_sdk::variables::get("api_versions")
        .await
        .unwrap_or_default();
    let versions: Vec<u32> = value
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    if versions.is_empty() {
        vec![1]
    } else {
        versions
    }
}
