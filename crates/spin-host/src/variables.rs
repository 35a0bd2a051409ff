//! `spin:variables`: each component sees the variables its manifest entry
//! declares, resolved from the host's configuration, `SPIN_VARIABLE_<NAME>`
//! and the manifest defaults, in that order of precedence.

use std::collections::{BTreeMap, HashMap};

use wasmtime::component::Accessor;

use super::bindings::spin::variables::variables::{self as wit, Error};
use super::{Spin, SpinView};
use mhmanus_manifest::{Manifest, expand_template};

/// How Spin's environment provider names a variable's value.
pub const SPIN_VARIABLE_PREFIX: &str = "SPIN_VARIABLE_";

/// One component's resolved variables.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables {
    values: HashMap<String, String>,
}

impl ComponentVariables {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// Resolves every component's variables once, at start-up, so a required
/// variable left unset stops the host before it serves anything.
pub fn resolve(
    manifest: &Manifest,
    host_values: &BTreeMap<String, String>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<HashMap<String, ComponentVariables>> {
    let app_value = |name: &str| -> anyhow::Result<String> {
        if let Some(value) = host_values.get(name) {
            return Ok(value.clone());
        }
        if let Some(value) = env(&format!(
            "{SPIN_VARIABLE_PREFIX}{}",
            name.to_ascii_uppercase()
        )) {
            return Ok(value);
        }
        let declared = manifest
            .variables
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("variable {name:?} is not declared in [variables]"))?;
        declared.default.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "variable {name:?} is required: set SPIN_VARIABLE_{}",
                name.to_ascii_uppercase()
            )
        })
    };
    manifest
        .component
        .iter()
        .map(|(id, component)| {
            let values = component
                .variables
                .iter()
                .map(|(name, template)| Ok((name.clone(), expand_template(template, app_value)?)))
                .collect::<anyhow::Result<_>>()
                .map_err(|e| e.context(format!("component {id}")))?;
            Ok((id.clone(), ComponentVariables { values }))
        })
        .collect()
}

/// Spin's rule for variable names: lowercase ASCII letters, digits and `_`, starting with a letter.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl wit::Host for SpinView<'_> {}

impl<T> wit::HostWithStore<T> for Spin {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> anyhow::Result<Result<String, Error>> {
        if !is_valid_name(&name) {
            return Ok(Err(Error::InvalidName(name)));
        }
        let value = accessor.with(|mut access| {
            access
                .get()
                .services
                .variables
                .get(&name)
                .map(str::to_owned)
        });
        Ok(value.ok_or(Error::Undefined(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mhmanus_manifest::LoadedManifest;
    use std::path::Path;

    fn manifest() -> Manifest {
        let text = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
database_url = { default = "" }
redis_host = { default = "127.0.0.1" }
jwt_secret = { required = true, secret = true }
[component.a]
source = "a.wasm"
[component.a.variables]
database_url = "{{ database_url }}"
redis_url = "redis://{{ redis_host }}:6379"
secret = "{{ jwt_secret }}"
"#;
        LoadedManifest::parse(text, Path::new("spin.toml"))
            .unwrap()
            .manifest
    }

    #[test]
    fn host_values_win_over_env_which_wins_over_defaults() {
        let host = BTreeMap::from([("database_url".to_owned(), "postgres://db".to_owned())]);
        let env = |key: &str| match key {
            "SPIN_VARIABLE_DATABASE_URL" => Some("postgres://ignored".to_owned()),
            "SPIN_VARIABLE_JWT_SECRET" => Some("s3cret".to_owned()),
            _ => None,
        };
        let vars = &resolve(&manifest(), &host, env).unwrap()["a"];
        assert_eq!(vars.get("database_url"), Some("postgres://db"));
        assert_eq!(vars.get("redis_url"), Some("redis://127.0.0.1:6379"));
        assert_eq!(vars.get("secret"), Some("s3cret"));
        assert_eq!(vars.get("undeclared"), None);
    }

    #[test]
    fn a_required_variable_left_unset_is_a_start_up_error() {
        let err = resolve(&manifest(), &BTreeMap::new(), |_| None).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("SPIN_VARIABLE_JWT_SECRET"), "{message}");
        assert!(message.contains("component a"), "{message}");
    }

    #[test]
    fn names_follow_spin_rules() {
        assert!(is_valid_name("database_url"));
        assert!(!is_valid_name("Database"));
        assert!(!is_valid_name("1abc"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a-b"));
    }
}
