//! Shared helpers for the test suites: where the workspace and the built
//! components are.

use std::path::PathBuf;

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// A component built by `scripts/test` (or `scripts/build`) for wasm32-wasip2.
pub fn built_wasm(crate_name: &str) -> PathBuf {
    let path = workspace_root()
        .join("target/wasm32-wasip2/release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(
        path.exists(),
        "{} is missing: build the components first (scripts/test does)",
        path.display()
    );
    path
}
