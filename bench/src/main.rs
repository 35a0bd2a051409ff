//! Benchmarks that print figures (never assert them: absolute numbers on a
//! shared machine drift). Run in release mode after building the components:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p auth -p health
//! cargo run --release -p bench -- login        # login latency vs a native hash
//! cargo run --release -p bench -- rate-limit   # limiter off / in process / Redis
//! ```

mod host;
mod login;
mod rate_limit;

fn main() -> anyhow::Result<()> {
    let scenario = std::env::args().nth(1).unwrap_or_else(|| "login".into());
    let runtime = tokio::runtime::Runtime::new()?;
    match scenario.as_str() {
        "login" => runtime.block_on(login::run()),
        "rate-limit" => runtime.block_on(rate_limit::run()),
        other => anyhow::bail!("unknown scenario {other:?}; known: login, rate-limit"),
    }
}
