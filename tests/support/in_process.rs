//! The host built in-process, as `mhmanus-host up` builds it, over a
//! manifest written for the test: every request goes through the whole
//! router, as the binary serves it, with no network.

use std::net::SocketAddr;
use std::path::Path;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use mhmanus_host::{Application, Components, HostConfig, full_body};
use mhmanus_manifest::LoadedManifest;
use tower::ServiceExt as _;

/// The TCP peer of in-process requests unless a test says otherwise.
pub const PEER: &str = "127.0.0.1:40000";

pub struct InProcessHost {
    app: Application,
    pub config: HostConfig,
    dir: tempfile::TempDir,
}

/// A response, its body read whole (still encoded, if it was).
#[derive(Debug)]
pub struct Reply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    pub async fn read<B>(response: http::Response<B>) -> Reply
    where
        B: http_body::Body,
        B::Error: std::fmt::Debug,
    {
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.expect("response body").to_bytes(),
        }
    }

    /// The body as text, for assertions and messages.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// Every value of `name`, comma-separated lists split, lowercased.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .map(|item| item.trim().to_ascii_lowercase())
            .filter(|item| !item.is_empty())
            .collect()
    }
}

impl InProcessHost {
    /// Builds the host over `manifest` (a `TestManifest`, or a manifest's
    /// text), configured by `configure`.
    pub async fn start(
        manifest: &impl std::fmt::Display,
        configure: impl FnOnce(&mut HostConfig),
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, manifest.to_string())?;
        let mut config = test_defaults(&path, &dir.path().join("data"));
        configure(&mut config);
        let app = Application::build(&LoadedManifest::load(&path)?, &config).await?;
        Ok(InProcessHost { app, config, dir })
    }

    /// Builds the host over the repository's own spin.toml.
    pub async fn start_repo(configure: impl FnOnce(&mut HostConfig)) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = crate::workspace_root().join("spin.toml");
        let mut config = test_defaults(&path, &dir.path().join("data"));
        configure(&mut config);
        let app = Application::build(&LoadedManifest::load(&path)?, &config).await?;
        Ok(InProcessHost { app, config, dir })
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

    /// `request` from `PEER`, its answer read whole.
    pub async fn send<B>(&self, request: http::Request<B>) -> Reply
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        Reply::read(self.respond(request).await).await
    }

    /// `request` from `PEER` through the whole router: the answer, its
    /// body still to come.
    pub async fn respond<B>(&self, request: http::Request<B>) -> http::Response<Body>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        self.respond_from(PEER, request).await
    }

    /// `request` from the TCP peer `peer` through the whole router, as the
    /// binary serves a connection from there.
    pub async fn respond_from<B>(
        &self,
        peer: &str,
        request: http::Request<B>,
    ) -> http::Response<Body>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let mut request = request.map(Body::new);
        let peer: SocketAddr = peer.parse().expect("a peer address");
        request.extensions_mut().insert(ConnectInfo(peer));
        match self.router().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
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
        assert_eq!(reply.status, 201, "{}", reply.text());
        (email.clone(), self.sign_in(&email, password).await)
    }

    /// Signs `email` in: the login answer's JSON.
    pub async fn sign_in(&self, email: &str, password: &str) -> serde_json::Value {
        let json = [("content-type", "application/json")];
        let credentials = serde_json::json!({"email": email, "password": password});
        let reply = self
            .call("POST", "/v1/auth/login", &json, credentials.to_string())
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The loaded components: their ids, generations and draining.
    pub fn components(&self) -> &Components {
        self.app.components()
    }

    /// The host's whole router, edge layers included, for requests sent as
    /// to a tower service.
    pub fn router(&self) -> axum::Router {
        self.app.router()
    }

    /// The status of `GET path` through the whole router, from a client
    /// on 127.0.0.1, as a probe or a healthcheck asks it.
    pub async fn probe(&self, path: &str) -> http::StatusCode {
        let request = http::Request::get(path)
            .header("host", "localhost")
            .body(Body::empty())
            .unwrap();
        self.respond_from("127.0.0.1:50000", request).await.status()
    }
}

/// The defaults, with what a test of the components wants out of the way:
/// one compile cache for the whole suite (each component compiles once),
/// and a rate limiter in front that no test reaches, nor the password
/// budget, since every request comes from one peer. The edge tests set
/// their own.
fn test_defaults(manifest: &Path, data_dir: &Path) -> HostConfig {
    let mut config = HostConfig::defaults(manifest, data_dir);
    config.runtime.cache_dir = Some(crate::target_dir().join("test-compile-cache"));
    config.edge.rate_limit = "60000/60s".parse().expect("a policy");
    config.edge.rate_limit_routes = vec![];
    config.edge.max_password_checks = 64;
    config
}
