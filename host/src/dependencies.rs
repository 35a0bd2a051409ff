//! The PostgreSQL and Redis the host is configured with (`DATABASE_URL`,
//! `REDIS_URL`), checked at start-up. An address that can never work as
//! written (bad URL or scheme, TLS refused or unverifiable, credentials
//! refused) stops start-up with one line naming the setting. One that is
//! only unreachable does not: the host serves, `/health/ready` says what it
//! waits for, and a task retries with back-off until the server answers, so
//! a pod started during an outage waits instead of crash-looping.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::ExposeSecret;

use mhmanus_spin_host::{Unavailable, redact};

use crate::config::HostConfig;
use crate::connections::Connections;

/// The configured database and Redis, each with its start-up probe.
pub(crate) fn configured(config: &HostConfig, connections: &Connections) -> Vec<Dependency> {
    let mut dependencies = Vec::new();
    if let Some(url) = &config.database_url {
        let (url, postgres) = (url.expose_secret().to_owned(), connections.postgres.clone());
        dependencies.push(Dependency {
            name: "postgres",
            setting: "DATABASE_URL",
            shown: redact::url(&url),
            probe: Box::new(move || {
                let (url, postgres) = (url.clone(), postgres.clone());
                Box::pin(async move {
                    // The components open SQLite for anything else: say so now.
                    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                        // Only a word that can be a scheme: never a password.
                        let scheme = url
                            .split_once("://")
                            .map(|(scheme, _)| scheme)
                            .filter(|scheme| {
                                scheme
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                            })
                            .unwrap_or("(none)");
                        return Err(Unavailable::Unusable(format!(
                            "the scheme {scheme:?} is not PostgreSQL's; use \
                             postgres://user:password@host:5432/db (or leave it unset for SQLite in DATA_DIR)"
                        )));
                    }
                    postgres.probe(&url).await
                })
            }),
        });
    }
    if let Some(url) = &config.redis_url {
        let (url, redis) = (url.expose_secret().to_owned(), connections.redis.clone());
        dependencies.push(Dependency {
            name: "redis",
            setting: "REDIS_URL",
            shown: redact::url(&url),
            probe: Box::new(move || {
                let (url, redis) = (url.clone(), redis.clone());
                Box::pin(async move { redis.probe(&url).await })
            }),
        });
    }
    dependencies
}

/// The first retry comes this soon; each later one waits twice as long,
/// up to `MAX_RETRY_DELAY` (each attempt is one log line).
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);

/// A configured dependency: what it is called, the setting that names it,
/// and how to check it.
pub(crate) struct Dependency {
    pub(crate) name: &'static str,
    pub(crate) setting: &'static str,
    /// The address as logs may show it (no password).
    pub(crate) shown: String,
    pub(crate) probe: Box<dyn Fn() -> BoxFuture<'static, Result<(), Unavailable>> + Send + Sync>,
}

/// What the host still waits for, by dependency name.
#[derive(Debug, Default)]
pub(crate) struct Dependencies {
    waiting: Mutex<BTreeMap<&'static str, Waiting>>,
}

/// One dependency waited for: its setting, the attempts so far, and
/// whether the last one was refused (a setting to fix) rather than
/// unanswered.
#[derive(Debug, Clone)]
pub(crate) struct Waiting {
    pub(crate) setting: &'static str,
    pub(crate) attempts: u32,
    pub(crate) refused: bool,
}

impl Dependencies {
    /// Checks each dependency once: an unusable one is an error naming its
    /// setting; an unreachable one is waited for in the background.
    pub(crate) async fn check(dependencies: Vec<Dependency>) -> anyhow::Result<Arc<Self>> {
        let this = Arc::new(Dependencies::default());
        for dependency in dependencies {
            match (dependency.probe)().await {
                Ok(()) => {}
                Err(Unavailable::Unusable(why)) => {
                    anyhow::bail!("{} {}: {why}", dependency.setting, dependency.shown)
                }
                Err(Unavailable::Unreachable(why)) => {
                    tracing::warn!(
                        dependency = dependency.name,
                        address = %dependency.shown,
                        error = %why,
                        "{} is unreachable: serving, not ready, retrying in {} s",
                        dependency.setting,
                        FIRST_RETRY_DELAY.as_secs()
                    );
                    this.set(&dependency, 1, false);
                    tokio::spawn(this.clone().wait_for(dependency));
                }
            }
        }
        Ok(this)
    }

    /// What is still waited for, for readiness.
    pub(crate) fn waiting(&self) -> BTreeMap<&'static str, Waiting> {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, dependency: &Dependency, attempts: u32, refused: bool) {
        let waiting = Waiting {
            setting: dependency.setting,
            attempts,
            refused,
        };
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dependency.name, waiting);
    }

    /// Retries with back-off until `dependency` answers. Once it does, the
    /// components reach it on their next request (migrations included).
    async fn wait_for(self: Arc<Self>, dependency: Dependency) {
        let mut delay = FIRST_RETRY_DELAY;
        let mut attempts = 1;
        loop {
            tokio::time::sleep(delay).await;
            attempts += 1;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
            match (dependency.probe)().await {
                Ok(()) => {
                    self.waiting
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(dependency.name);
                    tracing::info!(
                        dependency = dependency.name,
                        address = %dependency.shown,
                        attempts,
                        "{} answers", dependency.setting
                    );
                    return;
                }
                Err(Unavailable::Unreachable(why)) => {
                    self.set(&dependency, attempts, false);
                    tracing::warn!(
                        dependency = dependency.name,
                        address = %dependency.shown,
                        error = %why,
                        attempts,
                        "{} is still unavailable: retrying in {} s",
                        dependency.setting,
                        delay.as_secs()
                    );
                }
                // It answers now, and refuses: not ready until the setting
                // (or the server) is fixed; said as an error each time.
                Err(Unavailable::Unusable(why)) => {
                    self.set(&dependency, attempts, true);
                    tracing::error!(
                        dependency = dependency.name,
                        address = %dependency.shown,
                        error = %why,
                        attempts,
                        "{} answers but refuses: fix the setting; retrying in {} s",
                        dependency.setting,
                        delay.as_secs()
                    );
                }
            }
        }
    }
}
