//! A PostgreSQL server of the test's own (`initdb` + `pg_ctl` of the
//! installed PostgreSQL, in a temporary directory, on a free port), for
//! what the shared server cannot show: a certificate from the test's CA,
//! no TLS at all, or a server that is down and comes back.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::{ServerCert, free_port};

pub struct OwnPostgres {
    bin: PathBuf,
    dir: TempDir,
    pub port: u16,
}

impl OwnPostgres {
    /// A new server with TLS from `cert`, or without TLS, started.
    pub fn start(cert: Option<&ServerCert>) -> OwnPostgres {
        let server = OwnPostgres::init(cert);
        server.resume();
        server
    }

    /// A new server, initialised but not started.
    pub fn init(cert: Option<&ServerCert>) -> OwnPostgres {
        let dir = tempfile::tempdir().unwrap();
        let server = OwnPostgres {
            bin: bin_dir(),
            port: free_port(),
            dir,
        };
        give_to_postgres(server.dir.path());
        server.run(
            "initdb",
            &[
                "-D",
                &server.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let mut settings = format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n",
            server.port,
            server.dir.path().display()
        );
        match cert {
            Some(cert) => {
                let data = Path::new(&server.data()).to_owned();
                for (from, to) in [(&cert.cert, "server.crt"), (&cert.key, "server.key")] {
                    std::fs::copy(from, data.join(to)).unwrap();
                    private_to_postgres(&data.join(to));
                }
                settings.push_str("ssl = on\n");
            }
            None => settings.push_str("ssl = off\n"),
        }
        let conf = Path::new(&server.data()).join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&settings);
        std::fs::write(&conf, text).unwrap();
        server
    }

    /// `postgres://postgres@<host>:<port>/postgres`, then `query` (e.g.
    /// `?sslmode=verify-full`).
    pub fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres{query}", self.port)
    }

    /// Stops the server at once, as a crash or an outage would.
    pub fn stop(&self) {
        let output = self.command(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        assert!(output.status.success(), "pg_ctl stop: {output:?}");
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn resume(&self) {
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_owned()
    }

    /// Runs a PostgreSQL program, as the postgres user when we are root
    /// (the server refuses to run as root).
    fn command(&self, program: &str, args: &[&str]) -> std::process::Output {
        let program = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command
            .args(args)
            .output()
            .expect("running a PostgreSQL program")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program, args);
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for OwnPostgres {
    /// Stops the server if it runs; never panics (a test may be unwinding).
    fn drop(&mut self) {
        if Path::new(&self.data()).join("postmaster.pid").exists() {
            let _ = self.command(
                "pg_ctl",
                &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
            );
        }
    }
}

/// The installed PostgreSQL's programs (Debian keeps them by version).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| Some(e.ok()?.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").is_file());
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL's server programs under /usr/lib/postgresql/<version>/bin")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The directory, owned by the postgres user when we are root.
fn give_to_postgres(path: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .arg("postgres")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// A key file as the server demands: its own, readable by it alone.
fn private_to_postgres(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    give_to_postgres(path);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}
