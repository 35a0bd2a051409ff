//! URI versioning in front of the components: `/v1` canonical, unversioned
//! paths served by the default version, unknown versions a 404 problem.

use mhmanus_tests::{spawn_app, start_failure, workspace_root};
use serde_json::Value;

#[tokio::test]
async fn versions_route_as_configured() {
    let host = spawn_app(&[]);

    let reply = reqwest::get(host.url("/v9/auth/profile")).await.unwrap();
    assert_eq!(reply.status(), 404);
    assert_eq!(reply.headers()["content-type"], "application/problem+json");
    let problem: Value = reply.json().await.unwrap();
    assert_eq!(problem["supportedVersions"], serde_json::json!(["v1"]));
    assert!(
        problem["detail"].as_str().unwrap().contains("v9"),
        "{problem}"
    );

    // Unversioned: served by v1 (the component sees the canonical path).
    let reply = reqwest::get(host.url("/auth/profile")).await.unwrap();
    assert_eq!(reply.status(), 401);
    let problem: Value = reply.json().await.unwrap();
    assert_eq!(problem["instance"], "/v1/auth/profile");

    // Health is version-free.
    let reply = reqwest::get(host.url("/health/ready")).await.unwrap();
    assert_eq!(reply.status(), 200);
}

#[test]
fn a_default_version_that_is_not_served_stops_start_up() {
    let data = tempfile::tempdir().unwrap();
    let stderr = start_failure(
        &workspace_root(),
        &[
            ("DATA_DIR", data.path().to_str().unwrap()),
            ("API_VERSIONS", "1"),
            ("API_DEFAULT_VERSION", "2"),
        ],
    );
    assert!(
        stderr.contains("API_DEFAULT_VERSION 2 is not among API_VERSIONS"),
        "{stderr}"
    );
}
