//! Database addresses: parsing, redacting the password for messages, and
//! the outbound policy that allows or refuses them.

use tokio_postgres::config::Host;

use super::errors::error_chain;
use super::tls::Tls;
use crate::bindings::spin::postgres::postgres::Error;
use crate::outbound::OutboundPolicy;

pub(super) fn parse_address(address: &str) -> Result<tokio_postgres::Config, Error> {
    parse_with_tls(address).map(|(config, _)| config)
}

/// The driver's settings for `address` and its TLS options (which the
/// driver cannot read itself, see `tls.rs`).
pub(super) fn parse_with_tls(address: &str) -> Result<(tokio_postgres::Config, Tls), Error> {
    let (rest, tls) = Tls::split(address).map_err(Error::ConnectionFailed)?;
    let mut config = parse_driver_address(&rest)?;
    config.ssl_mode(tls.driver_mode());
    Ok((config, tls))
}

fn parse_driver_address(address: &str) -> Result<tokio_postgres::Config, Error> {
    address.parse().map_err(|e: tokio_postgres::Error| {
        // The parser may quote one character of the address: drop it, it
        // could be part of the password.
        let text = error_chain(&e);
        let text = match text.find(" but got `") {
            Some(at) => &text[..at],
            None => &text,
        };
        Error::ConnectionFailed(text.to_owned())
    })
}

fn is_url(address: &str) -> bool {
    address.starts_with("postgres://") || address.starts_with("postgresql://")
}

/// `address`'s name in metrics: the same for one address, naming none of
/// its parts (host, user, database), which a scrape must not learn. The
/// log line that opens the pool pairs the two.
pub(super) fn metrics_label(address: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(address.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("pg-{hex}")
}

/// `address` without its password, for messages and logs.
pub(super) fn redact(address: &str) -> String {
    if is_url(address) && url::Url::parse(address).is_ok() {
        return crate::redact::url(address);
    }
    // Key=value form (or a URL the `url` crate cannot read, e.g. several
    // hosts): describe it from what the driver understood.
    let Ok(config) = parse_address(address) else {
        return "(an unreadable address)".into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            #[allow(unreachable_patterns)]
            _ => "(socket)".into(),
        })
        .collect();
    let mut parts = Vec::new();
    if !hosts.is_empty() {
        parts.push(format!("host={}", hosts.join(",")));
    }
    if !config.get_hostaddrs().is_empty() {
        let addrs: Vec<String> = config
            .get_hostaddrs()
            .iter()
            .map(|a| a.to_string())
            .collect();
        parts.push(format!("hostaddr={}", addrs.join(",")));
    }
    if !config.get_ports().is_empty() {
        let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
        parts.push(format!("port={}", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(dbname) = config.get_dbname() {
        parts.push(format!("dbname={dbname}"));
    }
    parts.join(" ")
}

/// Whether the component may reach every server `address` names (host and
/// `hostaddr` alike: the driver connects to the latter when given).
pub(super) fn allowed(
    policy: &OutboundPolicy,
    address: &str,
    config: &tokio_postgres::Config,
) -> bool {
    if is_url(address) && !policy.allows_url(address) {
        return false;
    }
    let hosts = config.get_hosts();
    let hostaddrs = config.get_hostaddrs();
    let ports = config.get_ports();
    let count = hosts.len().max(hostaddrs.len());
    count > 0
        && (0..count).all(|i| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            let allows = |host: &str| {
                let host = if host.contains(':') && !host.starts_with('[') {
                    format!("[{host}]")
                } else {
                    host.to_owned()
                };
                policy.allows("postgres", &host, port)
            };
            let host_ok = match hosts.get(i) {
                Some(Host::Tcp(name)) => allows(name),
                Some(_) => false, // Unix sockets are never outbound hosts.
                None => true,
            };
            host_ok && hostaddrs.get(i).is_none_or(|ip| allows(&ip.to_string()))
        })
}

pub(super) fn check_outbound(policy: &OutboundPolicy, address: &str) -> Result<(), Error> {
    let config = parse_address(address)?;
    if allowed(policy, address, &config) {
        Ok(())
    } else {
        Err(Error::ConnectionFailed(format!(
            "access denied: {} is not in allowed_outbound_hosts",
            redact(address)
        )))
    }
}
