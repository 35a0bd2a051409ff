//! Shared helpers for the test suites: where the built components are, an
//! in-process runtime over a generated manifest, and the host binary
//! spawned on an ephemeral port.

mod database;
pub mod dockerfile;
mod in_process;
mod load_balancer;
mod manifest;
mod otlp;
mod own_postgres;
mod own_redis;
mod proxy;
mod reverse_proxy;
mod spawned;
mod test_ca;

use std::path::PathBuf;

pub use database::TestDatabase;
pub use in_process::{InProcessHost, PEER, Reply};
pub use load_balancer::{LoadBalancer, free_port, own_loopback_address};
pub use manifest::{TestComponent, TestManifest};
pub use otlp::{OtlpReceiver, ReceivedLog, ReceivedSpan};
pub use own_postgres::OwnPostgres;
pub use own_redis::OwnRedis;
pub use proxy::CuttableProxy;
pub use reverse_proxy::{ReverseProxy, nginx_site};
pub use spawned::{SpawnedHost, fatal_error, spawn_app, start_failure};
pub use test_ca::{ServerCert, TestCa};

pub use mhmanus_test_servers::{CLOSED_REDIS_URL, POSTGRES_ADDRESS, POSTGRES_URL, REDIS_URL};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The cargo target directory of the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The host binary the spawned tests run: `$MHMANUS_HOST_BIN`, else the
/// debug build `scripts/test` makes with the tests.
pub fn host_binary() -> PathBuf {
    let binary = std::env::var_os("MHMANUS_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/mhmanus-host"));
    assert!(
        binary.is_file(),
        "{} is missing: build the workspace first (scripts/test does), or set MHMANUS_HOST_BIN",
        binary.display()
    );
    binary
}

/// A component built by `scripts/test` for wasm32-wasip2.
pub fn built_wasm(crate_name: &str) -> PathBuf {
    let path = target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(
        path.exists(),
        "{} is missing: build the components first (scripts/test does)",
        path.display()
    );
    path
}

/// An access token as the components issue it (default issuer and
/// audience, one hour), signed with `secret`, for `sub` with `roles`, in a
/// session of its own. Only the signature is real: the bearer doors also
/// ask the database, which knows no such account or session; the host's
/// rate limiter, which keys on the verified subject, does not ask.
pub fn access_token(secret: &str, sub: &str, roles: &[mhmanus_domain::auth::role::Role]) -> String {
    use mhmanus_domain::auth::jwt::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, Grant, JwtSettings};
    let settings = JwtSettings::new(
        secret.as_bytes(),
        DEFAULT_ISSUER,
        DEFAULT_AUDIENCE,
        3600,
        false,
    )
    .expect("a non-empty secret");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs() as i64;
    let email = format!("{sub}@example.com");
    let grant = Grant {
        sub,
        email: &email,
        roles,
        sid: "a-session-no-database-knows",
        generation: 0,
    };
    settings.issue(grant, now).0
}

/// The original system's rate-limit check, from one client: `times` GETs of
/// `/production-test/rate-limit` at `url`, each sent with `headers`; every
/// 200 must name `client` as the address the service saw. The statuses.
pub async fn rate_limit_round(
    http: &reqwest::Client,
    url: &str,
    times: usize,
    headers: &[(&str, &str)],
    client: std::net::IpAddr,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..times {
        let mut request = http.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request.send().await.expect("the service answers");
        statuses.push(answer.status().as_u16());
        if answer.status() == 200 {
            let body: serde_json::Value = answer.json().await.expect("a JSON answer");
            assert_eq!(body["clientAddr"], client.to_string(), "{body}");
        }
    }
    statuses
}
