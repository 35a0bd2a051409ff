//! `spin.toml` (manifest version 2): the one source of routes, components and
//! variables, read the same way Spin reads it.

mod route;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use route::{RouteMatch, RoutePattern, Routes};

/// Why a manifest cannot be used; each renders as one readable line.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("manifest {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: AppDetails,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

/// The `[application]` table (Spin's name for it too).
#[derive(Debug, Clone, Deserialize)]
pub struct AppDetails {
    pub name: String,
}

/// An application variable: a default, or required; `secret` keeps it out of logs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpTrigger {
    pub route: String,
    pub component: String,
    #[serde(default)]
    pub dependencies: TriggerDependencies,
}

/// `dependencies` of an HTTP trigger (Spin 4.1): the middleware components
/// Spin composes in front of the trigger's component, outermost first.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerDependencies {
    #[serde(default)]
    pub middleware: Vec<Middleware>,
}

/// One middleware entry. Spin also takes `path`, `url` and `package`
/// entries; this host takes components of the manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct Middleware {
    pub component: Option<String>,
    /// What the middleware may use of the trigger's component: `true` (all),
    /// `false` or absent (nothing), or a list of capability sets
    /// (`variables`, `key_value_stores`, ...; see `capability_set`).
    #[serde(default)]
    pub inherit_configuration: Option<toml::Value>,
}

impl Middleware {
    /// The middleware's component id (`validate` refuses entries without one).
    pub fn id(&self) -> &str {
        self.component.as_deref().unwrap_or_default()
    }

    /// Whether the middleware inherits the capability set `set` of the
    /// trigger's component. Unknown names are ignored, as Spin ignores them.
    pub fn inherits(&self, set: &str) -> bool {
        match &self.inherit_configuration {
            Some(toml::Value::Boolean(all)) => *all,
            Some(toml::Value::Array(sets)) => sets.iter().any(|s| s.as_str() == Some(set)),
            _ => false,
        }
    }
}

/// The `tool` table this host reads in a component: `native = true` marks a
/// component whose work the host does itself, natively (the edge
/// middleware, the catch-all 404): the host neither loads it nor routes to
/// it, and Spin serves it as usual.
pub const HOST_TOOL: &str = "mhmanus-host";

#[derive(Debug, Clone, Deserialize)]
pub struct Component {
    pub source: PathBuf,
    /// Component variables: values are templates over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub build: Option<Build>,
    /// Settings of tools other than Spin, by tool name.
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

impl Component {
    /// Whether the host does this component's work itself (see `HOST_TOOL`).
    pub fn is_native_to_host(&self) -> bool {
        self.tool
            .get(HOST_TOOL)
            .and_then(|table| table.get("native"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Build {
    pub command: String,
    #[serde(default)]
    pub workdir: Option<PathBuf>,
}

/// A manifest together with the directory its relative paths start from.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub base_dir: PathBuf,
    pub routes: Routes,
}

impl LoadedManifest {
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            path: path.to_owned(),
            message,
        };
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| invalid(e.message().to_owned()))?;
        manifest.validate().map_err(invalid)?;
        let handlers: Vec<_> = manifest
            .served_triggers()
            .map(|t| {
                (
                    t.route.as_str(),
                    t.component.as_str(),
                    manifest.handler_id(t),
                )
            })
            .collect();
        let routes = Routes::with_handlers(
            handlers
                .iter()
                .map(|(route, component, handler)| (*route, *component, handler.as_str())),
        )
        .map_err(invalid)?;
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        Ok(LoadedManifest {
            manifest,
            base_dir,
            routes,
        })
    }

    /// The component's `.wasm` path, relative paths taken from the manifest's directory.
    pub fn source_path(&self, component: &Component) -> PathBuf {
        self.base_dir.join(&component.source)
    }
}

impl Manifest {
    /// The triggers this host serves: all but those of native components.
    pub fn served_triggers(&self) -> impl Iterator<Item = &HttpTrigger> {
        self.trigger
            .http
            .iter()
            .filter(|t| !self.component[&t.component].is_native_to_host())
    }

    /// The components whose services this host provides: those its
    /// triggers name (a middleware uses its trigger's component's).
    pub fn served_components(&self) -> BTreeMap<&str, &Component> {
        self.served_triggers()
            .map(|t| (t.component.as_str(), &self.component[&t.component]))
            .collect()
    }

