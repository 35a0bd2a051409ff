//! The real `mhmanus-host` binary, started on an ephemeral port and stopped
//! (SIGKILL) when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhmanus_host::HostConfig;
use tempfile::TempDir;

pub struct SpawnedHost {
    child: Child,
    pub base_url: String,
    pub startup: Duration,
    log: Arc<Mutex<Vec<String>>>,
    /// The data directory `spawn_app` made; removed once the host is gone.
    data: Option<TempDir>,
}

/// The repository's application (its spin.toml) served by the real binary
/// with `env` and a data directory of its own: the usual way a test starts
/// the service.
pub fn spawn_app(env: &[(&str, &str)]) -> SpawnedHost {
    let data = tempfile::tempdir().expect("a temporary data directory");
    let mut all = vec![("DATA_DIR", data.path().to_str().expect("a UTF-8 path"))];
    all.extend_from_slice(env);
    let mut host = SpawnedHost::start(&crate::workspace_root(), &all).expect("the host starts");
    host.data = Some(data);
    host
}

impl SpawnedHost {
    /// Runs `mhmanus-host up` from `dir` (which holds spin.toml) with `env`,
    /// and waits until it logs the address it serves on.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::start_limited(dir, "127.0.0.1:0", env, None)
    }

    /// `start`, listening on `listen` (a replica restarted on its port).
    pub fn start_on(dir: &Path, listen: &str, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::start_limited(dir, listen, env, None)
    }

    /// `start`, with the process's open files capped at `max_files`
    /// (`ulimit -n`).
    pub fn start_with_file_limit(
        dir: &Path,
        env: &[(&str, &str)],
        max_files: u64,
    ) -> anyhow::Result<Self> {
        Self::start_limited(dir, "127.0.0.1:0", env, Some(max_files))
    }

    fn start_limited(
        dir: &Path,
        listen: &str,
        env: &[(&str, &str)],
        max_files: Option<u64>,
    ) -> anyhow::Result<Self> {
        let started = Instant::now();
        let mut command = Command::new(crate::host_binary());
        command
            .args(["up", "--listen", listen])
            .current_dir(dir)
            .envs_remove_host_settings()
            .env(
                "COMPILE_CACHE_DIR",
                crate::target_dir().join("test-compile-cache"),
            )
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        if let Some(max_files) = max_files {
            let limit = libc::rlimit {
                rlim_cur: max_files,
                rlim_max: max_files,
            };
            // SAFETY: between fork and exec only setrlimit runs, which is
            // async-signal-safe and touches no memory of the parent.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command.spawn()?;
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut log = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
            let address = serving_address(&line);
            log.push(line);
            if let Some(address) = address {
                // Keep draining the log so the child never blocks on a full pipe.
                let log = Arc::new(Mutex::new(log));
                let kept = log.clone();
                std::thread::spawn(move || {
                    while let Ok(line) = rx.recv() {
                        kept.lock().unwrap().push(line);
                    }
                });
                return Ok(SpawnedHost {
                    child,
                    base_url: address,
                    startup: started.elapsed(),
                    log,
                    data: None,
                });
            }
        }
        let _ = child.kill();
        anyhow::bail!("host did not start:\n{}", log.join("\n"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Registers a fresh account and signs it in: its access token.
    pub async fn sign_up(&self) -> String {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "a passphrase for spawned hosts";
        let client = reqwest::Client::new();
        let account = serde_json::json!({"email": email, "password": password, "name": "Test"});
        let registered = client
            .post(self.url("/v1/auth/register"))
            .json(&account)
            .send()
            .await
            .expect("the host answers");
        assert_eq!(registered.status(), 201, "{:?}", registered.text().await);
        let login: serde_json::Value = client
            .post(self.url("/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("the host answers")
            .json()
            .await
            .expect("a login answer");
        login["access_token"].as_str().expect("a token").to_owned()
    }

    /// The value of a metric from `/metrics`, summed over its labels (0
    /// when the host has not recorded it yet).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = reqwest::get(self.url("/metrics"))
            .await
            .expect("the host answers /metrics")
            .text()
            .await
            .expect("a metrics page");
        text.lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with([' ', '{']))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// The log lines (JSON) the host has written so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as an orchestrator stopping the host would.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -TERM failed");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit by itself.
    pub fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for SpawnedHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scheme://address` from the line that says the host is serving.
fn serving_address(line: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = json.get("fields")?;
    if fields.get("message")?.as_str()? != "serving" {
        return None;
    }
    let scheme = fields
        .get("scheme")
        .and_then(|s| s.as_str())
        .unwrap_or("http");
    Some(format!("{scheme}://{}", fields.get("address")?.as_str()?))
}

/// Runs the host once expecting it to refuse to start; returns its stderr.
pub fn start_failure(dir: &Path, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(crate::host_binary());
    command
        .args(["up", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .envs_remove_host_settings();
    for (key, value) in env {
        command.env(key, value);
    }
    // A host that starts after all is killed, and the test fails on it.
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the host");
    // Read while it runs: a full pipe would stop it.
    let mut pipe = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        stderr
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the host") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = reader.join().expect("the reader thread");
    assert!(
        status.is_some_and(|status| !status.success()),
        "the host started but should not have:\n{stderr}"
    );
    stderr
}

/// Why a host stopped, from its stderr (not a terminal, so JSON): the one
/// ERROR record, said once, and no backtrace.
pub fn fatal_error(stderr: &str) -> String {
    let errors: Vec<String> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| record["level"] == "ERROR")
        .map(|record| {
            record["fields"]["message"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(errors.len(), 1, "exactly one error:\n{stderr}");
    assert!(
        !stderr.contains("stack backtrace"),
        "no backtrace:\n{stderr}"
    );
    errors[0].clone()
}

/// The host's own environment variables, cleared so a developer's shell
/// cannot change what a test sees.
trait ClearHostSettings {
    fn envs_remove_host_settings(&mut self) -> &mut Self;
}

impl ClearHostSettings for Command {
    fn envs_remove_host_settings(&mut self) -> &mut Self {
        for name in HostConfig::variable_names() {
            self.env_remove(name);
        }
        self.env_remove("NODE_ENV")
    }
}
