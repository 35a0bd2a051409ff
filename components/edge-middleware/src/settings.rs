//! The middleware's settings: Spin variables named as the host's settings
//! (`cors_origins` for `CORS_ORIGINS`, ...), inherited from the component it
//! runs in front of. A variable that is not declared there, or empty, means
//! the host's default; one that does not parse is logged and the default
//! used, so a typo never turns the edge off silently. Read once per
//! instance, as the components read theirs: Spin reuses an instance for a
//! bounded number of requests, so a changed variable reaches the next one.

use std::sync::OnceLock;

use mhmanus_domain::auth::jwt::JwtSettings;
use mhmanus_edge_rules::attestation::Attestation;
use mhmanus_edge_rules::cors;
use mhmanus_edge_rules::forwarding::{self, TrustedProxies};
use mhmanus_edge_rules::rate_limit::policy::{
    self, DEFAULT_ROUTE_LIMITS, Policy, Quota, RouteLimit,
};
use spin_sdk::variables;

pub(crate) struct Settings {
    pub(crate) cors_origins: Vec<String>,
    pub(crate) cors_max_age_secs: u64,
    pub(crate) hsts_max_age_secs: u64,
    pub(crate) compression_min_bytes: usize,
    /// The version an unversioned API path is served by.
    pub(crate) api_default_version: u32,
    pub(crate) rate_limit: Policy,
    /// Most specific first.
    pub(crate) rate_limit_routes: Vec<RouteLimit>,
    /// Whose forwarding headers are believed (`trusted_proxies`,
    /// `forwarded_header`), as the host believes them.
    pub(crate) proxies: TrustedProxies,
    /// How bearer tokens are verified, to key the limiter by subject.
    pub(crate) tokens: Option<JwtSettings>,
    /// The signed `attestation::HEADER` value for the component behind,
    /// when it shares a JWT secret to check it with.
    pub(crate) attestation: Option<String>,
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

    async fn load() -> Settings {
        let cors_origins = match cors::allowed_origins(read("cors_origins").await.split(',')) {
            Ok(origins) => origins,
            Err(e) => {
                eprintln!("edge-middleware: cors_origins: {e}; no origin is allowed");
                Vec::new()
            }
        };
        let mut rate_limit_routes = parsed::<Routes>("rate_limit_routes", DEFAULT_ROUTE_LIMITS)
            .await
            .0;
        rate_limit_routes.sort_by_key(RouteLimit::specificity);
        let mut settings = Settings {
            cors_origins,
            cors_max_age_secs: parsed("cors_max_age_secs", "600").await,
            hsts_max_age_secs: parsed("hsts_max_age_secs", "31536000").await,
            compression_min_bytes: parsed("compression_min_bytes", "1024").await,
            api_default_version: parsed("api_default_version", "1").await,
            rate_limit: parsed("rate_limit", "10/60s").await,
            rate_limit_routes,
            proxies: proxies().await,
            tokens: tokens().await,
            attestation: None,
        };
        let secret = read("jwt_secret").await;
        if !secret.is_empty() {
            let attestation = Attestation {
                by: "edge-middleware".to_owned(),
                layers: settings.layers().into_iter().map(str::to_owned).collect(),
            };
            settings.attestation = Some(attestation.sign(secret.as_bytes()));
        }
        settings
    }

    /// The layers this middleware applies with these settings, named as
    /// the host names its own.
    fn layers(&self) -> Vec<&'static str> {
        let mut layers = vec!["security-headers", "compression"];
        if !self.cors_origins.is_empty() {
            layers.push("cors");
        }
        if policy::limits_anything(self.rate_limit, &self.rate_limit_routes) {
            layers.push("rate-limit");
        }
        layers
    }
}

/// `[METHOD ]PATH=POLICY,...` as `RATE_LIMIT_ROUTES` reads.
struct Routes(Vec<RouteLimit>);

impl std::str::FromStr for Routes {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Routes)
    }
}

/// The quota of a policy, when it limits at all.
pub(crate) fn quota(policy: Policy) -> Option<Quota> {
    match policy {
        Policy::Limited(quota) => Some(quota),
        Policy::Off => None,
    }
}

/// The variable, empty when it is not declared.
async fn read(name: &str) -> String {
    variables::get(name).await.unwrap_or_default()
}

async fn parsed<T>(name: &str, default: &str) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let value = read(name).await;
    let text = match value.trim() {
        "" => default,
        text => text,
    };
    text.parse().unwrap_or_else(|e| {
        eprintln!("edge-middleware: {name} {text:?}: {e}; using {default:?}");
        default
            .parse()
            .unwrap_or_else(|_| unreachable!("the defaults parse"))
    })
}

/// `trusted_proxies` and `forwarded_header`; an entry that does not parse
/// is logged and left out (trusting less, never more).
async fn proxies() -> TrustedProxies {
    let networks = read("trusted_proxies")
        .await
        .split(',')
        .filter(|entry| !entry.trim().is_empty())
        .filter_map(|entry| {
            forwarding::parse_network(entry)
                .inspect_err(|e| eprintln!("edge-middleware: trusted_proxies: {e}; left out"))
                .ok()
        })
        .collect::<Vec<_>>();
    let header = parsed("forwarded_header", "x-forwarded-for").await;
    TrustedProxies::new(&networks, header)
}

/// The token rules the auth component issues with, when it has a secret.
async fn tokens() -> Option<JwtSettings> {
    let mut values = std::collections::HashMap::new();
    for name in [
        "jwt_secret",
        "jwt_issuer",
        "jwt_audience",
        "access_token_ttl_secs",
    ] {
        values.insert(name, read(name).await);
    }
    JwtSettings::verifier(|name| values.get(name).cloned())
}
