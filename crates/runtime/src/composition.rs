//! Spin's HTTP middleware (`dependencies.middleware`), composed as Spin
//! composes it: each middleware imports `wasi:http/handler` as the next
//! handler and exports its own; the chain ends at the trigger's component,
//! and the composition exports the outermost middleware's handler. The
//! result is one component, loaded like any other.

use anyhow::{Context as _, bail};
use mhmanus_manifest::Middleware;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// A middleware of the chain: its manifest entry and its bytes.
pub(super) struct Layer<'a> {
    pub(super) entry: &'a Middleware,
    pub(super) wasm: Vec<u8>,
}

/// `component` behind `middleware`, outermost first.
pub(super) fn compose(component: Vec<u8>, middleware: Vec<Layer<'_>>) -> anyhow::Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let component = Package::from_bytes("component", None, component, graph.types_mut())?;
    let world = &graph.types()[component.ty()];
    let Some(handler) = world
        .exports
        .keys()
        .find(|name| name.starts_with("wasi:http/handler@0.3"))
        .cloned()
    else {
        bail!("it exports no wasi:http/handler@0.3, which is what middleware calls");
    };
    let component = graph.register_package(component)?;
    let mut layers = Vec::new();
    for (index, layer) in middleware.into_iter().enumerate() {
        let id = layer.entry.id();
        let package = Package::from_bytes(
            &format!("middleware{index}"),
            None,
            layer.wasm,
            graph.types_mut(),
        )
        .with_context(|| format!("middleware {id}"))?;
        let world = &graph.types()[package.ty()];
        if !world.imports.contains_key(&handler) || !world.exports.contains_key(&handler) {
            bail!("middleware {id} does not import and export {handler}, as the component does");
        }
        for import in world.imports.keys() {
            if let Some(set) = capability_set(import)
                && !layer.entry.inherits(set)
            {
                bail!(
                    "middleware {id} imports {import}, which needs `inherit_configuration` to include {set:?}: this host does not deny a middleware what its component may use, so it refuses to start"
                );
            }
        }
        layers.push((id, graph.register_package(package)?));
    }
    // From the component outwards: each layer's "next" is what is inside it.
    let instance = graph.instantiate(component);
    let mut next = graph.alias_instance_export(instance, &handler)?;
    for (id, package) in layers.into_iter().rev() {
        let instance = graph.instantiate(package);
        graph
            .set_instantiation_argument(instance, &handler, next)
            .with_context(|| format!("middleware {id} cannot call the next handler"))?;
        next = graph.alias_instance_export(instance, &handler)?;
    }
    graph.export(next, &handler)?;
    Ok(graph.encode(EncodeOptions::default())?)
}

/// The manifest's capability set (as `inherit_configuration` names it) an
/// import belongs to. `environment` and `files` are absent: this host gives
/// no component either.
fn capability_set(import: &str) -> Option<&'static str> {
    const SETS: &[(&str, &[&str])] = &[
        (
            "variables",
            &[
                "spin:variables/",
                "fermyon:spin/variables",
                "fermyon:spin/config",
                "wasi:config/",
            ],
        ),
        (
            "key_value_stores",
            &[
                "spin:key-value/",
                "fermyon:spin/key-value",
                "wasi:keyvalue/",
            ],
        ),
        ("sqlite_databases", &["spin:sqlite/", "fermyon:spin/sqlite"]),
        (
            "allowed_outbound_hosts",
            &[
                "wasi:http/client",
                "wasi:http/outgoing-handler",
                "wasi:sockets/",
                "spin:postgres/",
                "spin:redis/",
                "spin:mysql/",
                "spin:mqtt/",
                "fermyon:spin/postgres",
                "fermyon:spin/redis",
                "fermyon:spin/mysql",
                "fermyon:spin/mqtt",
                "fermyon:spin/http",
            ],
        ),
        ("ai_models", &["fermyon:spin/llm"]),
    ];
    // An entry ending in '/' is a whole package, any other one interface.
    let interface = import.split('@').next().unwrap_or(import);
    let belongs = |entry: &&str| match entry.strip_suffix('/') {
        Some(package) => interface.split('/').next() == Some(package),
        None => interface == *entry,
    };
    SETS.iter()
        .find(|(_, entries)| entries.iter().any(belongs))
        .map(|(set, _)| *set)
}

#[cfg(test)]
mod tests {
    use super::capability_set;

    #[test]
    fn imports_belong_to_the_sets_spin_names() {
        assert_eq!(
            capability_set("spin:variables/variables@3.0.0"),
            Some("variables")
        );
        assert_eq!(
            capability_set("fermyon:spin/key-value@2.0.0"),
            Some("key_value_stores")
        );
        assert_eq!(
            capability_set("wasi:http/client@0.3.0"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(
            capability_set("spin:postgres/postgres@4.2.0"),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(capability_set("wasi:http/types@0.3.0"), None);
        assert_eq!(capability_set("fermyon:spin/http-types"), None);
        assert_eq!(capability_set("wasi:cli/environment@0.2.6"), None);
    }
}
