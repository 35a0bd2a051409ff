//! The host over the repository's spin.toml, in this process, serving on a
//! loopback port for as long as the benchmark needs it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mhmanus_host::config::HostConfig;
use mhmanus_host::edge::rate_limit::policy::Policy;
use mhmanus_host::manifest::LoadedManifest;
use mhmanus_host::runtime::Runtime;

pub struct BenchHost {
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _data: tempfile::TempDir,
}

impl BenchHost {
    /// Starts with the limiter out of the way unless `configure` sets it.
    pub async fn start(configure: impl FnOnce(&mut HostConfig)) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let manifest = workspace_root().join("spin.toml");
        let mut config = HostConfig::defaults(&manifest, data.path());
        config.jwt_secret = Some("benchmark-secret-of-at-least-32-bytes".into());
        config.edge.rate_limit = Policy::Off;
        config.edge.rate_limit_routes = vec![];
        configure(&mut config);
        let runtime = Arc::new(Runtime::start(&LoadedManifest::load(&manifest)?, &config).await?);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = mhmanus_host::server::router(runtime, &config)?;
        let shutdown = async {
            let _ = stopped.await;
        };
        let server = tokio::spawn(mhmanus_host::server::serve(
            listener,
            router,
            shutdown,
            Duration::from_secs(5),
        ));
        Ok(BenchHost {
            base,
            stop,
            server,
            _data: data,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await??;
        Ok(())
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_owned()
}
