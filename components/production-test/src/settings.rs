//! What the component can see of its configuration, from Spin variables,
//! read once per instance (as auth does): an instance serves a bounded
//! number of requests, so a changed variable reaches the next one.

use std::sync::OnceLock;

use mhmanus_domain::auth::jwt::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_TTL_SECS, JwtSettings, SecretError,
};
use mhmanus_guest::variables::{self, or_default};

pub(crate) struct Settings {
    pub database_url: String,
    pub redis_url: String,
    pub jwt_secret: String,
    pub issuer: String,
    pub audience: String,
    /// `None` when `access_token_ttl_secs` is not a positive number: then,
    /// as auth does, the token routes are misconfigured.
    pub ttl_secs: Option<i64>,
    pub production: bool,
    pub admin_email: String,
    pub admin_password: String,
    /// `mhmanus-host` when the native host runs us; the manifest says `spin`.
    pub host_runtime: String,
    /// The edge layers in front of us, as the native host declares them;
    /// empty under Spin (see `edge`).
    pub edge_layers: Vec<String>,
}

static CURRENT: OnceLock<Settings> = OnceLock::new();

impl Settings {
    /// This instance's settings, read on its first request.
    pub(crate) async fn current() -> &'static Settings {
        if let Some(settings) = CURRENT.get() {
            return settings;
        }
        let loaded = Settings::load().await;
        CURRENT.get_or_init(|| loaded)
    }

    async fn load() -> Self {
        let get = |name: &'static str| async move {
            variables::get(name).await.unwrap_or_else(|e| {
                eprintln!("production-test: variable {name}: {e:?}");
                String::new()
            })
        };
        let ttl_secs = match get("access_token_ttl_secs").await.trim() {
            "" => Some(DEFAULT_TTL_SECS),
            text => text.parse::<i64>().ok().filter(|ttl| *ttl > 0),
        };
        Settings {
            database_url: get("database_url").await.trim().to_owned(),
            redis_url: get("redis_url").await.trim().to_owned(),
            jwt_secret: get("jwt_secret").await,
            issuer: or_default(get("jwt_issuer").await, DEFAULT_ISSUER),
            audience: or_default(get("jwt_audience").await, DEFAULT_AUDIENCE),
            ttl_secs,
            production: get("app_env")
                .await
                .trim()
                .eq_ignore_ascii_case("production"),
            admin_email: get("admin_email").await.trim().to_owned(),
            admin_password: get("admin_password").await,
            host_runtime: or_default(get("host_runtime").await, "spin"),
            edge_layers: get("edge_layers")
                .await
                .split(',')
                .map(|layer| layer.trim().to_owned())
                .filter(|layer| !layer.is_empty())
                .collect(),
        }
    }

    /// The token rules, the same as auth's; the error is for the log.
    pub(crate) fn jwt(&self) -> Result<JwtSettings, String> {
        let ttl_secs = self
            .ttl_secs
            .ok_or("access_token_ttl_secs must be a positive whole number of seconds")?;
        JwtSettings::new(
            self.jwt_secret.as_bytes(),
            &self.issuer,
            &self.audience,
            ttl_secs,
            self.production,
        )
        .map_err(|e: SecretError| e.to_string())
    }

    pub(crate) fn database_backend(&self) -> &'static str {
        if mhmanus_guest::db::is_postgres(&self.database_url) {
            "postgres"
        } else {
            "sqlite"
        }
    }
}
