//! One server under test, in its own process on a loopback port: started,
//! waited on until `/health/ready` answers 200, measured from `/proc`
//! (resident memory, CPU time), and stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::prepare::Tools;

/// The JWT secret every server signs with (the bench signs its tokens too).
pub(crate) const JWT_SECRET: &str = "benchmark-secret-of-at-least-32-bytes";
/// How long a start may take: a cold host compiles every component.
const START_TIMEOUT: Duration = Duration::from_secs(300);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    /// The native baseline: the same logic compiled natively, no Wasm.
    Native,
    /// `mhmanus-host` serving the `.wasm` components.
    Host,
    /// `spin up` on the same `.wasm` components.
    Spin,
    /// `wasmtime serve`: the bare runtime, on the hello component only.
    Wasmtime,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Native => "native",
            Kind::Host => "host",
            Kind::Spin => "spin",
            Kind::Wasmtime => "wasmtime",
        }
    }

    /// The variable, and its value, that point this server's components
    /// at the PostgreSQL database at `url`.
    pub(crate) fn database_url(self, url: &str) -> (&'static str, String) {
        match self {
            // Spin's client asks for TLS unless told not to, and a local
            // server's certificate does not name 127.0.0.1.
            Kind::Spin => {
                let join = if url.contains('?') { '&' } else { '?' };
                (
                    "SPIN_VARIABLE_DATABASE_URL",
                    format!("{url}{join}sslmode=disable"),
                )
            }
            _ => ("DATABASE_URL", url.to_owned()),
        }
    }
}

/// What a server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum App {
    /// This repository's spin.toml: every component behind the edge layers.
    Edge,
    /// The hello component alone, at every path (`Scenario::Hello`).
    Hello,
}

pub(crate) struct Server {
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub data_dir: PathBuf,
    /// From the spawn to the first 200 from `/health/ready`.
    pub ready_after: Duration,
    child: tokio::process::Child,
}

impl Server {
    /// Starts `kind` over `data_dir` (created if missing; a host keeps its
    /// compile cache there) with the rate limiter out of the way.
    pub(crate) async fn start(
        kind: Kind,
        tools: &Tools,
        data_dir: &Path,
    ) -> anyhow::Result<Server> {
        Server::start_with(kind, App::Edge, tools, data_dir, &[]).await
    }

