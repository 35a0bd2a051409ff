//! Start-up, per server: start to ready with nothing compiled yet (cold)
//! and with the compile cache warm, the first request after a start, and
//! resident memory once every component has served and gone idle.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::prepare::Tools;
use crate::server::{Kind, Server};

/// Longer than the host keeps an idle instance (1 s by default).
const IDLE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Startup {
    pub server: Kind,
    pub cold_ready_ms: f64,
    /// Medians over the warm starts.
    pub warm_ready_ms: f64,
    pub first_request_ms: f64,
    pub idle_rss_mib: f64,
    pub warm_starts: usize,
}

pub(crate) async fn measure(
    kind: Kind,
    tools: &Tools,
    scratch: &Path,
    warm_starts: usize,
) -> anyhow::Result<Startup> {
    let dir = scratch.join(format!("startup-{}", kind.name()));
    let cold = Server::start(kind, tools, &dir).await?;
    let cold_ready = cold.ready_after;
    cold.stop().await?;
    let (mut ready, mut first, mut idle) = (vec![], vec![], vec![]);
    for _ in 0..warm_starts.max(1) {
        let server = Server::start(kind, tools, &dir).await?;
        ready.push(ms(server.ready_after));
        first.push(first_request(&server).await?);
        // The auth component too (its schema check), so every component
        // has served once before the idle figure.
        reqwest::get(server.url("/v1/auth/profile")).await?;
        tokio::time::sleep(IDLE).await;
        idle.push(server.rss_kib()? as f64 / 1024.0);
        server.stop().await?;
    }
    Ok(Startup {
        server: kind,
        cold_ready_ms: ms(cold_ready),
        warm_ready_ms: median(ready),
        first_request_ms: median(first),
        idle_rss_mib: median(idle),
        warm_starts: warm_starts.max(1),
    })
}

/// The first request to a component route after the server is ready: the
/// trivial route, so what shows is the instance's start, not the work.
async fn first_request(server: &Server) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let response = client
        .get(server.url("/v1/production-test/rate-limit"))
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "answered {}", response.status());
    response.bytes().await?;
    Ok(ms(started.elapsed()))
}

pub(crate) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
