//! The PostgreSQL pools and Redis clients of the process, built once by the
//! application and shared by every component's Spin interfaces, the rate
//! limiter and the metrics. Building connects to nothing: connections open
//! on first use.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use mhmanus_spin_host::postgres::Pools;
use mhmanus_spin_host::redis::Clients;
use secrecy::ExposeSecret;

use crate::config::HostConfig;

#[derive(Clone)]
pub(crate) struct Connections {
    pub(crate) postgres: Arc<Pools>,
    pub(crate) redis: Arc<Clients>,
}

impl Connections {
    /// The pools trust the CA files `DATABASE_URL` names; the Redis clients
    /// verify TLS servers against `REDIS_CA_FILE` when set.
    pub(crate) fn new(config: &HostConfig) -> anyhow::Result<Self> {
        Ok(Self::with_redis_clients(config, redis_clients(config)?))
    }

    /// As `new`, with Redis clients the caller made (`check` reports a bad
    /// `REDIS_CA_FILE` beside its other findings instead of stopping at it).
    pub(crate) fn with_redis_clients(config: &HostConfig, redis: Clients) -> Self {
        Connections {
            postgres: Arc::new(Pools::trusting_root_files_of(
                config.database_url.iter().map(|url| url.expose_secret()),
            )),
            redis: Arc::new(redis),
        }
    }

    /// Publishes the pools' and clients' figures as gauges.
    pub(crate) fn record_figures(&self) {
        for (pool, status) in self.postgres.figures() {
            let gauge = |state: &'static str, value: usize| {
                metrics::gauge!("db_pool_connections", "pool" => pool.clone(), "state" => state)
                    .set(value as f64);
            };
            gauge("open", status.size);
            gauge("idle", status.available);
            gauge("max", status.max_size);
            gauge("waiting", status.waiting);
        }
        metrics::gauge!("redis_connections").set(self.redis.connected() as f64);
    }
}

/// The Redis clients, verifying TLS servers against `REDIS_CA_FILE` when set.
pub(crate) fn redis_clients(config: &HostConfig) -> anyhow::Result<Clients> {
    let Some(path) = &config.redis_ca_file else {
        return Ok(Clients::default());
    };
    let pem = std::fs::read(path)
        .with_context(|| format!("REDIS_CA_FILE {}: cannot read it", path.display()))?;
    use rustls::pki_types::pem::PemObject as _;
    let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("REDIS_CA_FILE {}: {e}", path.display()))?;
    if certificates.is_empty() {
        bail!(
            "REDIS_CA_FILE {}: no certificate in it (a PEM file of CA certificates)",
            path.display()
        );
    }
    Ok(Clients::with_root_cert(pem))
}