    /// `start`, serving `app`, with these environment variables set on top.
    pub(crate) async fn start_with(
        kind: Kind,
        app: App,
        tools: &Tools,
        data_dir: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        std::fs::create_dir_all(data_dir)?;
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let manifest = match app {
            App::Edge => tools.root.join("spin.toml"),
            App::Hello => {
                let manifest = data_dir.join("hello.toml");
                std::fs::write(&manifest, hello_manifest(&tools.hello))?;
                manifest
            }
        };
        let mut command = match kind {
            Kind::Native => {
                anyhow::ensure!(
                    app == App::Edge,
                    "the native baseline serves no hello component"
                );
                let mut command = tokio::process::Command::new(&tools.native);
                command.env("DATA_DIR", data_dir).env("LISTEN", &listen);
                command
            }
            Kind::Host => {
                let mut command = tokio::process::Command::new(&tools.host);
                command
                    .arg("up")
                    .env("SPIN_MANIFEST", &manifest)
                    .env("DATA_DIR", data_dir)
                    .env("LISTEN", &listen)
                    .env("RATE_LIMIT", "off")
                    .env("RATE_LIMIT_ROUTES", NO_ROUTE_LIMITS)
                    // The figures are the runtime's, with no cap on
                    // logins at once (`password-attack` measures that).
                    .env("MAX_PASSWORD_CHECKS", "100000")
                    // All the load comes from one address.
                    .env("MAX_CONNECTIONS_PER_CLIENT", "0");
                command
            }
            Kind::Spin => {
                let spin = tools.spin.as_ref().context("spin is not installed")?;
                let runtime_config = data_dir.join("runtime-config.toml");
                std::fs::write(&runtime_config, spin_runtime_config(data_dir))?;
                let mut command = tokio::process::Command::new(spin);
                command
                    .arg("up")
                    .arg("--from")
                    .arg(&manifest)
                    .args(["--listen", &listen])
                    .arg("--runtime-config-file")
                    .arg(&runtime_config)
                    // Its logs and state here, not beside the manifest.
                    .arg("--state-dir")
                    .arg(data_dir.join("state"))
                    .env("SPIN_VARIABLE_JWT_SECRET", JWT_SECRET)
                    // The edge middleware's limiter, off as the host's is:
                    // on, every request past the tenth of a minute is a 429.
                    .env("SPIN_VARIABLE_RATE_LIMIT", "off")
                    .env("SPIN_VARIABLE_RATE_LIMIT_ROUTES", NO_ROUTE_LIMITS);
                command
            }
            Kind::Wasmtime => {
                anyhow::ensure!(
                    app == App::Hello,
                    "wasmtime serve serves only the hello component"
                );
                let wasmtime = tools
                    .wasmtime
                    .as_ref()
                    .context("wasmtime is not installed")?;
                // Its defaults (the pooling allocator where it fits, an
                // instance per request): the runtime as a user gets it.
                let mut command = tokio::process::Command::new(wasmtime);
                command
                    .arg("serve")
                    // Rust's std imports `wasi:cli/environment`, which the
                    // proxy world that serve links by default lacks.
                    .args(["-S", "cli"])
                    .args(["--addr", &listen])
                    .arg(&tools.hello);
                command
            }
        };
        // Nothing of the bench's own environment (a DATABASE_URL, a log
        // level, backtraces captured on every error) may change what is
        // measured; a .env is not found from the data directory.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("server.log"))?;
        command
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("APP_ENV")
            .env_remove("NODE_ENV")
            .env_remove("ADMIN_EMAIL")
            .env_remove("ADMIN_PASSWORD")
            .env_remove("MHMANUS_CONFIG")
            .env_remove("RUST_LOG")
            .env_remove("RUST_BACKTRACE")
            .env("JWT_SECRET", JWT_SECRET)
            .envs(env.iter().copied())
            .current_dir(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the {} server", kind.name()))?;
        let base = format!("http://{listen}");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "the {} server exited ({status}) before it was ready:\n{}",
                    kind.name(),
                    log_tail(data_dir)
                );
            }
            if let Ok(response) = client.get(format!("{base}/health/ready")).send().await
                && response.status() == 200
            {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < START_TIMEOUT,
                "the {} server was not ready within {START_TIMEOUT:?}:\n{}",
                kind.name(),
                log_tail(data_dir)
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(Server {
            kind,
            base,
            data_dir: data_dir.to_owned(),
            ready_after: started.elapsed(),
            child,
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server has exited")
    }

    /// Resident memory now, in KiB.
    pub(crate) fn rss_kib(&self) -> anyhow::Result<u64> {
        status_field(self.pid()?, "VmRSS")
    }

    /// The peak resident memory since the last `reset_peak_rss`, in KiB.
    pub(crate) fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        status_field(self.pid()?, "VmHWM")
    }

    pub(crate) fn reset_peak_rss(&self) -> anyhow::Result<()> {
        // "5" resets the peak resident set size (proc(5), clear_refs).
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()?), "5")
            .context("cannot reset the peak RSS")
    }

    /// Waits until the server has been idle for a moment (requests a load
    /// generator gave up on may still be running), so that one measurement
    /// does not pay for the previous one.
    pub(crate) async fn settle(&self) -> anyhow::Result<()> {
        let pid = self.pid()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut before = cpu_ticks(pid)?;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = cpu_ticks(pid)?;
            // At most 1 tick (10 ms at USER_HZ 100) of CPU in 200 ms.
            if now.saturating_sub(before) <= 1 {
                return Ok(());
            }
            before = now;
        }
        Ok(())
    }

    /// Sends SIGTERM, as an orchestrator stopping the server would.
    pub(crate) fn terminate(&self) {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id as i32))
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }

    /// SIGTERM, then waits for the exit (killing it after `STOP_TIMEOUT`).
    pub(crate) async fn stop(mut self) -> anyhow::Result<std::process::ExitStatus> {
        self.terminate();
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("the {} server ignored SIGTERM", self.kind.name());
            }
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The login and register limits, off: the load comes from one address.
const NO_ROUTE_LIMITS: &str = "/v1/auth/login=off,/v1/auth/register=off";

/// A manifest, read by Spin and the host alike, with the hello component
/// at every path.
pub(crate) fn hello_manifest(component: &Path) -> String {
    format!(
        "spin_manifest_version = 2\n\n[application]\nname = \"hello\"\n\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\n\
         [component.hello]\nsource = {component:?}\n"
    )
}

/// Spin's stores in the bench's directory: the default SQLite database at
/// the path the bench seeds, key-value beside it.
fn spin_runtime_config(data_dir: &Path) -> String {
    format!(
        "[sqlite_database.default]\ntype = \"spin\"\npath = {:?}\n\n[key_value_store.default]\ntype = \"spin\"\npath = {:?}\n",
        data_dir.join("sqlite_db.db"),
        data_dir.join("key_value.db"),
    )
}

fn status_field(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// User plus system CPU time, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces; the fields after it do not.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("unreadable /proc stat")?
        .1
        .split_whitespace()
        .collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    // utime and stime are fields 14 and 15 of stat(5); 12 and 13 here.
    Ok(tick(11).unwrap_or(0) + tick(12).unwrap_or(0))
}

fn log_tail(data_dir: &Path) -> String {
    let log = std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
