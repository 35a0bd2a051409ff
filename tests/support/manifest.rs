//! spin.toml texts for the tests: an application of built test guests, one
//! route each, written as a user would write it for Spin.

use toml::{Table, Value};

/// An application: `route` adds the common case, `component` one with
/// more; `to_string()` is the manifest's text.
#[derive(Clone)]
pub struct TestManifest {
    name: String,
    variables: Table,
    components: Vec<TestComponent>,
    /// Components without a route of their own: middleware, by id.
    middleware: Table,
}

/// A component serving one route with a built guest, and what it may reach.
#[derive(Clone)]
pub struct TestComponent {
    id: String,
    route: String,
    guest: String,
    entries: Table,
    variables: Table,
    /// `dependencies.middleware` of the component's trigger.
    middleware: Vec<Value>,
}

impl TestManifest {
    pub fn new(name: &str) -> Self {
        TestManifest {
            name: name.to_owned(),
            variables: Table::new(),
            components: Vec::new(),
            middleware: Table::new(),
        }
    }

    /// A middleware component `id`, the built guest `guest`, which
    /// triggers name with `TestComponent::behind`.
    pub fn middleware(mut self, id: &str, guest: &str) -> Self {
        let mut entry = Table::new();
        let source = crate::built_wasm(guest);
        entry.insert("source".into(), source.display().to_string().into());
        self.middleware.insert(id.into(), entry.into());
        self
    }

    /// `route` served by the built guest `guest` (its crate name) as `id`.
    pub fn route(self, route: &str, id: &str, guest: &str) -> Self {
        self.component(TestComponent::new(route, id, guest))
    }

    pub fn component(mut self, component: TestComponent) -> Self {
        self.components.push(component);
        self
    }

    /// An application variable with a default.
    pub fn variable(mut self, name: &str, default: &str) -> Self {
        let mut declaration = Table::new();
        declaration.insert("default".into(), default.into());
        self.variables.insert(name.into(), declaration.into());
        self
    }

    /// An application variable without a default, kept out of logs.
    pub fn secret(mut self, name: &str) -> Self {
        let mut declaration = Table::new();
        declaration.insert("required".into(), true.into());
        declaration.insert("secret".into(), true.into());
        self.variables.insert(name.into(), declaration.into());
        self
    }
}

impl TestComponent {
    pub fn new(route: &str, id: &str, guest: &str) -> Self {
        TestComponent {
            id: id.to_owned(),
            route: route.to_owned(),
            guest: guest.to_owned(),
            entries: Table::new(),
            variables: Table::new(),
            middleware: Vec::new(),
        }
    }

    /// Puts the middleware `id` in front of this component (inside those
    /// named before), inheriting the capability sets `inherits`.
    pub fn behind(mut self, id: &str, inherits: &[&str]) -> Self {
        let mut entry = Table::new();
        entry.insert("component".into(), id.into());
        let inherits = inherits.iter().map(|set| Value::from(*set)).collect();
        entry.insert("inherit_configuration".into(), Value::Array(inherits));
        self.middleware.push(entry.into());
        self
    }

    /// A list entry of the component: `sqlite_databases`,
    /// `key_value_stores`, `allowed_outbound_hosts`.
    pub fn list(mut self, key: &str, items: &[&str]) -> Self {
        let items = items.iter().map(|item| Value::from(*item)).collect();
        self.entries.insert(key.into(), Value::Array(items));
        self
    }

    /// A component variable; its value may name application variables
    /// (`{{ name }}`).
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }
}

impl std::fmt::Display for TestManifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut application = Table::new();
        application.insert("name".into(), self.name.as_str().into());
        let mut triggers = Vec::new();
        let mut components = Table::new();
        for component in &self.components {
            let mut trigger = Table::new();
            trigger.insert("route".into(), component.route.as_str().into());
            trigger.insert("component".into(), component.id.as_str().into());
            if !component.middleware.is_empty() {
                let mut dependencies = Table::new();
                dependencies.insert("middleware".into(), component.middleware.clone().into());
                trigger.insert("dependencies".into(), dependencies.into());
            }
            triggers.push(Value::from(trigger));
            let mut entry = component.entries.clone();
            let source = crate::built_wasm(&component.guest);
            entry.insert("source".into(), source.display().to_string().into());
            if !component.variables.is_empty() {
                entry.insert("variables".into(), component.variables.clone().into());
            }
            components.insert(component.id.clone(), entry.into());
        }
        components.extend(self.middleware.clone());
        let mut http = Table::new();
        http.insert("http".into(), Value::Array(triggers));
        let mut manifest = Table::new();
        manifest.insert("spin_manifest_version".into(), 2.into());
        manifest.insert("application".into(), application.into());
        if !self.variables.is_empty() {
            manifest.insert("variables".into(), self.variables.clone().into());
        }
        manifest.insert("trigger".into(), http.into());
        manifest.insert("component".into(), components.into());
        f.write_str(&toml::to_string(&manifest).map_err(|_| std::fmt::Error)?)
    }
}
