//! The application: the manifest's components loaded and the routers over
//! them, built once by `mhmanus-host up` and by the in-process tests alike.
//! Building opens no socket; `serve` binds the addresses and runs until
//! shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use mhmanus_edge_layers::security_headers::SecurityHeaders;
use mhmanus_manifest::LoadedManifest;

use mhmanus_runtime::Components;
use mhmanus_server::{ConnectionLimits, Tls};

use crate::component_services;
use crate::config::{HostConfig, MetricsAddress};
use crate::connections::Connections;
use crate::data_dir::{self, DataDirHold};
use crate::dependencies::{self, Dependencies};
use crate::server;
use crate::summary::Summary;

pub struct Application {
    name: String,
    components: Arc<Components>,
    router: Router,
    listen: SocketAddr,
    /// `/metrics` on an address of its own, when `METRICS_LISTEN` is set.
    metrics: Option<(SocketAddr, Router)>,
    /// HTTPS on `listen`, when a certificate is configured.
    tls: Option<Tls>,
    limits: ConnectionLimits,
    error_headers: http::HeaderMap,
    grace: Duration,
    /// Said on stdout once serving: the URL, routes and backends.
    summary: Summary,
    /// DATA_DIR, held against a restore while this serves from it.
    data_dir: DataDirHold,
}

impl Application {
    /// Loads every component and composes the routers over them.
    pub async fn build(loaded: &LoadedManifest, config: &HostConfig) -> anyhow::Result<Self> {
        // A certificate that does not load stops start-up before anything else.
        let tls = config.server.tls_files()?.map(Tls::new).transpose()?;
        data_dir::ensure_writable(&config.data_dir)?;
        let data_dir = DataDirHold::serving(&config.data_dir)?;
        let error_headers = SecurityHeaders::new(&config.edge).headers(tls.is_some());
        let connections = Connections::new(config)?;
        let dependencies =
            Dependencies::check(dependencies::configured(config, &connections)).await?;
        let (components, tokens) = component_services::start(loaded, config, &connections).await?;
        let components = Arc::new(components);
        let routers = server::router(
            components.clone(),
            &connections,
            dependencies,
            tokens,
            config,
        )?;
        let metrics = match config.metrics_address() {
            MetricsAddress::Own(addr) => Some((addr, routers.metrics)),
            MetricsAddress::Main => None,
            MetricsAddress::Nowhere => {
                tracing::warn!(
                    "metrics are not served: production keeps /metrics off the public address; \
                     set METRICS_LISTEN=127.0.0.1:9090 for a scraper, or PUBLIC_METRICS=true"
                );
                None
            }
        };
        Ok(Application {
            name: loaded.manifest.application.name.clone(),
            components,
            router: routers.public,
            listen: config.listen_addr(),
            metrics,
            limits: config
                .server
                .connection_limits(config.edge.trusted_proxies.clone()),
            tls,
            error_headers,
            grace: config.server.shutdown_grace(),
            summary: Summary::new(loaded, config),
            data_dir,
        })
    }

    /// The loaded components, shared with the router.
    pub fn components(&self) -> &Arc<Components> {
        &self.components
    }

    /// The whole public router, edge layers included, as `serve` serves it.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves until `shutdown` resolves: readiness fails from then on, the
    /// requests in flight get the grace period, and idle instances retire
    /// before this returns.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            name,
            components,
            router,
            listen,
            metrics,
            tls,
            limits,
            error_headers,
            grace,
            summary,
            // Held until serving ends.
            data_dir: _data_dir,
        } = self;
        let listener = bind(listen, "").await?;
        let metrics = match metrics {
            Some((addr, router)) => {
                let listener = bind(addr, " for metrics").await?;
                tracing::info!(address = %listener.local_addr()?, "serving metrics");
                Some(tokio::spawn(axum::serve(listener, router).into_future()))
            }
            None => None,
        };
        let draining = components.clone();
        let shutdown = async move {
            shutdown.await;
            draining.drain();
        };
        let reloading = tls.as_ref().map(Tls::watch).transpose()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let address = listener.local_addr()?;
        tracing::info!(%address, scheme, app = %name, "serving");
        println!("{}", summary.render(&format!("{scheme}://{address}")));
        mhmanus_server::serve(
            listener,
            tls,
            router,
            limits,
            &error_headers,
            shutdown,
            grace,
        )
        .await?;
        if let Some(reloading) = reloading {
            reloading.abort();
        }
        if let Some(metrics) = metrics {
            metrics.abort();
            let _ = metrics.await;
        }
        // The routers are gone, so the components are ours alone.
        match Arc::into_inner(components) {
            Some(components) => components.shutdown().await,
            None => tracing::warn!(
                "the components are still shared at exit: idle instances were not retired in order"
            ),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

async fn bind(addr: SocketAddr, purpose: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}{purpose}: {e}"))
}
