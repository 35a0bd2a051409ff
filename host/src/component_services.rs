//! What each component may reach, from its manifest entry and the host's
//! configuration: its variables (the host's values first), its SQLite
//! databases and key-value stores (one per label, shared), its outbound
//! hosts, and the process's PostgreSQL pools and Redis clients.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::bail;
use mhmanus_domain::auth::jwt::JwtSettings;
use mhmanus_manifest::LoadedManifest;
use mhmanus_runtime::Components;
use mhmanus_spin_host::outbound::OutboundPolicy;
use mhmanus_spin_host::{ComponentServices, key_value, sqlite, variables};
use secrecy::ExposeSecret;

use crate::app_variables;
use crate::config::HostConfig;
use crate::connections::Connections;

/// The runtime over `loaded`'s components, each reaching what `build` gives
/// it, and the rules bearer tokens are verified by (`token_settings`):
/// what `up` serves and `check` compiles.
pub(crate) async fn start(
    loaded: &LoadedManifest,
    config: &HostConfig,
    connections: &Connections,
) -> anyhow::Result<(Components, Option<JwtSettings>)> {
    let services = build(loaded, config, connections)?;
    let tokens = token_settings(&services);
    let components =
        Components::start(loaded, &services, &config.runtime, &config.cache_dir()).await?;
    Ok((components, tokens))
}

/// Builds what each component may reach, from its manifest entry and the
/// host's configuration.
fn build(
    loaded: &LoadedManifest,
    config: &HostConfig,
    connections: &Connections,
) -> anyhow::Result<BTreeMap<String, Arc<ComponentServices>>> {
    let manifest = &loaded.manifest;
    let env = |name: &str| config.spin_variable(name);
    let host_values = app_variables::host_values(manifest, config, env)?;
    let mut variables = variables::resolve(manifest, &host_values, env)?;
    let mut databases: HashMap<String, Arc<sqlite::Database>> = HashMap::new();
    let mut stores: HashMap<String, Arc<dyn key_value::Backend>> = HashMap::new();
    let mut services = BTreeMap::new();
    for (id, component) in manifest.served_components() {
        let id = id.to_owned();
        let mut sqlite = HashMap::new();
        for label in &component.sqlite_databases {
            let database = match databases.get(label) {
                Some(database) => database.clone(),
                None => {
                    let database = Arc::new(sqlite::Database::open(&config.data_dir, label)?);
                    databases.insert(label.clone(), database.clone());
                    database
                }
            };
            sqlite.insert(label.clone(), database);
        }
        let mut key_value = HashMap::new();
        for label in &component.key_value_stores {
            let store = stores
                .entry(label.clone())
                .or_insert_with(|| match &config.redis_url {
                    Some(url) => Arc::new(key_value::InRedis::new(
                        connections.redis.clone(),
                        url.expose_secret().to_owned(),
                        label,
                    )),
                    None => Arc::new(key_value::InMemory::default()),
                })
                .clone();
            key_value.insert(label.clone(), store);
        }
        if let Some(entry) = component
            .allowed_outbound_hosts
            .iter()
            .find(|h| h.contains("{{"))
        {
            bail!(
                "component {id}: templates in allowed_outbound_hosts ({entry}) are not supported by this host"
            );
        }
        let outbound =
            OutboundPolicy::new(component.allowed_outbound_hosts.iter().map(String::as_str))
                .map_err(|e| anyhow::anyhow!("component {id}: {e}"))?;
        services.insert(
            id.clone(),
            Arc::new(ComponentServices {
                component_id: id.clone(),
                variables: variables.remove(&id).unwrap_or_default(),
                sqlite,
                key_value,
                outbound,
                postgres: connections.postgres.clone(),
                redis: connections.redis.clone(),
            }),
        );
    }
    Ok(services)
}

/// The token rules of the first component given a `jwt_secret`: the host
/// verifies bearer tokens (to key the rate limiter) exactly as it does.
fn token_settings(services: &BTreeMap<String, Arc<ComponentServices>>) -> Option<JwtSettings> {
    services
        .values()
        .find_map(|s| JwtSettings::verifier(|name| s.variables.get(name).map(str::to_owned)))
}