    /// The middleware this host composes in front of a trigger's
    /// component, outermost first: all but those it serves natively.
    pub fn composed_middleware<'m>(
        &'m self,
        trigger: &'m HttpTrigger,
    ) -> impl Iterator<Item = &'m Middleware> {
        trigger
            .dependencies
            .middleware
            .iter()
            .filter(|m| !self.component[m.id()].is_native_to_host())
    }

    /// What serves a trigger in this host: its component alone, or composed
    /// behind its middleware (`"outer > inner > component"`).
    pub fn handler_id(&self, trigger: &HttpTrigger) -> String {
        self.composed_middleware(trigger)
            .map(Middleware::id)
            .chain([trigger.component.as_str()])
            .collect::<Vec<_>>()
            .join(" > ")
    }

    /// Each handler this host loads, by id, with a trigger it serves.
    pub fn served_handlers(&self) -> BTreeMap<String, &HttpTrigger> {
        self.served_triggers()
            .map(|t| (self.handler_id(t), t))
            .collect()
    }

    fn validate(&self) -> Result<(), String> {
        if self.spin_manifest_version != 2 {
            return Err(format!(
                "spin_manifest_version is {}, only 2 is supported",
                self.spin_manifest_version
            ));
        }
        for trigger in &self.trigger.http {
            if !self.component.contains_key(&trigger.component) {
                return Err(format!(
                    "route {} names component {:?}, which is not defined",
                    trigger.route, trigger.component
                ));
            }
            let mut composed = None;
            for middleware in &trigger.dependencies.middleware {
                let Some(id) = &middleware.component else {
                    return Err(format!(
                        "route {}: middleware by path, url or package is not supported by this host; declare it as a [component]",
                        trigger.route
                    ));
                };
                let Some(component) = self.component.get(id) else {
                    return Err(format!(
                        "route {} names middleware {id:?}, which is not defined",
                        trigger.route
                    ));
                };
                // The host's own layers wrap everything it serves: a
                // middleware it replaces by them must come first, or the
                // order would differ from Spin's.
                match (component.is_native_to_host(), composed) {
                    (false, _) => composed = Some(id),
                    (true, Some(outer)) => {
                        return Err(format!(
                            "route {}: middleware {id:?}, which this host serves natively, must come before {outer:?}",
                            trigger.route
                        ));
                    }
                    (true, None) => {}
                }
            }
        }
        for (id, component) in &self.component {
            for template in component.variables.values() {
                for name in template_references(template)? {
                    if !self.variables.contains_key(name) {
                        return Err(format!(
                            "component {id} uses variable {name:?}, which [variables] does not declare"
                        ));
                    }
                }
            }
        }
        for (name, variable) in &self.variables {
            if variable.required && variable.default.is_some() {
                return Err(format!(
                    "variable {name} is both required and has a default"
                ));
            }
        }
        Ok(())
    }
}

