//! Everything a run needs: the host and the native baseline (built in
//! release mode by `scripts/bench`), the load generator (wrk) and, when
//! installed, Spin.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub(crate) struct Tools {
    /// The workspace (spin.toml, target/).
    pub root: PathBuf,
    pub host: PathBuf,
    pub native: PathBuf,
    pub wrk: PathBuf,
    pub spin: Option<PathBuf>,
}

impl Tools {
    /// Finds what `scripts/bench` built (in one cargo selection with this
    /// binary, so wasmtime is compiled once) and what is on `PATH`.
    pub(crate) fn find() -> anyhow::Result<Tools> {
        let root = workspace_root();
        let release = target_dir(&root).join("release");
        let host = release.join("mhmanus-host");
        let native = release.join("native-baseline");
        for built in [&host, &native] {
            anyhow::ensure!(
                built.is_file(),
                "{} is not built: run the benchmarks with scripts/bench, which builds it",
                built.display()
            );
        }
        let wrk = on_path("wrk").context(
            "wrk is not installed: scripts/bench installs it (apt-get install wrk), or install it yourself",
        )?;
        Ok(Tools {
            host,
            native,
            wrk,
            spin: on_path("spin"),
            root,
        })
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_owned()
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
