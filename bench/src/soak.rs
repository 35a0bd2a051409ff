//! The soak: the host under mixed traffic at 128 connections for a long
//! while (10 minutes by default, 60 s in CI), in six segments, each giving
//! its requests/s, p99 and the host's resident memory; then SIGTERM in the
//! middle of more load. It fails (exit code 1) on any answer that is not a
//! success, or an exit that is not a clean 0; memory and p99 are reported
//! for a reader to judge, start against end.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::accounts::{self, Accounts};
use crate::load::{self, Figures, Request};
use crate::prepare::Tools;
use crate::scenarios::Scenario;
use crate::server::{App, Kind, Server};

const CONNECTIONS: usize = 128;
const SEGMENTS: u32 = 6;
const ACCOUNTS: usize = 1000;

pub(crate) async fn run(duration: Duration) -> anyhow::Result<()> {
    let tools = Tools::find()?;
    let scratch = tempfile::tempdir()?;
    let accounts = Accounts::new()?;
    let server = Server::start_with(
        Kind::Host,
        App::Edge,
        &tools,
        &scratch.path().join("host"),
        &[("SHUTDOWN_GRACE_SECS", "15")],
    )
    .await?;
    reqwest::get(server.url("/v1/auth/profile")).await?;
    accounts.seed(&server.data_dir.join("sqlite_db.db"), ACCOUNTS)?;
    let base = server.base.clone();
    let drive = |seconds: Duration, requests: Vec<Request>| {
        let (wrk, base) = (tools.wrk.clone(), base.clone());
        let scratch = scratch.path().to_owned();
        tokio::task::spawn_blocking(move || {
            load::drive(&wrk, &base, &requests, CONNECTIONS, seconds, &scratch)
        })
    };

    println!(
        "soak: {} s of mixed traffic (trivial, profile, health, compression, login) over {CONNECTIONS} connections",
        duration.as_secs()
    );
    let warm_up = (duration / 20).max(Duration::from_secs(3));
    drive(warm_up, mix(&accounts, true)).await??;
    let rss_start = mib(server.rss_kib()?);
    println!(
        "after a {} s warm-up: RSS {rss_start:.1} MiB",
        warm_up.as_secs()
    );
    println!("segment      req/s   p50 ms   p99 ms   errors   RSS MiB");
    let mut segments = Vec::new();
    for segment in 1..=SEGMENTS {
        let figures = drive(duration / SEGMENTS, mix(&accounts, true)).await??;
        let rss = mib(server.rss_kib()?);
        println!(
            "{segment:>7} {:>10.1} {:>8.2} {:>8.2} {:>8} {:>9.1}",
            figures.requests_per_sec, figures.p50_ms, figures.p99_ms, figures.errors, rss
        );
        segments.push((figures, rss));
    }
    let rss_end = segments.last().map_or(rss_start, |(_, rss)| *rss);
    let served: u64 = segments.iter().map(|(f, _)| f.requests).sum();
    let errors: u64 = segments.iter().map(|(f, _)| f.errors).sum();
    println!(
        "{served} requests, {errors} errors; RSS {rss_start:.1} -> {rss_end:.1} MiB; p99 {:.2} -> {:.2} ms",
        segments[0].0.p99_ms,
        segments[segments.len() - 1].0.p99_ms
    );

    // SIGTERM under the same load: what was in flight is answered, the
    // listener closes (so wrk's next connections fail), the exit is 0.
    // Without `/health`, which rightly answers 503 while the host drains.
    let during = drive(Duration::from_secs(6), mix(&accounts, false));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let signalled = Instant::now();
    let status = server.stop().await?;
    let stopped_in = signalled.elapsed();
    let during: Figures = during.await??;
    println!(
        "SIGTERM under load: {status} after {:.1} s; {} answers, {} not a success",
        stopped_in.as_secs_f64(),
        during.requests,
        during.failed_answers
    );
    anyhow::ensure!(errors == 0, "{errors} requests failed during the soak");
    anyhow::ensure!(
        during.failed_answers == 0,
        "{} answers failed while shutting down",
        during.failed_answers
    );
    anyhow::ensure!(status.success(), "the host exited with {status}");
    Ok(())
}

/// Weighted like an API's day: mostly cheap reads, a few logins.
fn mix(accounts: &Accounts, with_health: bool) -> Vec<Request> {
    let picks = accounts::picks(40, ACCOUNTS);
    let mut requests = Vec::new();
    for (i, account) in picks.into_iter().enumerate() {
        requests.push(Request::get(Scenario::Trivial.path()));
        requests.push(Request::get(Scenario::Trivial.path()));
        requests.push(Request::get(Scenario::Profile.path()).header(
            "Authorization",
            format!("Bearer {}", accounts.token(account)),
        ));
        if with_health {
            requests.push(Request::get(Scenario::Health.path()));
        }
        if i % 2 == 0 {
            requests
                .push(Request::get(Scenario::Compression.path()).header("Accept-Encoding", "gzip"));
        }
        if i % 8 == 0 {
            requests.push(Request {
                method: "POST",
                path: Scenario::Login.path().to_owned(),
                headers: vec![("Content-Type", "application/json".into())],
                body: Some(
                    json!({"email": accounts::email(account), "password": accounts::PASSWORD})
                        .to_string(),
                ),
            });
        }
    }
    requests
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
