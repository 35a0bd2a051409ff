//! The edge's settings, as environment variables and flags (clap), named
//! as the original system named them.

use clap::Args;
use ipnet::IpNet;

use crate::client_addr::ForwardedHeader;
use crate::password_work::{self, PasswordRoute};
use crate::rate_limit::RouteLimit;
use crate::rate_limit::policy::{self, Policy};
use mhmanus_edge_rules::forwarding;

/// Settings of what the host adds around the components: the edge layers
/// (this crate's modules).
#[derive(Debug, Clone, Args)]
pub struct EdgeConfig {
    /// Origins allowed to call the API from a browser, comma-separated
    /// (`https://app.example.com,https://admin.example.com`); empty: none.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',', default_value = "")]
    pub cors_origins: Vec<String>,

    /// Seconds browsers keep a CORS preflight answer.
    #[arg(long, env = "CORS_MAX_AGE_SECS", default_value_t = 600)]
    pub cors_max_age_secs: u64,

    /// `Strict-Transport-Security` max-age in seconds; 0 leaves the header out.
    #[arg(long, env = "HSTS_MAX_AGE_SECS", default_value_t = 31_536_000)]
    pub hsts_max_age_secs: u64,

    /// Responses smaller than this many bytes are sent uncompressed.
    #[arg(long, env = "COMPRESSION_MIN_BYTES", default_value_t = 1024)]
    pub compression_min_bytes: u16,

    /// The API versions the components serve (`/v1/...`), comma-separated.
    #[arg(long, env = "API_VERSIONS", value_delimiter = ',', default_value = "1")]
    pub api_versions: Vec<u32>,

    /// The version an unversioned API path (`/auth/login`) is served by.
    #[arg(long, env = "API_DEFAULT_VERSION", default_value_t = 1)]
    pub api_default_version: u32,

    /// Requests per client and route in a window (`10/60s`), or `off`.
    #[arg(long, env = "RATE_LIMIT", default_value = "10/60s")]
    pub rate_limit: Policy,

    /// Routes with their own limit, comma-separated `[METHOD ]PATH=LIMIT/WINDOW`
    /// (canonical paths; `/v1/auth/...` covers a subtree; `=off` exempts;
    /// `PATCH /v1/auth/profile=...` that method only). These count per
    /// client address even when a token comes with them.
    #[arg(
        long,
        env = "RATE_LIMIT_ROUTES",
        value_delimiter = ',',
        default_value = policy::DEFAULT_ROUTE_LIMITS
    )]
    pub rate_limit_routes: Vec<RouteLimit>,

    /// Proxies whose `Forwarded` / `X-Forwarded-For` are believed,
    /// comma-separated addresses or networks (`10.0.0.0/8`); empty: none.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = forwarding::parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// The header those proxies append the client to (`x-forwarded-for`
    /// or `forwarded`); the other one is ignored, as proxies pass it
    /// through from the client.
    #[arg(
        long,
        env = "FORWARDED_HEADER",
        value_parser = |text: &str| text.parse::<ForwardedHeader>(),
        default_value = "x-forwarded-for"
    )]
    pub forwarded_header: ForwardedHeader,

    /// Requests served at once (until their bodies are sent); past this a
    /// new one is a 503 with `Retry-After` instead of a place in an
    /// unbounded queue.
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
    pub max_concurrent_requests: usize,

    /// Requests to `PASSWORD_ROUTES` served at once (each checks or hashes
    /// a password: tens of milliseconds of a core); 0: as many as the
    /// cores. Past it a request waits at most half a second, then gets a
    /// 503 with `Retry-After` (a 429 when its client's own requests hold
    /// the places).
    #[arg(long, env = "MAX_PASSWORD_CHECKS", default_value_t = 0)]
    pub max_password_checks: usize,

    /// The routes that check or hash a password, comma-separated
    /// `METHOD PATH` (canonical paths).
    #[arg(
        long,
        env = "PASSWORD_ROUTES",
        value_delimiter = ',',
        default_value = password_work::DEFAULT_PASSWORD_ROUTES
    )]
    pub password_routes: Vec<PasswordRoute>,

    /// Request bodies declaring more bytes than this are refused (413);
    /// longer streamed bodies are cut off there.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: u64,

    /// A request body still arriving this many seconds after the request
    /// began is cut off with a 408 (a client trickling it holds a request
    /// open); its headers must arrive within 10 s.
    #[arg(long, env = "BODY_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub body_read_timeout_secs: u64,
}

/// An address (one host) or a network in CIDR notation.
impl EdgeConfig {
    /// The layers in front of the components, as the `edge_layers`
    /// variable tells them (the production-test component reports them).
    pub fn active_layers(&self) -> Vec<&'static str> {
        let mut layers = vec![
            "security-headers",
            "compression",
            "versioning",
            "request-id",
        ];
        if !self
            .cors_origins
            .iter()
            .all(|origin| origin.trim().is_empty())
        {
            layers.push("cors");
        }
        if policy::limits_anything(self.rate_limit, &self.rate_limit_routes) {
            layers.push("rate-limit");
        }
        layers
    }
}

impl EdgeConfig {
    /// The defaults, whatever the environment says, for a test or an
    /// embedder to start from.
    pub fn defaults() -> Self {
        defaults_of()
    }
}

/// The defaults of a clap `Args` struct alone: every `env` of its arguments
/// ignored, so that a shell's settings never reach a test, a benchmark's
/// baseline or an embedder that asks for the defaults.
pub fn defaults_of<T: clap::Args>() -> T {
    let command = T::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None));
    T::from_arg_matches(&command.get_matches_from(["defaults"]))
        .expect("every setting has a default")
}
