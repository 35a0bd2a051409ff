//! The server's settings, as environment variables and flags (clap): TLS,
//! connection caps and timeouts, shutdown grace, and the machine's health
//! thresholds. The host flattens them into its own.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use ipnet::IpNet;

use crate::{ConnectionLimits, HealthThresholds, TlsFiles};

#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Serve HTTPS with this certificate chain (PEM, the server's first),
    /// with --tls-key; reloaded when the file changes or on SIGHUP.
    #[arg(long, env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// `spin up`'s name for TLS_CERT, accepted too.
    #[arg(long, env = "SPIN_TLS_CERT", hide = true)]
    pub spin_tls_cert: Option<PathBuf>,

    /// `spin up`'s name for TLS_KEY, accepted too.
    #[arg(long, env = "SPIN_TLS_KEY", hide = true)]
    pub spin_tls_key: Option<PathBuf>,

    /// When `/health` warns and fails on memory and disk in use.
    #[command(flatten)]
    pub health: HealthThresholds,

    /// Connections one client address may hold open (trusted proxies
    /// exempt); past it a new one is closed at once. 0: no cap.
    #[arg(long, env = "MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256)]
    pub max_connections_per_client: usize,

    /// Seconds a connection with no request in flight stays open, HTTP/1
    /// and HTTP/2 alike.
    #[arg(long, env = "CONNECTION_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub connection_idle_timeout_secs: u64,

    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
}

impl ServerConfig {
    pub fn tls_files(&self) -> anyhow::Result<Option<TlsFiles>> {
        let cert = self.tls_cert.as_ref().or(self.spin_tls_cert.as_ref());
        let key = self.tls_key.as_ref().or(self.spin_tls_key.as_ref());
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            })),
            (None, None) => Ok(None),
            (Some(_), None) => {
                anyhow::bail!("TLS_CERT is set but TLS_KEY is not: HTTPS needs both")
            }
            (None, Some(_)) => {
                anyhow::bail!("TLS_KEY is set but TLS_CERT is not: HTTPS needs both")
            }
        }
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The connection caps, `exempt` (the trusted proxies) uncapped.
    pub fn connection_limits(&self, exempt: Vec<IpNet>) -> ConnectionLimits {
        ConnectionLimits {
            per_client: self.max_connections_per_client,
            exempt,
            idle_timeout: Duration::from_secs(self.connection_idle_timeout_secs),
        }
    }
}
