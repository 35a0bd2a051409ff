//! The WIT worlds in `wit/` are the contract: each built component must fit
//! its declared world (imports no more, exports what it says), checked the
//! way `wasm-tools component targets` does.

use mhmanus_tests::{built_wasm, workspace_root};
use wit_parser::Resolve;

fn check_targets(crate_name: &str, world: &str) -> anyhow::Result<()> {
    let mut resolve = Resolve::new();
    let (package, _) = resolve.push_dir(workspace_root().join("wit"))?;
    let world = resolve.select_world(&[package], Some(world))?;
    let wasm = std::fs::read(built_wasm(crate_name))?;
    wit_component::targets(&resolve, world, &wasm, true)
}

#[test]
fn health_fits_its_world() {
    check_targets("health", "health").unwrap();
}

#[test]
fn auth_fits_its_world() {
    check_targets("auth", "auth").unwrap();
}

#[test]
fn production_test_fits_its_world() {
    check_targets("production-test", "production-test").unwrap();
}

#[test]
fn the_check_rejects_a_component_that_imports_more_than_its_world() {
    // health imports spin:sqlite and friends; the bare base world does not offer them.
    let err = check_targets("health", "base").unwrap_err();
    assert!(format!("{err:#}").contains("spin:"), "{err:#}");
}
