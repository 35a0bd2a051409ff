//! Request bodies of every auth route (`mhmanus_fuzz_checks::component_bodies`),
//! through the real auth.wasm in the host's runtime (in process, SQLite in
//! a temporary directory); the component keeps answering. libFuzzer sees only the host's side of the
//! coverage; the component's parsers are exercised, not instrumented.
//! Needs the components built (`scripts/fuzz` builds them).
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use mhmanus_host::{Application, Components, HostConfig, full_body};
use mhmanus_manifest::LoadedManifest;
use mhmanus_fuzz_checks::component_bodies;

const SECRET: &str = "fuzzing-secret-of-at-least-32-bytes";
const ADMIN_EMAIL: &str = "fuzz-admin@example.com";
const ADMIN_PASSWORD: &str = "a fuzzing admin passphrase";

struct Service {
    executor: tokio::runtime::Runtime,
    components: Arc<Components>,
    /// A real Admin's bearer token, so the bodies of the routes behind the
    /// door are parsed too.
    bearer: String,
    _data: tempfile::TempDir,
}

static SERVICE: LazyLock<Service> = LazyLock::new(|| {
    let executor = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("an executor");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = root.join("spin.toml");
    let data = tempfile::tempdir().expect("a directory");
    let mut config = HostConfig::defaults(&manifest, data.path());
    config.jwt_secret = Some(SECRET.into());
    config.admin_email = Some(ADMIN_EMAIL.into());
    config.admin_password = Some(ADMIN_PASSWORD.into());
    config.runtime.cache_dir = Some(root.join("target/fuzz-compile-cache"));
    let components = executor
        .block_on(async {
            let app = Application::build(&LoadedManifest::load(&manifest)?, &config).await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(app.components().clone())
        })
        .expect("the components load (build them first)");
    let bearer = executor.block_on(sign_in_admin(&components));
    Service {
        executor,
        components,
        bearer,
        _data: data,
    }
});

/// Signs the bootstrap Admin in: its access token.
async fn sign_in_admin(components: &Components) -> String {
    let credentials = serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let request = http::Request::builder()
        .method("POST")
        .uri("/v1/auth/login")
        .header("host", "fuzz.local")
        .header("content-type", "application/json")
        .body(full_body(credentials.to_string().into_bytes()))
        .expect("a request");
    let response = components
        .route_and_handle(request, "127.0.0.1:40000".parse().expect("an address"))
        .await;
    assert!(response.status().is_success(), "login: {}", response.status());
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    answer["access_token"].as_str().expect("a token").to_owned()
}

fuzz_target!(|data: &[u8]| {
    let Some((method, path, body)) = component_bodies::request(data) else {
        return;
    };
    let service = &*SERVICE;
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "fuzz.local")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", service.bearer))
        .body(full_body(body.to_vec()))
        .expect("a request");
    let (status, content_type) = service.executor.block_on(async {
        let response = service
            .components
            .route_and_handle(request, "127.0.0.1:40000".parse().expect("an address"))
            .await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let _ = response.into_body().collect().await;
        (status, content_type)
    });
    component_bodies::check_answer(method, path, body, status, &content_type);
});
