//! Throughput of one limited route with the limiter off, counting in
//! process, and counting in Redis (one script per request), in the same run.
//! The route is `GET /v1/auth/profile` without a token: the auth component
//! answers 401 at once, so the limiter's share of each request shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mhmanus_host::edge::rate_limit::policy::Policy;

use crate::host::BenchHost;

const CONCURRENCY: usize = 16;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
const REDIS_URL: &str = "redis://127.0.0.1:6379";

pub async fn run() -> anyhow::Result<()> {
    // A quota no run reaches: every request is admitted and counted.
    let quota: Policy = "4000000000/60s".parse().map_err(anyhow::Error::msg)?;
    println!(
        "GET /v1/auth/profile (401 from auth.wasm), {CONCURRENCY} clients, {} s each:",
        MEASURE.as_secs()
    );
    let mut baseline = None;
    for (name, redis) in [
        ("off", None),
        ("in-process", None),
        ("redis", Some(REDIS_URL)),
    ] {
        let host = BenchHost::start(|config| {
            if name != "off" {
                config.edge.rate_limit = quota;
            }
            config.redis_url = redis.map(str::to_owned);
        })
        .await?;
        let rate = drive(&host.url("/v1/auth/profile")).await?;
        host.stop().await?;
        let base = *baseline.get_or_insert(rate);
        println!(
            "  limiter {name:<10} {rate:>8.0} req/s   ({:.2} of off)",
            rate / base
        );
    }
    Ok(())
}

/// Requests per second over `MEASURE`, after `WARM_UP`; any answer but 401
/// is an error.
async fn drive(url: &str) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + WARM_UP + MEASURE;
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, done) = (client.clone(), url.to_owned(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    let response = client.get(&url).send().await?;
                    anyhow::ensure!(response.status() == 401, "answered {}", response.status());
                    response.bytes().await?;
                    if started.elapsed() >= WARM_UP {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / MEASURE.as_secs_f64())
}
