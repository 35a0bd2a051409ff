//! The host's own settings: what Spin would take from its runtime config and
//! the platform. Every setting is a flag and an environment variable (`.env`
//! and an optional TOML file are read too, see `config_file.rs`);
//! `mhmanus-host up --help` and `.env.example` list them with their defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use mhmanus_edge_layers::EdgeConfig;

use mhmanus_runtime::RuntimeConfig;
use mhmanus_server::ServerConfig;
use mhmanus_spin_host::variables::SPIN_VARIABLE_PREFIX;

/// `DATA_DIR` when unset.
pub const DEFAULT_DATA_DIR: &str = ".mhmanus";

/// What the service runs as (`APP_ENV` / `NODE_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
    Test,
}

/// Where `/metrics` is scraped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAddress {
    /// `METRICS_LISTEN`: an address of its own; the main one answers 404.
    Own(SocketAddr),
    /// The main address, beside the routes.
    Main,
    /// Not served: production without `METRICS_LISTEN` or `PUBLIC_METRICS`.
    Nowhere,
}

/// `Debug` shows no secret: the URLs, the JWT secret and the admin password
/// are `SecretString`s, read with `expose_secret`.
#[derive(Debug, Clone, Args)]
pub struct HostConfig {
    /// A TOML file of settings (keys: these variables in lower case);
    /// the environment and `.env` win over it.
    #[arg(long = "config", env = "MHMANUS_CONFIG")]
    pub config_file: Option<PathBuf>,

    /// The Spin manifest to serve.
    #[arg(
        long = "from",
        short = 'f',
        env = "SPIN_MANIFEST",
        default_value = "spin.toml"
    )]
    pub manifest: PathBuf,

    /// Address to listen on (`HOST:PORT`, a name resolved as `spin up`
    /// does: `localhost:3000`); else `BIND_ADDRESS`:`PORT`.
    #[arg(long, env = "LISTEN", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,

    /// Serve `/metrics` on this address instead of the main one.
    #[arg(long, env = "METRICS_LISTEN", value_parser = parse_listen)]
    pub metrics_listen: Option<SocketAddr>,

    /// Serve `/metrics` on the main address too (when METRICS_LISTEN is
    /// unset). Default: yes, but not in production, where request counts by
    /// route and pool figures are the operator's, not the public's.
    #[arg(long, env = "PUBLIC_METRICS", value_parser = clap::builder::BoolishValueParser::new())]
    pub public_metrics: Option<bool>,

    /// Port on `BIND_ADDRESS` when --listen is not given.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,

    /// The address `PORT` is served on: this machine only by default; the
    /// container image sets 0.0.0.0, so `PORT` alone moves it.
    #[arg(long, env = "BIND_ADDRESS", default_value = "127.0.0.1")]
    pub bind_address: std::net::IpAddr,

    /// Where the default SQLite database and the compile cache live.
    #[arg(long, env = "DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,

    /// An application variable, `NAME=VALUE` (repeatable), as `spin up --variable`.
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = parse_variable)]
    pub variables: Vec<(String, String)>,

    /// Spin's environment provider: every `SPIN_VARIABLE_<NAME>` of the
    /// process, read by `read_spin_variables` (the binary calls it); none
    /// in `defaults`, so an embedder or a test sees only what it sets.
    #[arg(skip)]
    pub spin_variables: BTreeMap<String, SecretString>,

    /// PostgreSQL URL (postgres://...); the components' `database_url` variable.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Redis URL (redis://...); the components' `redis_url` variable and the key-value backend.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretString>,

    /// CA certificates (PEM) that `rediss://` servers are verified against,
    /// instead of the system's.
    #[arg(long, env = "REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// HS256 secret for access tokens (the components' `jwt_secret`). Unset
    /// outside production: a random per-process development secret, announced.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,

    /// An account that exists with the Admin role (the components' `admin_email`).
    #[arg(long, env = "ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// The bootstrap Admin's password, used only when the account is created.
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<SecretString>,

    /// `production` (or NODE_ENV=production) refuses a missing or short JWT
    /// secret and an admin password outside the password policy.
    #[arg(long = "app-env", env = "APP_ENV")]
    pub app_env: Option<String>,

    /// What the host adds around the components: headers, CORS, compression, versions.
    #[command(flatten)]
    pub edge: EdgeConfig,

    /// The server's: TLS, connection caps and timeouts, shutdown grace,
    /// health thresholds.
    #[command(flatten)]
    pub server: ServerConfig,

    /// The runtime's: request timeout, instance memory and reuse,
    /// admission, compile cache.
    #[command(flatten)]
    pub runtime: RuntimeConfig,
}

/// `HOST:PORT`, the host an address or a name (the first address it
/// resolves to, IPv4 first).
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {text:?} ({e}); give HOST:PORT, e.g. 127.0.0.1:3000"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

fn parse_variable(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.trim().to_owned(), value.to_owned()))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))
}

