//! Debian's nginx running the repository's own site file
//! (`deploy/nginx/mhmanus.conf`) in front of a spawned host, on 127.0.0.1,
//! with a certificate from a test CA. Only what a machine must differ in
//! (ports, certificate and log paths) is replaced, each replacement checked
//! to have happened, so the file under test is the file operators install.
//! One process (no master, no workers to orphan), stopped (SIGKILL) when
//! dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{ServerCert, free_port, workspace_root};

pub struct ReverseProxy {
    child: Child,
    /// `https://127.0.0.1:PORT`: TLS, HTTP/2.
    pub https_url: String,
    /// `http://127.0.0.1:PORT`: the redirect to HTTPS.
    pub http_url: String,
    /// nginx's access log (`mhmanus_json`, one object a line).
    pub access_log: PathBuf,
    dir: TempDir,
}

/// The site file as shipped.
pub fn nginx_site() -> String {
    std::fs::read_to_string(workspace_root().join("deploy/nginx/mhmanus.conf"))
        .expect("deploy/nginx/mhmanus.conf is readable")
}

impl ReverseProxy {
    /// nginx with the shipped site in front of the host on `host_port`.
    pub fn start(host_port: u16, cert: &ServerCert) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (https, http) = (free_port(), free_port());
        let access_log = dir.path().join("access.log");
        let path = |p: &PathBuf| p.to_str().expect("a UTF-8 path").to_owned();
        let mut site = nginx_site();
        for (from, to) in [
            (
                "server 127.0.0.1:3000;",
                format!("server 127.0.0.1:{host_port};"),
            ),
            ("listen 80;", format!("listen 127.0.0.1:{http};")),
            (
                "listen 443 ssl http2;",
                format!("listen 127.0.0.1:{https} ssl http2;"),
            ),
            ("/etc/ssl/mhmanus/fullchain.pem", path(&cert.cert)),
            ("/etc/ssl/mhmanus/privkey.pem", path(&cert.key)),
            ("/var/log/nginx/mhmanus.access.log", path(&access_log)),
        ] {
            anyhow::ensure!(
                site.matches(from).count() == 1,
                "deploy/nginx/mhmanus.conf no longer has `{from}` once: update the test's substitutions"
            );
            site = site.replace(from, &to);
        }
        let d = dir.path().display();
        std::fs::write(dir.path().join("mhmanus.conf"), site)?;
        // What /etc/nginx/nginx.conf gives a site, in a directory of its own.
        let main = format!(
            "daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 512; }}
http {{
  default_type application/octet-stream;
  client_body_temp_path {d}/client_body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  include {d}/mhmanus.conf;
}}
"
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, main)?;
        let nginx = |args: &[&str]| {
            let mut command = Command::new("nginx");
            command
                .args(["-e", &format!("{d}/error.log"), "-p", &d.to_string(), "-c"])
                .arg(&conf)
                .args(args);
            command
        };
        let check = nginx(&["-t"]).output().map_err(|e| {
            anyhow::anyhow!("nginx is not installed (scripts/setup test installs it): {e}")
        })?;
        anyhow::ensure!(
            check.status.success(),
            "nginx refused the site: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = nginx(&[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let proxy = ReverseProxy {
            child,
            https_url: format!("https://127.0.0.1:{https}"),
            http_url: format!("http://127.0.0.1:{http}"),
            access_log,
            dir,
        };
        proxy.wait_listening(https)?;
        Ok(proxy)
    }

    fn wait_listening(&self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.https_url)
    }

    /// nginx's access log so far, one JSON object a line.
    pub fn access_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.access_log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("an access line is JSON"))
            .collect()
    }
}

impl Drop for ReverseProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
