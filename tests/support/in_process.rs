//! The host loaded in-process over a manifest written for the
//! test: requests go straight to `Runtime::handle`, no network.

use std::path::Path;
use std::sync::Arc;

use http_body_util::BodyExt;
use mhmanus_edge::EdgeConfig;
use mhmanus_host::config::HostConfig;
use mhmanus_host::runtime::{Runtime, full_body};
use mhmanus_manifest::LoadedManifest;

pub struct InProcessHost {
    pub runtime: Runtime,
    pub config: HostConfig,
    pub dir: tempfile::TempDir,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl InProcessHost {
    /// Starts a runtime over `manifest` (a spin.toml text; `{wasm:NAME}`
    /// stands for the built component NAME), configured by `configure`.
    pub async fn start(
        manifest: &str,
        configure: impl FnOnce(&mut HostConfig),
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let manifest = expand_wasm_paths(manifest);
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, manifest)?;
        let mut config = HostConfig::defaults(&path, dir.path().join("data"));
        // One compile cache for the whole suite, so each component compiles once.
        config.cache_dir = Some(crate::target_dir().join("test-compile-cache"));
        configure(&mut config);
        let loaded = LoadedManifest::load(&path)?;
        let runtime = Runtime::start(&loaded, &config).await?;
        Ok(InProcessHost {
            runtime,
            config,
            dir,
        })
    }

    /// Starts a runtime over the repository's own spin.toml.
    pub async fn start_repo(configure: impl FnOnce(&mut HostConfig)) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = crate::workspace_root().join("spin.toml");
        let mut config = HostConfig::defaults(&path, dir.path().join("data"));
        config.cache_dir = Some(crate::target_dir().join("test-compile-cache"));
        configure(&mut config);
        let runtime = Runtime::start(&LoadedManifest::load(&path)?, &config).await?;
        Ok(InProcessHost {
            runtime,
            config,
            dir,
        })
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(
            http::Request::get(path)
                .header("host", "test.local")
                .body(full_body(""))
                .unwrap(),
        )
        .await
    }

    /// Any request: `headers` as name/value pairs, `body` as given.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<bytes::Bytes>,
    ) -> Reply {
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "test.local");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(full_body(body)).unwrap()).await
    }

    pub async fn send(&self, request: http::Request<wasmtime_wasi_http::WasiBody>) -> Reply {
        let response = self
            .runtime
            .route_and_handle(request, "127.0.0.1:40000".parse().unwrap())
            .await;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("response body").to_bytes();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Registers a fresh account (the auth component's routes) and signs it
    /// in: its email and the login answer's JSON.
    pub async fn sign_up(&self, password: &str) -> (String, serde_json::Value) {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let json = [("content-type", "application/json")];
        let account =
            serde_json::json!({"email": email, "password": password, "name": "Test User"});
        let reply = self
            .call("POST", "/v1/auth/register", &json, account.to_string())
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        (email.clone(), self.sign_in(&email, password).await)
    }

    /// Signs `email` in: the login answer's JSON.
    pub async fn sign_in(&self, email: &str, password: &str) -> serde_json::Value {
        let json = [("content-type", "application/json")];
        let credentials = serde_json::json!({"email": email, "password": password});
        let reply = self
            .call("POST", "/v1/auth/login", &json, credentials.to_string())
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The host's whole router over this runtime, edge layers included, for
    /// requests sent as to a tower service; the runtime stays reachable (to
    /// drain it), and the directory must be kept alive with them.
    pub fn into_router(
        mut self,
        edge: &EdgeConfig,
    ) -> anyhow::Result<(axum::Router, Arc<Runtime>, tempfile::TempDir)> {
        self.config.edge = edge.clone();
        let runtime = Arc::new(self.runtime);
        let router = mhmanus_host::server::router(runtime.clone(), &self.config)?;
        Ok((router, runtime, self.dir))
    }
}

fn expand_wasm_paths(manifest: &str) -> String {
    let mut out = manifest.to_owned();
    while let Some(start) = out.find("{wasm:") {
        let end = start + out[start..].find('}').expect("closing brace");
        let name = &out[start + 6..end];
        let path = crate::built_wasm(name);
        out.replace_range(start..=end, &path.display().to_string());
    }
    out
}
