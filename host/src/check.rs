//! `mhmanus-host check`: what `up` would find wrong, found without serving.
//! Every setting is validated, PostgreSQL and Redis are reached (TLS as
//! configured: an unreachable one is a problem here, where `up` would
//! wait), `DATA_DIR` is written to and the components are compiled and
//! linked. Then the effective settings (secrets redacted), the routes and
//! the backends. Each problem is one line naming the setting and the fix.

use std::fmt::Write as _;

use clap::ArgMatches;
use clap::parser::ValueSource;
use mhmanus_manifest::LoadedManifest;

use mhmanus_server::Tls;
use mhmanus_spin_host::redis::Clients;
use mhmanus_spin_host::{Unavailable, redact};

use crate::component_services;
use crate::config::HostConfig;
use crate::connections::{self, Connections};
use crate::data_dir;
use crate::dependencies;
use crate::summary::Summary;

/// What `check` found: a line per check passed, a line per problem, and
/// the report (settings, routes, backends).
pub struct Checked {
    pub passed: Vec<String>,
    pub problems: Vec<String>,
    pub report: String,
}

/// Runs every check; `matches` are the parsed flags and environment, for
/// the effective settings.
pub async fn check(config: &HostConfig, matches: &ArgMatches) -> Checked {
    let mut checked = Checked {
        passed: Vec::new(),
        problems: Vec::new(),
        report: String::new(),
    };
    let mut note = |outcome: Result<String, String>| match outcome {
        Ok(passed) => checked.passed.push(passed),
        Err(problem) => checked.problems.push(problem),
    };
    note(
        config
            .environment()
            .map(|env| format!("APP_ENV: {env:?}").to_lowercase())
            .map_err(|e| e.to_string()),
    );
    note(match config.server.tls_files() {
        Ok(Some(files)) => Tls::new(files.clone())
            .map(|_| format!("TLS_CERT {}: loads, with its key", files.cert.display()))
            .map_err(|e| format!("{e:#}")),
        Ok(None) => Ok("listener: plain HTTP".into()),
        Err(e) => Err(e.to_string()),
    });
    note(
        data_dir::ensure_writable(&config.data_dir)
            .map(|()| format!("DATA_DIR {}: writable", config.data_dir.display()))
            .map_err(|e| e.to_string()),
    );
    for outcome in reach_dependencies(config).await {
        note(outcome);
    }
    let loaded = LoadedManifest::load(&config.manifest);
    match &loaded {
        Ok(loaded) => note(compile(loaded, config).await),
        Err(e) => note(Err(format!("{e:#}"))),
    }
    checked.report = settings(matches);
    if let Ok(loaded) = &loaded {
        let scheme = match config.server.tls_files() {
            Ok(Some(_)) => "https",
            _ => "http",
        };
        let url = format!("{scheme}://{}", config.listen_addr());
        checked
            .report
            .push_str(&Summary::new(loaded, config).render(&url));
    }
    checked
}

/// Each configured database and Redis, reached once.
async fn reach_dependencies(config: &HostConfig) -> Vec<Result<String, String>> {
    let mut outcomes = Vec::new();
    let redis = connections::redis_clients(config).unwrap_or_else(|e| {
        outcomes.push(Err(format!("{e:#}")));
        Clients::default()
    });
    let connections = Connections::with_redis_clients(config, redis);
    for dependency in dependencies::configured(config, &connections) {
        let named = format!("{} {}", dependency.setting, dependency.shown);
        outcomes.push(match (dependency.probe)().await {
            Ok(()) => Ok(format!("{named}: answers")),
            Err(Unavailable::Unusable(why)) => Err(format!("{named}: {why}")),
            Err(Unavailable::Unreachable(why)) => Err(format!(
                "{named}: unreachable now ({why}); `up` would start and wait for it"
            )),
        });
    }
    outcomes
}

/// The components compiled and linked, with the application's variables
/// (production's rules for secrets included), as `up` loads them; the
/// dependencies are reached by `reach_dependencies`, not again here.
async fn compile(loaded: &LoadedManifest, config: &HostConfig) -> Result<String, String> {
    let mut offline = config.clone();
    offline.database_url = None;
    offline.redis_url = None;
    let compiled = async {
        let connections = Connections::new(&offline)?;
        component_services::start(loaded, &offline, &connections).await
    };
    let (components, _) = compiled.await.map_err(|e| format!("{e:#}"))?;
    let mut ids: Vec<&str> = components.component_ids().collect();
    ids.sort_unstable();
    Ok(format!(
        "components: {} compiled and linked",
        ids.join(", ")
    ))
}

/// Every setting with its effective value and where it came from;
/// secrets redacted, URLs without their passwords.
fn settings(matches: &ArgMatches) -> String {
    let command = <HostConfig as clap::Args>::augment_args(clap::Command::new("check"));
    let mut text = String::from("Settings:\n");
    for arg in command.get_arguments() {
        let Some(name) = arg.get_env().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let id = arg.get_id().as_str();
        let Some(values) = matches.get_raw(id) else {
            if !arg.is_hide_set() {
                let _ = writeln!(text, "  {name} (unset)");
            }
            continue;
        };
        let value = values
            .map(|v| v.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(",");
        let value = if name.ends_with("_URL") {
            redact::url(&value)
        } else if arg.is_hide_env_values_set() {
            "[redacted]".into()
        } else {
            value
        };
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => "environment",
            _ => "default",
        };
        let _ = writeln!(text, "  {name}={value}  ({source})");
    }
    text
}
