//! The dependency checks: each one is a real round trip, timed. A report
//! is public: a failure says in words which step failed; what the driver
//! said (hosts, ports, users, database names) goes to the log only.

use std::time::Instant;

use mhmanus_domain::SERVICE_ID;
use mhmanus_domain::health::{Check, Report};
use mhmanus_guest::admin::{self, AdminState};
use mhmanus_guest::db::Db;
use spin_sdk::{pg, redis, sqlite, variables};

pub(crate) async fn run() -> Report {
    let mut report = Report::new(SERVICE_ID, env!("CARGO_PKG_VERSION"));
    let database_url = variable("database_url").await;
    report.add("database:responseTime", database(&database_url).await);
    let redis_url = variable("redis_url").await;
    if !redis_url.is_empty() {
        report.add("redis:responseTime", redis(&redis_url).await);
    }
    let admin_email = variable("admin_email").await;
    if !admin_email.is_empty() {
        report.add(
            "admin:bootstrap",
            bootstrap(&database_url, &admin_email).await,
        );
    }
    report
}

/// Warns when `admin_email` names an account that is not an Admin: it was
/// registered before, by someone, and the bootstrap did not promote it.
async fn bootstrap(database_url: &str, admin_email: &str) -> Check {
    let db = Db::open(database_url).await.ok();
    let state = admin::state(db.as_ref(), admin_email).await;
    let check = match state {
        AdminState::NotPromoted => Check::warn(
            "admin_email names an account without the Admin role (it existed before and admin_password is not its password); no Admin is bootstrapped",
        ),
        _ => Check::pass(),
    };
    check
        .component("admin", "component")
        .observed(serde_json::json!(state.as_str()), "state")
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

/// The words a report says for a failed step; the detail to the log.
fn failed(what: &str, step: &str, detail: impl std::fmt::Debug) -> String {
    eprintln!("health: {what} {step}: {detail:?}");
    format!("{what}: {step} failed (details in the log)")
}

async fn select_one_sqlite() -> Result<(), String> {
    let db = sqlite::Connection::open_default()
        .await
        .map_err(|e| failed("sqlite", "opening the database", e))?;
    let mut result = db
        .execute("SELECT 1", [])
        .await
        .map_err(|e| failed("sqlite", "the query", e))?;
    while result.next().await.is_some() {}
    result
        .result()
        .await
        .map_err(|e| failed("sqlite", "the query", e))
}

async fn select_one_postgres(url: &str) -> Result<(), String> {
    let db = pg::Connection::open(url)
        .await
        .map_err(|e| failed("postgres", "connecting", e))?;
    let rows = db
        .query("SELECT 1", [])
        .await
        .map_err(|e| failed("postgres", "the query", e))?;
    rows.collect()
        .await
        .map(drop)
        .map_err(|e| failed("postgres", "the query", e))
}

async fn redis(url: &str) -> Check {
    let started = Instant::now();
    let outcome = async {
        let conn = redis::Connection::open(url)
            .await
            .map_err(|e| failed("redis", "connecting", e))?;
        match conn.execute("PING", []).await {
            Ok(_) => Ok(()),
            Err(e) => Err(failed("redis", "PING", e)),
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
