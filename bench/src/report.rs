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

    /// A row of the runs on the small table (the hello runs read none).
    fn find(&self, scenario: Scenario, database: Database, c: usize, server: Kind) -> Option<&Row> {
        self.rows.iter().find(|r| {
            r.scenario == scenario
                && (r.users == SMALL_TABLE || r.database == Database::None)
                && r.database == database
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
            "\n{ROW_HEADER}   host/native req/s  p50   host/spin req/s  p50   host/wasmtime req/s  p50"
        );
        for row in &self.rows {
            let mut line = row_line(row);
            if row.server == Kind::Host {
                for (other, width) in [(Kind::Native, 13), (Kind::Spin, 11), (Kind::Wasmtime, 15)] {
                    match self.ratios(row, other) {
                        Some((rps, p50)) => {
                            let _ = write!(line, "   {rps:>width$.2} {p50:>5.2}");
                        }
                        None => {
                            let _ = write!(line, "   {:>width$} {:>5}", "-", "-");
                        }
                    }
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
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
        out.push_str(&self.micro.text());
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
                "  {:<48} {:<8} {:>9}  {verdict}",
                t.what, t.goal, measured
            );
        }
        out
    }

    /// The targets of issue 18, from the figures of this run: a target
    /// whose rows are missing (no Spin, no PostgreSQL) is "not measured".
    pub(crate) fn evaluate_targets(&mut self) {
        let mut targets = vec![];
        let mut add = |what: String, goal: &str, measured: Option<f64>, met: fn(f64) -> bool| {
            targets.push(Target {
                what,
                goal: goal.into(),
                measured,
                met: measured.map(met),
            });
        };
        let rps = |f: &Figures| f.requests_per_sec;
        let ratio = |scenario, database, c, other, field: fn(&Figures) -> f64| {
            let host = self.find(scenario, database, c, Kind::Host)?;
            let other = self.find(scenario, database, c, other)?;
            Some(field(&host.figures) / field(&other.figures))
        };
        let edge_runs = Scenario::ALL
            .into_iter()
            .filter(|&s| s != Scenario::Compression)
            .map(|s| (s, Database::Sqlite))
            .chain(
                [Scenario::Profile, Scenario::Login, Scenario::Health]
                    .map(|s| (s, Database::Postgres)),
            );
        for (scenario, database) in edge_runs {
            add(
                format!(
                    "{} on {}, c=64: host/spin req/s",
                    scenario.name(),
                    database.name()
                ),
                ">= 1.50",
                ratio(scenario, database, 64, Kind::Spin, rps),
                |m| m >= 1.5,
            );
        }
        add(
            "hello, c=64: host/wasmtime serve req/s".into(),
            ">= 1.00",
            ratio(Scenario::Hello, Database::None, 64, Kind::Wasmtime, rps),
            |m| m >= 1.0,
        );
        for (scenario, database) in [
            (Scenario::Trivial, Database::Sqlite),
            (Scenario::Profile, Database::Sqlite),
            (Scenario::Profile, Database::Postgres),
        ] {
            add(
                format!(
                    "{} on {}, c=64: host/native req/s",
                    scenario.name(),
                    database.name()
                ),
                ">= 0.60",
                ratio(scenario, database, 64, Kind::Native, rps),
                |m| m >= 0.6,
            );
        }
        add(
            "login on sqlite, c=1: host/native p50".into(),
            "<= 1.50",
            ratio(Scenario::Login, Database::Sqlite, 1, Kind::Native, |f| {
                f.p50_ms
            }),
            |m| m <= 1.5,
        );
        let host_startup = self.startup.iter().find(|s| s.server == Kind::Host);
        add(
            "host idle RSS (MiB)".into(),
            "<= 30",
            host_startup.map(|s| s.idle_rss_mib),
            |m| m <= 30.0,
        );
        add(
            "host start to ready, warm cache (ms)".into(),
            "<= 300",
            host_startup.map(|s| s.warm_ready_ms),
            |m| m <= 300.0,
        );
        let at_256: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.server == Kind::Host && r.concurrency == 256)
            .collect();
        add(
            "host errors at c=256, every scenario".into(),
            "0",
            (!at_256.is_empty()).then(|| at_256.iter().map(|r| r.figures.errors as f64).sum()),
            |m| m == 0.0,
        );
        self.targets = targets;
    }

    pub(crate) fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?)?;
        Ok(())
    }
}
