//! HAProxy (Debian's `haproxy`) in front of spawned hosts, on 127.0.0.1
//! with a generated configuration, as a team would run replicas: health
//! checks on `/health/ready`, the client appended to `X-Forwarded-For`, and
//! a request whose connection failed retried on another replica. Stopped
//! (SIGKILL) when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub struct LoadBalancer {
    child: Child,
    pub base_url: String,
    stats_url: String,
    _dir: TempDir,
}

/// A port free on 127.0.0.1 at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A loopback address of its own (127.x.y.z, never 127.0.0.1) for a
/// client to connect from, so that no other test's, nor an earlier run's,
/// rate-limit bucket counts against it.
pub fn own_loopback_address() -> std::net::IpAddr {
    let octets = uuid::Uuid::new_v4().into_bytes();
    std::net::IpAddr::from([127, octets[0], octets[1], octets[2].max(2)])
}

impl LoadBalancer {
    /// HAProxy over the replicas listening on `ports`, named `r0`, `r1`, ...
    pub fn start(ports: &[u16]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (port, stats_port) = (free_port(), free_port());
        let servers: String = ports
            .iter()
            .enumerate()
            .map(|(i, port)| format!("  server r{i} 127.0.0.1:{port} check\n"))
            .collect();
        let config = format!(
            "global
  maxconn 2048
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  # A connection refused or reset by a stopping replica: the request
  # (never sent, or sent on a connection the replica closed) goes again,
  # to another replica.
  retries 3
  option redispatch 1
  retry-on all-retryable-errors
frontend edge
  bind 127.0.0.1:{port}
  option forwardfor
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  # A replica under the whole load answers its check slower: give it
  # time, and three misses, before taking it out.
  timeout check 2s
  default-server inter 100ms fall 3 rise 2
{servers}listen stats
  bind 127.0.0.1:{stats_port}
  stats enable
  stats uri /stats
"
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config)?;
        let check = Command::new("haproxy")
            .args(["-c", "-q", "-f"])
            .arg(&path)
            .output()
            .map_err(|e| {
                anyhow::anyhow!("haproxy is not installed (scripts/setup test installs it): {e}")
            })?;
        anyhow::ensure!(
            check.status.success(),
            "haproxy refused its configuration: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(LoadBalancer {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            stats_url: format!("http://127.0.0.1:{stats_port}/stats;csv"),
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Each replica's state as HAProxy's health checks see it (`UP`, `DOWN`, ...).
    pub async fn states(&self) -> Vec<(String, String)> {
        let Ok(answer) = reqwest::get(&self.stats_url).await else {
            return Vec::new();
        };
        let csv = answer.text().await.unwrap_or_default();
        csv.lines()
            .filter(|line| line.starts_with("replicas,r"))
            .filter_map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                Some((fields.get(1)?.to_string(), fields.get(17)?.to_string()))
            })
            .collect()
    }

    /// Waits until HAProxy sees replica `name` in `state`.
    pub async fn wait_for(&self, name: &str, state: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let states = self.states().await;
            if states
                .iter()
                .any(|(n, s)| n == name && s.starts_with(state))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} never {state}: {states:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
