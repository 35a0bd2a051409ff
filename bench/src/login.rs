//! Login latency through the host (auth.wasm: argon2id verification inside
//! Wasm, SQLite, JWT signing) next to one native argon2id hash with the same
//! parameters, measured in the same run on the same machine.

use std::time::{Duration, Instant};

use mhmanus_domain::auth::password;
use serde_json::json;

use crate::host::BenchHost;

const LOGINS: usize = 20;
const PASSWORD: &str = "benchmark passphrase";

pub async fn run() -> anyhow::Result<()> {
    let host = BenchHost::start(|_| {}).await?;
    let base = &host.base;

    let client = reqwest::Client::new();
    let credentials = json!({"email": "bench@example.com", "password": PASSWORD});
    let register = json!({"email": "bench@example.com", "password": PASSWORD, "name": "Bench"});
    let status = client
        .post(format!("{base}/v1/auth/register"))
        .json(&register)
        .send()
        .await?
        .status();
    anyhow::ensure!(status == 201, "register answered {status}");
    let mut logins = Vec::with_capacity(LOGINS);
    for _ in 0..LOGINS {
        let started = Instant::now();
        let response = client
            .post(format!("{base}/v1/auth/login"))
            .json(&credentials)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "login answered {}",
            response.status()
        );
        response.bytes().await?;
        logins.push(started.elapsed());
    }
    host.stop().await?;

    let mut hashes: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(password::hash(PASSWORD));
            started.elapsed()
        })
        .collect();
    logins.sort();
    hashes.sort();
    let p50 = logins[LOGINS / 2];
    let hash = hashes[hashes.len() / 2];
    println!("login through the host (auth.wasm, SQLite), {LOGINS} sequential:");
    println!(
        "  p50 {:.1} ms   min {:.1} ms   max {:.1} ms",
        ms(p50),
        ms(logins[0]),
        ms(logins[LOGINS - 1])
    );
    println!(
        "native argon2id hash (m={} KiB, t={}, p={}), median of 5: {:.1} ms",
        password::ARGON2_M_KIB,
        password::ARGON2_T,
        password::ARGON2_P,
        ms(hash)
    );
    println!("ratio login p50 / native hash: {:.2}", ms(p50) / ms(hash));
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
