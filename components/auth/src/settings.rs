//! The component's configuration, from Spin variables.
//!
//! Read once per instance, on its first request (each read is a host call,
//! and a profile read would make eight): an instance serves a bounded number
//! of requests (`MAX_INSTANCE_REUSE_COUNT`, Spin's max reuse count), so a
//! runtime whose variables change (a secrets provider) is followed by the
//! next instance, without a restart. A failed read is not kept.

use std::sync::OnceLock;

use mhmanus_domain::auth::jwt::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_TTL_SECS, JwtSettings, SecretError,
};
use mhmanus_guest::variables::{self, or_default};

pub(crate) struct Settings {
    /// Empty (or not PostgreSQL) means the default SQLite database.
    pub database_url: String,
    pub jwt: JwtSettings,
    /// Both set: that account exists with the Admin role.
    pub admin_email: String,
    pub admin_password: String,
    /// How long after its rotation a refresh token presented again is taken
    /// for a duplicate rather than reuse (0: never; see `handlers::refresh`).
    pub refresh_reuse_grace_ms: i64,
}

/// Why the component cannot serve. The text goes to the log only (clients
/// get a 503 that says just "misconfigured"); even there it names variables
/// and describes them, never giving their values.
#[derive(Debug)]
pub(crate) enum SettingsError {
    Unreadable(&'static str),
    Ttl,
    Grace,
    Secret(SecretError),
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingsError::Unreadable(name) => write!(f, "the variable {name} cannot be read"),
            SettingsError::Ttl => {
                f.write_str("access_token_ttl_secs must be a positive whole number of seconds")
            }
            SettingsError::Grace => f.write_str(
                "refresh_reuse_grace_secs must be a whole number of seconds from 0 to 60",
            ),
            SettingsError::Secret(e) => write!(f, "{e}"),
        }
    }
}

static CURRENT: OnceLock<Settings> = OnceLock::new();

/// This instance's settings.
pub(crate) async fn current() -> Result<&'static Settings, SettingsError> {
    if let Some(settings) = CURRENT.get() {
        return Ok(settings);
    }
    let loaded = load().await?;
    Ok(CURRENT.get_or_init(|| loaded))
}

async fn load() -> Result<Settings, SettingsError> {
    let database_url = variable("database_url").await?.trim().to_owned();
    // Secrets are used byte for byte: trimming would sign with a different
    // key than the host verifies with.
    let secret = variable("jwt_secret").await?;
    let issuer = or_default(variable("jwt_issuer").await?, DEFAULT_ISSUER);
    let audience = or_default(variable("jwt_audience").await?, DEFAULT_AUDIENCE);
    let ttl = variable("access_token_ttl_secs").await?;
    let ttl_secs = match ttl.trim() {
        "" => DEFAULT_TTL_SECS,
        text => text
            .parse::<i64>()
            .ok()
            .filter(|ttl| *ttl > 0)
            .ok_or(SettingsError::Ttl)?,
    };
    let production = variable("app_env")
        .await?
        .trim()
        .eq_ignore_ascii_case("production");
    let jwt = JwtSettings::new(secret.as_bytes(), &issuer, &audience, ttl_secs, production)
        .map_err(SettingsError::Secret)?;
    let grace = variable("refresh_reuse_grace_secs").await?;
    let refresh_reuse_grace_ms = match grace.trim() {
        "" => 0,
        text => text
            .parse::<i64>()
            .ok()
            .filter(|secs| (0..=60).contains(secs))
            .ok_or(SettingsError::Grace)?
            .saturating_mul(1000),
    };
    Ok(Settings {
        database_url,
        jwt,
        admin_email: variable("admin_email").await?.trim().to_owned(),
        admin_password: variable("admin_password").await?,
        refresh_reuse_grace_ms,
    })
}

/// An undefined variable is empty (the manifest gives defaults); any other
/// failure means the runtime cannot tell us our configuration.
async fn variable(name: &'static str) -> Result<String, SettingsError> {
    variables::get(name).await.map_err(|e| {
        eprintln!("auth: variable {name}: {e:?}");
        SettingsError::Unreadable(name)
    })
}
