//! Everything a run needs: the host and the native baseline (built in
//! release mode by `scripts/bench`), the load generator (wrk) and, when
//! installed, the other runtimes: Spin, and `wasmtime serve` at the host's
//! own wasmtime version.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::server::Kind;

pub(crate) struct Tools {
    /// The workspace (spin.toml, target/).
    pub root: PathBuf,
    pub host: PathBuf,
    pub native: PathBuf,
    pub wrk: PathBuf,
    /// The hello component: it imports WASI alone (`wasi:http`, and the CLI
    /// interfaces Rust's std asks for), no Spin interface, so every runtime
    /// serves it, `wasmtime serve` included.
    pub hello: PathBuf,
    /// `$SPIN`, or `spin` on `PATH`.
    pub spin: Option<PathBuf>,
    /// `$WASMTIME`, or `wasmtime` on `PATH`, when it is the host's version.
    pub wasmtime: Option<PathBuf>,
    /// What was found of the other runtimes (their versions), or why a
    /// runtime's column is left out.
    pub notes: Vec<String>,
}

impl Tools {
    /// Finds what `scripts/bench` built (in one cargo selection with this
    /// binary, so wasmtime is compiled once) and what is on `PATH`.
    pub(crate) fn find() -> anyhow::Result<Tools> {
        let root = workspace_root();
        let release = target_dir(&root).join("release");
        let host = release.join("mhmanus-host");
        let native = release.join("native-baseline");
        let hello = target_dir(&root).join("wasm32-wasip2/release/p2_echo.wasm");
        for built in [&host, &native, &hello] {
            anyhow::ensure!(
                built.is_file(),
                "{} is not built: run the benchmarks with scripts/bench, which builds it",
                built.display()
            );
        }
        let wrk = on_path("wrk").context(
            "wrk is not installed: scripts/bench installs it (apt-get install wrk), or install it yourself",
        )?;
        let mut notes = vec![];
        let spin = installed("SPIN", "spin");
        match &spin {
            Some(spin) => notes.push(format!("spin: {}", version_of(spin))),
            None => notes.push("no spin ($SPIN or on PATH): the Spin column is skipped".to_owned()),
        }
        let wasmtime = match installed("WASMTIME", "wasmtime") {
            None => {
                notes.push(
                    "no wasmtime ($WASMTIME or on PATH; scripts/setup wasmtime installs it): \
                     the wasmtime serve column is skipped"
                        .to_owned(),
                );
                None
            }
            Some(wasmtime) => match at_host_version(&root, &wasmtime) {
                Ok(version) => {
                    notes.push(format!("wasmtime serve (hello only): {version}"));
                    Some(wasmtime)
                }
                Err(why) => {
                    notes.push(format!("{why}: the wasmtime serve column is skipped"));
                    None
                }
            },
        };
        Ok(Tools {
            host,
            native,
            wrk,
            hello,
            spin,
            wasmtime,
            notes,
            root,
        })
    }

    /// Whether this kind of server can run here: the host and the native
    /// baseline always (they are built), the other runtimes when found.
    pub(crate) fn has(&self, kind: Kind) -> bool {
        match kind {
            Kind::Native | Kind::Host => true,
            Kind::Spin => self.spin.is_some(),
            Kind::Wasmtime => self.wasmtime.is_some(),
        }
    }
}

/// `$variable` when set, else `name` on `PATH`.
fn installed(variable: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)),
        None => on_path(name),
    }
}

/// What `program --version` prints, as in "wasmtime 50.0.1 (...)", or
/// nothing when it does not run.
fn version_of(program: &Path) -> String {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Whether `wasmtime` is the exact version the workspace pins the host's
/// wasmtime at (`wasmtime = { version = "=X" ...` in Cargo.toml, as
/// scripts/setup reads it): the column measures the same engine. Gives
/// what it printed.
fn at_host_version(root: &Path, wasmtime: &Path) -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("wasmtime = { version = \"="))
        .and_then(|rest| rest.split('"').next())
        .context("no exact wasmtime version in Cargo.toml")?;
    let found = version_of(wasmtime);
    anyhow::ensure!(
        found.split_whitespace().nth(1) == Some(wanted),
        "{} is {found:?}, not the host's wasmtime {wanted} (scripts/setup wasmtime installs it)",
        wasmtime.display()
    );
    Ok(found)
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