impl HostConfig {
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::new(self.bind_address, self.port))
    }

    /// Where `/metrics` is served: its own address, the main one, or (in
    /// production with neither setting) nowhere.
    pub fn metrics_address(&self) -> MetricsAddress {
        match self.metrics_listen {
            Some(addr) => MetricsAddress::Own(addr),
            None if self.public_metrics.unwrap_or(!self.is_production()) => MetricsAddress::Main,
            None => MetricsAddress::Nowhere,
        }
    }

    /// Production mode: `APP_ENV`, else the original system's `NODE_ENV`.
    /// An unknown value is not production (`environment` refuses it at
    /// start-up).
    pub fn is_production(&self) -> bool {
        matches!(self.environment(), Ok(Environment::Production))
    }

    /// `APP_ENV`, else `NODE_ENV`, else development; any other value than
    /// the three the original system knew is a mistake worth stopping for
    /// (`prod` must not quietly mean development).
    pub fn environment(&self) -> anyhow::Result<Environment> {
        let (name, value) = match (&self.app_env, std::env::var("NODE_ENV")) {
            (Some(value), _) => ("APP_ENV", value.clone()),
            (None, Ok(value)) => ("NODE_ENV", value),
            (None, Err(_)) => return Ok(Environment::Development),
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            "test" => Ok(Environment::Test),
            _ => anyhow::bail!("{name} is {value:?}; it must be development, production or test"),
        }
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.runtime.cache_dir_in(&self.data_dir)
    }

    /// Removes the host's variables that are set but empty, so `KEY=` (as
    /// compose writes `${KEY:-}`) means unset, not an empty value to parse.
    /// Called from `main` before any other thread exists.
    pub fn unset_empty_variables() {
        for name in Self::variable_names() {
            if std::env::var_os(&name).is_some_and(|value| value.is_empty()) {
                // SAFETY: single-threaded start-up, as dotenvy's own loading.
                unsafe { std::env::remove_var(&name) };
            }
        }
    }

    /// Takes the process's `SPIN_VARIABLE_*` values, as `spin up` does.
    pub fn read_spin_variables(&mut self) {
        self.spin_variables = std::env::vars()
            .filter(|(name, _)| name.starts_with(SPIN_VARIABLE_PREFIX))
            .map(|(name, value)| (name, value.into()))
            .collect();
    }

    /// The `SPIN_VARIABLE_<NAME>` value taken by `read_spin_variables`.
    pub(crate) fn spin_variable(&self, name: &str) -> Option<String> {
        self.spin_variables
            .get(name)
            .map(|value| value.expose_secret().to_owned())
    }

    /// Every environment variable the host reads.
    pub fn variable_names() -> BTreeSet<String> {
        HostConfig::augment_args(clap::Command::new("up"))
            .get_arguments()
            .filter_map(|arg| arg.get_env())
            .map(|name| name.to_string_lossy().into_owned())
            .collect()
    }

    /// Settings a test or an embedder starts from: the defaults, whatever
    /// the environment says (so no database, Redis or secret), in
    /// development.
    pub fn defaults(manifest: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        let mut config: HostConfig = mhmanus_edge_layers::config::defaults_of();
        config.manifest = manifest.into();
        config.data_dir = data_dir.into();
        config.app_env = Some("development".into());
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.env.example` lists every variable the host reads, and nothing else.
    #[test]
    fn the_env_example_lists_every_variable() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.env.example");
        let example = std::fs::read_to_string(path).unwrap();
        let listed: BTreeSet<String> = example
            .lines()
            .filter_map(|line| line.trim_start_matches(['#', ' ']).split_once('='))
            .map(|(name, _)| name.to_owned())
            .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .collect();
        let mut known = HostConfig::variable_names();
        known.insert("RUST_LOG".into());
        // Read by the OpenTelemetry SDK (telemetry.rs), not clap.
        known.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into());
        known.insert("OTEL_SERVICE_NAME".into());
        // docker-compose.yml's, for its database.
        known.insert("POSTGRES_PASSWORD".into());
        assert_eq!(listed, known);
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut config = HostConfig::defaults("spin.toml", "data");
        config.database_url = Some("postgres://app:pg-hunter2@db/app".into());
        config.redis_url = Some("redis://:redis-hunter2@cache".into());
        config.jwt_secret = Some("jwt-hunter2".into());
        config.admin_password = Some("admin-hunter2".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("jwt_secret: Some("), "{shown}");
    }

    #[test]
    fn listen_takes_a_host_name_as_spin_up_does() {
        assert_eq!(
            parse_listen("localhost:3000"),
            Ok("127.0.0.1:3000".parse().unwrap())
        );
        assert_eq!(parse_listen("[::1]:80"), Ok("[::1]:80".parse().unwrap()));
        let error = parse_listen("localhost").unwrap_err();
        assert!(error.contains("HOST:PORT"), "{error}");
    }

    #[test]
    fn the_defaults_parse() {
        let config = HostConfig::defaults("spin.toml", "data");
        assert_eq!(config.edge.rate_limit_routes.len(), 3);
        assert!(config.edge.trusted_proxies.is_empty());
        assert_eq!(config.listen_addr(), "127.0.0.1:3000".parse().unwrap());
    }
}