/// The application variables a `{{ name }}` template refers to.
pub fn template_references(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in template {template:?}"))?;
        names.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// Expands a template with `lookup` for each referenced variable.
pub fn expand_template<E>(
    template: &str,
    mut lookup: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            // validate() rejects these; keep the text as written.
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        out.push_str(&lookup(after[..end].trim())?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
database_url = { default = "" }
jwt_secret = { required = true, secret = true }
[[trigger.http]]
route = "/health/..."
component = "health"
[component.health]
source = "target/health.wasm"
sqlite_databases = ["default"]
[component.health.variables]
database_url = "{{ database_url }}"
[component.health.build]
command = "cargo build"
"#;

    #[test]
    fn parses_a_v2_manifest() {
        let loaded = LoadedManifest::parse(MANIFEST, Path::new("app/spin.toml")).unwrap();
        let health = &loaded.manifest.component["health"];
        assert_eq!(
            loaded.source_path(health),
            Path::new("app/target/health.wasm")
        );
        assert_eq!(health.sqlite_databases, ["default"]);
        assert!(loaded.manifest.variables["jwt_secret"].secret);
        assert_eq!(
            &*loaded.routes.find("/health/ready").unwrap().component,
            "health"
        );
    }

    #[test]
    fn rejects_routes_to_undefined_components() {
        let text = MANIFEST.replace("component = \"health\"", "component = \"nope\"");
        let err = LoadedManifest::parse(&text, Path::new("spin.toml")).unwrap_err();
        assert!(
            err.to_string().contains("\"nope\", which is not defined"),
            "{err}"
        );
    }

    #[test]
    fn rejects_undeclared_variables_and_bad_versions() {
        let text = MANIFEST.replace("\"{{ database_url }}\"", "\"{{ nope }}\"");
        let err = LoadedManifest::parse(&text, Path::new("spin.toml")).unwrap_err();
        assert!(err.to_string().contains("\"nope\""), "{err}");
        let text = MANIFEST.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        assert!(LoadedManifest::parse(&text, Path::new("spin.toml")).is_err());
    }

    #[test]
    fn syntax_errors_are_one_line() {
        let err =
            LoadedManifest::parse("spin_manifest_version = [", Path::new("spin.toml")).unwrap_err();
        assert_eq!(err.to_string().lines().count(), 1, "{err}");
    }

    #[test]
    fn expands_templates() {
        let out = expand_template("postgres://{{ host }}:{{port}}/db", |name| {
            Ok::<_, ()>(match name {
                "host" => "127.0.0.1".into(),
                _ => "5432".into(),
            })
        });
        assert_eq!(out.unwrap(), "postgres://127.0.0.1:5432/db");
        assert_eq!(template_references("{{ a }}-{{b}}").unwrap(), ["a", "b"]);
    }

    const WITH_MIDDLEWARE: &str = r#"
spin_manifest_version = 2
[application]
name = "edge"
[[trigger.http]]
route = "/api/..."
component = "api"
dependencies.middleware = [{ component = "mw", inherit_configuration = ["variables"] }]
[[trigger.http]]
route = "/..."
component = "fallback"
[component.api]
source = "api.wasm"
[component.mw]
source = "mw.wasm"
[component.mw.tool.mhmanus-host]
native = true
[component.fallback]
source = "fallback.wasm"
[component.fallback.tool.mhmanus-host]
native = true
"#;

    #[test]
    fn components_native_to_the_host_are_neither_routed_nor_loaded() {
        let loaded = LoadedManifest::parse(WITH_MIDDLEWARE, Path::new("spin.toml")).unwrap();
        let trigger = &loaded.manifest.trigger.http[0];
        assert_eq!(
            trigger.dependencies.middleware[0].component.as_deref(),
            Some("mw")
        );
        assert_eq!(
            loaded
                .manifest
                .served_components()
                .keys()
                .collect::<Vec<_>>(),
            [&"api"]
        );
        assert!(loaded.routes.serves("/api/x"));
        assert!(
            !loaded.routes.serves("/elsewhere"),
            "the catch-all is Spin's"
        );
    }

    #[test]
    fn other_middleware_is_composed_in_front_of_its_component() {
        let foreign = WITH_MIDDLEWARE
            .replace(
                r#"[{ component = "mw","#,
                r#"[{ component = "mw" }, { component = "user","#,
            )
            .replace(
                "[component.fallback]",
                "[component.user]\nsource = \"user.wasm\"\n[component.fallback]",
            );
        let loaded = LoadedManifest::parse(&foreign, Path::new("spin.toml")).unwrap();
        let route = loaded.routes.find("/api/x").unwrap();
        assert_eq!((&*route.component, &*route.handler), ("api", "user > api"));
        let trigger = &loaded.manifest.trigger.http[0];
        let user = loaded.manifest.composed_middleware(trigger).next().unwrap();
        assert!(user.inherits("variables") && !user.inherits("key_value_stores"));
        assert_eq!(
            loaded.manifest.served_handlers().keys().collect::<Vec<_>>(),
            ["user > api"]
        );
    }

    #[test]
    fn middleware_the_host_serves_natively_must_come_first() {
        let misordered = WITH_MIDDLEWARE
            .replace(
                r#"[{ component = "mw","#,
                r#"[{ component = "user" }, { component = "mw","#,
            )
            .replace(
                "[component.fallback]",
                "[component.user]\nsource = \"user.wasm\"\n[component.fallback]",
            );
        let error = LoadedManifest::parse(&misordered, Path::new("spin.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"mw\"") && error.contains("must come before \"user\""),
            "{error}"
        );
    }

    #[test]
    fn middleware_by_path_is_refused_by_name() {
        let by_path = WITH_MIDDLEWARE.replace(r#"{ component = "mw","#, r#"{ path = "mw.wasm","#);
        let error = LoadedManifest::parse(&by_path, Path::new("spin.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("by path, url or package"), "{error}");
    }
}
