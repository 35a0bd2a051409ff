//! Whether a wrong password takes longer for a registered email than for
//! an unknown one (a timing oracle for which addresses have accounts):
//! pairs of wrong-password logins, one of each, alternating, on the host
//! and the same data. Each known address is tried once, below the
//! slow-down, so both kinds do the same statements and one argon2 check.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::prepare::Tools;
use crate::server::{Kind, Server};

const PASSWORD: &str = "correct horse battery staple";

pub(crate) async fn run(pairs: usize) -> anyhow::Result<()> {
    let tools = Tools::find()?;
    let scratch = tempfile::tempdir()?;
    let server = Server::start(Kind::Host, &tools, scratch.path()).await?;
    let client = reqwest::Client::new();
    let login = |email: String| {
        let (client, url) = (client.clone(), server.url("/v1/auth/login"));
        async move {
            let started = Instant::now();
            let reply = client
                .post(url)
                .json(&json!({"email": email, "password": "wrong password!"}))
                .send()
                .await?;
            anyhow::ensure!(
                reply.status() == 401,
                "a wrong password got {}",
                reply.status()
            );
            Ok::<_, anyhow::Error>(started.elapsed())
        }
    };
    for i in 0..pairs {
        let account =
            json!({"email": format!("known{i}@timing.example"), "password": PASSWORD, "name": "K"});
        let reply = client
            .post(server.url("/v1/auth/register"))
            .json(&account)
            .send()
            .await?;
        anyhow::ensure!(reply.status() == 201, "registration got {}", reply.status());
    }
    // The first verifications compile and warm what the rest reuse.
    for i in 0..3 {
        login(format!("warm{i}@timing.example")).await?;
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..pairs {
        known.push(login(format!("known{i}@timing.example")).await?);
        unknown.push(login(format!("unknown{i}@timing.example")).await?);
    }
    server.stop().await?;
    let paired: Vec<f64> = known
        .iter()
        .zip(&unknown)
        .map(|(k, u)| ms(*k) - ms(*u))
        .collect();
    println!(
        "wrong-password logins, {pairs} pairs (known email, unknown email), one after another:"
    );
    for (name, times) in [("known", &known), ("unknown", &unknown)] {
        let mut times: Vec<f64> = times.iter().copied().map(ms).collect();
        println!(
            "  {name:<8} median {:>7.2} ms   p10 {:>7.2}   p90 {:>7.2}",
            median(&mut times),
            percentile(&times, 10),
            percentile(&times, 90)
        );
    }
    println!(
        "  known minus unknown: medians {:+.2} ms, median of the pairs' differences {:+.2} ms",
        median(&mut known.iter().copied().map(ms).collect::<Vec<_>>())
            - median(&mut unknown.iter().copied().map(ms).collect::<Vec<_>>()),
        median(&mut paired.clone())
    );
    Ok(())
}

pub(crate) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Sorts `values` and returns their median.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// The `p`th percentile of sorted `values` (nearest rank).
pub(crate) fn percentile(values: &[f64], p: usize) -> f64 {
    let rank = (p * values.len()).div_ceil(100).max(1);
    values[rank - 1]
}
