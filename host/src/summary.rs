//! What the host serves, said once in words: where (its URL), each route
//! and the component behind it, and the backends those components reach.
//! Printed when `up` starts serving (as `spin up` prints its routes) and
//! at the end of `check`. No secret appears: URLs lose their passwords.

use std::fmt::Write as _;

use mhmanus_manifest::LoadedManifest;
use secrecy::ExposeSecret;

use crate::config::{HostConfig, MetricsAddress};
use mhmanus_spin_host::redact;

/// The routes and backends, ready to be said once the URL is known.
pub(crate) struct Summary {
    /// (handler, route) of each trigger served.
    routes: Vec<(String, String)>,
    metrics: MetricsAddress,
    backends: Vec<(&'static str, String)>,
}

impl Summary {
    pub(crate) fn new(loaded: &LoadedManifest, config: &HostConfig) -> Self {
        Summary {
            routes: loaded
                .manifest
                .served_triggers()
                .map(|t| (loaded.manifest.handler_id(t), t.route.clone()))
                .collect(),
            metrics: config.metrics_address(),
            backends: backends(config),
        }
    }

    /// The summary, `url` being where the host listens (`http://...`).
    pub(crate) fn render(&self, url: &str) -> String {
        let mut text = format!("Serving {url}\nAvailable routes:\n");
        for (handler, route) in &self.routes {
            let route = route.replace("/...", "/ (and below)");
            let _ = writeln!(text, "  {handler}: {url}{route}");
        }
        let _ = writeln!(
            text,
            "  host: {url}/health/live, {url}/openapi.json, {url}/docs"
        );
        let metrics = match self.metrics {
            MetricsAddress::Own(addr) => format!("http://{addr}/metrics"),
            MetricsAddress::Main => format!("{url}/metrics"),
            MetricsAddress::Nowhere => {
                "not served (production: set METRICS_LISTEN, or PUBLIC_METRICS=true)".into()
            }
        };
        let _ = writeln!(text, "  metrics: {metrics}");
        text.push_str("Backends:\n");
        for (what, backend) in &self.backends {
            let _ = writeln!(text, "  {what}: {backend}");
        }
        text
    }
}

/// Each backend the components and the edge use, in words.
fn backends(config: &HostConfig) -> Vec<(&'static str, String)> {
    let redis = config
        .redis_url
        .as_ref()
        .map(|url| format!("Redis at {}", redact::url(url.expose_secret())));
    let database = match &config.database_url {
        Some(url) => format!("PostgreSQL at {}", redact::url(url.expose_secret())),
        None => format!(
            "SQLite in {}",
            config.data_dir.join("sqlite_db.db").display()
        ),
    };
    let key_value = redis
        .clone()
        .unwrap_or_else(|| "in process memory (one replica's own)".into());
    let limits = redis
        .clone()
        .unwrap_or_else(|| "in process (one replica's own)".into());
    let tls = match config.server.tls_files() {
        Ok(Some(files)) => format!("HTTPS with {}", files.cert.display()),
        _ => "plain HTTP (TLS_CERT/TLS_KEY for HTTPS)".into(),
    };
    vec![
        ("database", database),
        ("key-value", key_value),
        ("rate limits", limits),
        ("listener", tls),
    ]
}
