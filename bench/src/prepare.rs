//! Everything a run needs, built in release mode or found on `PATH`: the
//! components, the host, the native baseline, the load generator (wrk)
//! and, when installed, Spin.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

pub const COMPONENTS: [&str; 3] = ["auth", "health", "production-test"];

pub struct Tools {
    /// The workspace (spin.toml, target/).
    pub root: PathBuf,
    pub host: PathBuf,
    pub native: PathBuf,
    pub wrk: PathBuf,
    pub spin: Option<PathBuf>,
}

impl Tools {
    /// Builds what is missing or stale (cargo decides), then finds the tools.
    pub fn prepare(build: bool) -> anyhow::Result<Tools> {
        let root = workspace_root();
        if build {
            let mut wasm = cargo(&root);
            wasm.args(["build", "--release", "--target", "wasm32-wasip2"]);
            for component in COMPONENTS {
                wasm.args(["-p", component]);
            }
            run(wasm)?;
            let mut servers = cargo(&root);
            servers.args([
                "build",
                "--release",
                "-p",
                "mhmanus-host",
                "-p",
                "native-baseline",
            ]);
            run(servers)?;
        }
        let release = target_dir(&root).join("release");
        let wrk = on_path("wrk").context(
            "wrk is not installed: scripts/bench installs it (apt-get install wrk), or install it yourself",
        )?;
        Ok(Tools {
            host: release.join("mhmanus-host"),
            native: release.join("native-baseline"),
            wrk,
            spin: on_path("spin"),
            root,
        })
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_owned()
}

pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// The cargo that runs us (`cargo run` sets `CARGO`), in the workspace.
pub fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

pub fn run(mut command: Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    anyhow::ensure!(status.success(), "{command:?} failed ({status})");
    Ok(())
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
