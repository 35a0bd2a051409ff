//! `/health*`: the health component's database check and the host's own
//! memory and disk checks, in one report.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::Response;
use mhmanus_contract::health::{self, Check, Report};

use crate::App;

pub(super) async fn live() -> Response {
    respond(&Report::new(
        mhmanus_contract::SERVICE_ID,
        env!("CARGO_PKG_VERSION"),
    ))
}

pub(super) async fn ready(State(app): State<Arc<App>>) -> Response {
    respond(&database_report(&app).await)
}

pub(super) async fn full(State(app): State<Arc<App>>) -> Response {
    let mut report = database_report(&app).await;
    let (memory, disk) = app.system.measure().await;
    report.add("memory:utilization", memory);
    report.add("disk:utilization", disk);
    report.recompute();
    respond(&report)
}

async fn database_report(app: &App) -> Report {
    let mut report = Report::new(mhmanus_contract::SERVICE_ID, env!("CARGO_PKG_VERSION"));
    let started = Instant::now();
    let check = match app.store.ping().await {
        Ok(()) => Check::pass().observed(started.elapsed().as_secs_f64() * 1000.0, "ms"),
        Err(error) => Check::fail(format!("sqlite: {error:#}")),
    };
    report.add(
        "database:responseTime",
        check.component("sqlite", "datastore"),
    );
    report
}

fn respond(report: &Report) -> Response {
    let body = serde_json::to_string(report).expect("a report always serializes");
    super::answer(report.http_status(), health::MEDIA_TYPE, body)
}
