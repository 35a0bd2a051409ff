//! The dependency checks: each one is a real round trip, timed.

use std::time::Instant;

use mhmanus_domain::health::{Check, Report};
use spin_sdk::{pg, redis, sqlite, variables};

pub const SERVICE_ID: &str = "mhmanus-edge";

pub async fn run() -> Report {
    let mut report = Report::new(SERVICE_ID, env!("CARGO_PKG_VERSION"));
    let database_url = variable("database_url").await;
    report.add("database:responseTime", database(&database_url).await);
    let redis_url = variable("redis_url").await;
    if !redis_url.is_empty() {
        report.add("redis:responseTime", redis(&redis_url).await);
    }
    report
}

/// An unset or unreadable variable means "not configured".
async fn variable(name: &str) -> String {
    variables::get(name)
        .await
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

async fn database(url: &str) -> Check {
    let started = Instant::now();
    let (component, outcome) = if is_postgres(url) {
        ("postgres", select_one_postgres(url).await)
    } else {
        ("sqlite", select_one_sqlite().await)
    };
    timed(component, "datastore", started, outcome)
}

async fn select_one_sqlite() -> Result<(), String> {
    let db = sqlite::Connection::open_default()
        .await
        .map_err(|e| format!("sqlite: {e:?}"))?;
    let mut result = db
        .execute("SELECT 1", [])
        .await
        .map_err(|e| format!("sqlite: {e:?}"))?;
    while result.next().await.is_some() {}
    result.result().await.map_err(|e| format!("sqlite: {e:?}"))
}

async fn select_one_postgres(url: &str) -> Result<(), String> {
    let db = pg::Connection::open(url)
        .await
        .map_err(|e| format!("postgres: {e}"))?;
    let rows = db
        .query("SELECT 1", [])
        .await
        .map_err(|e| format!("postgres: {e}"))?;
    rows.collect()
        .await
        .map(drop)
        .map_err(|e| format!("postgres: {e}"))
}

async fn redis(url: &str) -> Check {
    let started = Instant::now();
    let outcome = async {
        let conn = redis::Connection::open(url)
            .await
            .map_err(|e| format!("redis: {e:?}"))?;
        match conn.execute("PING", []).await {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("redis: {e:?}")),
        }
    }
    .await;
    timed("redis", "datastore", started, outcome)
}

fn timed(component: &str, kind: &str, started: Instant, outcome: Result<(), String>) -> Check {
    let millis = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let check = match outcome {
        Ok(()) => Check::pass(),
        Err(why) => Check::fail(why),
    };
    check.component(component, kind).observed(millis, "ms")
}
