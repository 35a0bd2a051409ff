//! The limiter's own cost: the trivial route through the host with the
//! limiter off, counting in process, and counting in Redis (one script per
//! request, needs Redis on 127.0.0.1:6379), one after another in one run.

use std::time::Duration;

use crate::load::{self, Request};
use crate::prepare::Tools;
use crate::scenarios::Scenario;
use crate::server::{App, Kind, Server};

const CONCURRENCY: usize = 16;
const MEASURE: Duration = Duration::from_secs(5);
/// A quota no run reaches: every request is admitted and counted. Past its
/// burst the limiter admits one request a millisecond at most, so the
/// burst is what must be out of reach (benchmarks run one a microsecond).
pub(crate) const QUOTA: &str = "4000000000/4000000s";

pub(crate) async fn run() -> anyhow::Result<()> {
    let tools = Tools::find()?;
    let scratch = tempfile::tempdir()?;
    let path = Scenario::Trivial.path();
    println!(
        "GET {path} through the host, {CONCURRENCY} connections, {} s each:",
        MEASURE.as_secs()
    );
    let mut baseline = None;
    for (name, env) in [
        ("off", vec![]),
        ("in-process", vec![("RATE_LIMIT", QUOTA)]),
        (
            "redis",
            vec![
                ("RATE_LIMIT", QUOTA),
                ("REDIS_URL", "redis://127.0.0.1:6379"),
            ],
        ),
    ] {
        let server = Server::start_with(
            Kind::Host,
            App::Edge,
            &tools,
            &scratch.path().join(name),
            &env,
        )
        .await?;
        let figures = load::drive(
            &tools.wrk,
            &server.base,
            &[Request::get(path)],
            CONCURRENCY,
            MEASURE,
            scratch.path(),
        )?;
        server.stop().await?;
        let rate = figures.requests_per_sec;
        let base = *baseline.get_or_insert(rate);
        println!(
            "  limiter {name:<10} {rate:>8.0} req/s   p99 {:>6.2} ms   errors {}   ({:.2} of off)",
            figures.p99_ms,
            figures.errors,
            rate / base
        );
    }
    Ok(())
}
