//! The run's figures: one table (scenario × server, with the host's ratios
//! to the native baseline and to Spin beside its absolute figures), the
//! start-up figures, the micro-benchmark, the targets, and all of it as
//! JSON. Targets are read, never asserted: a shared machine's figures drift.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::database::Database;
use crate::load::Figures;
use crate::micro::Micro;
use crate::scenarios::Scenario;
use crate::server::Kind;
use crate::startup::Startup;
use crate::suite::SMALL_TABLE;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub scenario: Scenario,
    /// Accounts in the table.
    pub users: usize,
    pub database: Database,
    pub concurrency: usize,
    pub server: Kind,
    #[serde(flatten)]
    pub figures: Figures,
    pub peak_rss_mib: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub mode: &'static str,
    pub seconds_per_run: f64,
    pub cores: usize,
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
    pub startup: Vec<Startup>,
    pub micro: Micro,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Target {
    pub what: String,
    pub goal: String,
    pub measured: Option<f64>,
    pub met: Option<bool>,
}

pub(crate) fn row_line(row: &Row) -> String {
    format!(
        "{:<12} {:>7} {:<6} {:>4}  {:<7} {:>10.1} {:>9.2} {:>9.2} {:>7} {:>9.1}",
        row.scenario.name(),
        row.users,
        row.database.name(),
        row.concurrency,
        row.server.name(),
        row.figures.requests_per_sec,
        row.figures.p50_ms,
        row.figures.p99_ms,
        row.figures.errors,
        row.peak_rss_mib,
    )
}

pub(crate) const ROW_HEADER: &str =
    "scenario       users db        c  server       req/s    p50 ms    p99 ms  errors  peak MiB";

impl Report {
    /// The row of `server` in the same run as `like` (scenario, table,
    /// database, concurrency).
    fn beside(&self, like: &Row, server: Kind) -> Option<&Row> {
        self.rows.iter().find(|r| {
            r.scenario == like.scenario
                && r.users == like.users
                && r.database == like.database
                && r.concurrency == like.concurrency
                && r.server == server
        })
    }

    /// A row of the SQLite runs on the small table.
    fn find(&self, scenario: Scenario, c: usize, server: Kind) -> Option<&Row> {
        self.rows.iter().find(|r| {
            r.scenario == scenario
                && r.users == SMALL_TABLE
                && r.database == Database::Sqlite
                && r.concurrency == c
                && r.server == server
        })
    }

    /// `host / other` for requests/s and p50 of the same run.
    fn ratios(&self, row: &Row, other: Kind) -> Option<(f64, f64)> {
        let base = self.beside(row, other)?;
        Some((
            row.figures.requests_per_sec / base.figures.requests_per_sec,
            row.figures.p50_ms / base.figures.p50_ms,
        ))
    }

    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n== MHManus Edge benchmarks ({} mode, {} s per run, {} cores) ==",
            self.mode, self.seconds_per_run, self.cores
        );
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        let _ = writeln!(
            out,
            "\n{ROW_HEADER}   host/native req/s  p50   host/spin req/s  p50"
        );
        for row in &self.rows {
            let mut line = row_line(row);
            if row.server == Kind::Host {
                for other in [Kind::Native, Kind::Spin] {
                    if let Some((rps, p50)) = self.ratios(row, other) {
                        let _ = write!(line, "   {rps:>13.2} {p50:>5.2}");
                    }
                }
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "\nserver   cold start->ready  warm start->ready  first request  idle RSS"
        );
        for s in &self.startup {
            let _ = writeln!(
                out,
                "{:<8} {:>14.1} ms {:>15.1} ms {:>11.2} ms {:>6.1} MiB",
                s.server.name(),
                s.cold_ready_ms,
                s.warm_ready_ms,
                s.first_request_ms,
                s.idle_rss_mib
            );
        }
        let micro = &self.micro;
        let _ = writeln!(
            out,
            "\none request through the wasm handler, in process (criterion median): \
             fresh instance {:.1} µs, reused instance {:.1} µs ({:.1}x)",
            micro.fresh_instance_us,
            micro.reused_instance_us,
            micro.fresh_instance_us / micro.reused_instance_us
        );
        let _ = writeln!(out, "\ntargets (read, not asserted):");
        for t in &self.targets {
            let verdict = match t.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "not measured",
            };
            let measured = t.measured.map_or("-".to_owned(), |m| format!("{m:.2}"));
            let _ = writeln!(
                out,
                "  {:<44} {:<12} {:>9}  {verdict}",
                t.what, t.goal, measured
            );
        }
        out
    }

    /// The targets, from the figures of this run.
    pub(crate) fn evaluate_targets(&mut self) {
        let ratio = |scenario, c, field: fn(&Figures) -> f64| {
            let host = self.find(scenario, c, Kind::Host)?;
            let native = self.find(scenario, c, Kind::Native)?;
            Some(field(&host.figures) / field(&native.figures))
        };
        let rps = |f: &Figures| f.requests_per_sec;
        let p50 = |f: &Figures| f.p50_ms;
        let host_startup = self.startup.iter().find(|s| s.server == Kind::Host);
        let errors_at_256: Option<f64> = {
            let rows: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.server == Kind::Host && r.concurrency == 256)
                .collect();
            (!rows.is_empty()).then(|| rows.iter().map(|r| r.figures.errors as f64).sum())
        };
        let targets = [
            (
                "trivial route, c=64: host/native req/s",
                ">= 0.50",
                ratio(Scenario::Trivial, 64, rps),
                (|m| m >= 0.5) as fn(f64) -> bool,
            ),
            (
                "profile route, c=64: host/native req/s",
                ">= 0.80",
                ratio(Scenario::Profile, 64, rps),
                |m| m >= 0.8,
            ),
            (
                "login, c=1: host/native p50",
                "<= 1.30",
                ratio(Scenario::Login, 1, p50),
                |m| m <= 1.3,
            ),
            (
                "host idle RSS (MiB)",
                "<= 30",
                host_startup.map(|s| s.idle_rss_mib),
                |m| m <= 30.0,
            ),
            (
                "host start to ready, warm cache (ms)",
                "<= 300",
                host_startup.map(|s| s.warm_ready_ms),
                |m| m <= 300.0,
            ),
            (
                "host errors at c=256, every scenario",
                "0",
                errors_at_256,
                |m| m == 0.0,
            ),
        ];
        self.targets = targets
            .into_iter()
            .map(|(what, goal, measured, met)| Target {
                what: what.into(),
                goal: goal.into(),
                measured,
                met: measured.map(met),
            })
            .collect();
    }

    pub(crate) fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?)?;
        Ok(())
    }
}
