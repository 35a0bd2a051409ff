//! `native-baseline`: what the benchmarks measure the Wasm components
//! against. It serves the routes the bench drives with the same domain crate
//! (JWT, argon2id, health reports, the compression payload) compiled
//! natively, on the same SQLite schema, behind the host's own outer edge
//! layers (request id and log line, security headers, CORS, compression)
//! and its server loop. What is left is the cost of the sandbox and of the
//! host's runtime around it.
//!
//! Settings, from the environment as the host reads them: `LISTEN`
//! (default `127.0.0.1:3000`), `DATA_DIR` (`.mhmanus-baseline`),
//! `JWT_SECRET` (required).

mod routes;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use mhmanus_domain::auth::jwt::{self, JwtSettings};
use mhmanus_edge_layers::EdgeConfig;
use mhmanus_edge_layers::config::defaults_of;
use mhmanus_server::{ConnectionLimits, HealthThresholds, Jemalloc, SystemChecks};

/// What every handler shares.
pub struct App {
    pub store: store::Store,
    pub jwt: JwtSettings,
    pub system: Arc<SystemChecks>,
    /// argon2id runs on the blocking pool, at most one per core: more would
    /// only add memory (19 MiB each) and context switches.
    pub hashing: tokio::sync::Semaphore,
}

// The host's allocator: the baseline differs from it only in running no Wasm.
#[global_allocator]
static ALLOCATOR: Jemalloc = Jemalloc;

fn main() -> anyhow::Result<()> {
    let _telemetry = mhmanus_server::telemetry::init()?;
    let listen: SocketAddr = std::env::var("LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()
        .context("LISTEN must be an address such as 127.0.0.1:3000")?;
    let data_dir =
        PathBuf::from(std::env::var("DATA_DIR").unwrap_or_else(|_| ".mhmanus-baseline".into()));
    let secret = std::env::var("JWT_SECRET").context("JWT_SECRET is required")?;
    let jwt = JwtSettings::new(
        secret.as_bytes(),
        jwt::DEFAULT_ISSUER,
        jwt::DEFAULT_AUDIENCE,
        jwt::DEFAULT_TTL_SECS,
        false,
    )
    .map_err(|e| anyhow::anyhow!("JWT_SECRET: {e}"))?;
    // The host's defaults for everything else (thresholds, CORS, compression).
    let edge = EdgeConfig::defaults();
    let thresholds: HealthThresholds = defaults_of();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let database_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty());
    tokio::runtime::Runtime::new()?.block_on(async {
        let app = Arc::new(App {
            store: store::Store::open(&data_dir, database_url.as_deref()).await?,
            jwt,
            system: Arc::new(SystemChecks::new(&thresholds, &data_dir)?),
            hashing: tokio::sync::Semaphore::new(cores),
        });
        let router = mhmanus_edge_layers::apply(routes::router(app), &edge)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!(address = %listener.local_addr()?, "serving");
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
        };
        mhmanus_server::serve(
            listener,
            None,
            router,
            ConnectionLimits::default(),
            &http::HeaderMap::new(),
            shutdown,
            Duration::from_secs(5),
        )
        .await?;
        anyhow::Ok(())
    })
}
