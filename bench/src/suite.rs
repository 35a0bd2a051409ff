//! The whole run: start-up figures first (on a quiet machine), then every
//! scenario at every concurrency against every server, the servers taking
//! turns run by run so that drift touches them alike, then the
//! micro-benchmark; one table at the end, and the JSON.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::accounts::Accounts;
use crate::load;
use crate::micro;
use crate::prepare::Tools;
use crate::report::{self, Report, Row};
use crate::scenarios::Scenario;
use crate::server::{Kind, Server};
use crate::startup;

pub(crate) const CONCURRENCY: [usize; 4] = [1, 16, 64, 256];
/// The small table: enough accounts that the logins of a run, spread over
/// them, never log one account in more often at once than a person would
/// (more than five at once are refused: each attempt is claimed first).
pub(crate) const SMALL_TABLE: usize = 1_000;
/// The large table of the profile and login runs.
pub(crate) const LARGE_TABLE: usize = 100_000;

pub(crate) struct Options {
    pub quick: bool,
    pub json: PathBuf,
}

struct Plan {
    warm_up: Option<Duration>,
    measure: Duration,
    warm_starts: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                warm_up: None,
                measure: Duration::from_secs(2),
                warm_starts: 3,
            }
        } else {
            Plan {
                warm_up: Some(Duration::from_secs(2)),
                measure: Duration::from_secs(10),
                warm_starts: 7,
            }
        }
    }
}

pub(crate) async fn run(options: Options) -> anyhow::Result<()> {
    let tools = Tools::find()?;
    let plan = Plan::new(options.quick);
    let mut notes = vec![];
    let mut kinds = vec![Kind::Native, Kind::Host];
    if tools.spin.is_some() {
        kinds.push(Kind::Spin);
    } else {
        notes.push("spin is not on PATH: the Spin column is skipped".to_owned());
    }
    let scratch = tempfile::tempdir()?;
    let accounts = Accounts::new()?;

    let mut startups = vec![];
    for &kind in &kinds {
        println!("start-up: {}", kind.name());
        startups.push(startup::measure(kind, &tools, scratch.path(), plan.warm_starts).await?);
    }

    let mut servers = vec![];
    for &kind in &kinds {
        let server = Server::start(kind, &tools, &scratch.path().join(kind.name())).await?;
        // The auth component migrates its schema on its first request.
        reqwest::get(server.url("/v1/auth/profile")).await?;
        accounts.seed(&database(&server), SMALL_TABLE)?;
        servers.push(server);
    }
    println!("\n{}", report::ROW_HEADER);
    let mut rows = vec![];
    for users in [SMALL_TABLE, LARGE_TABLE] {
        if users > SMALL_TABLE {
            for server in &servers {
                accounts.seed(&database(server), users)?;
            }
        }
        for scenario in Scenario::ALL {
            if users > SMALL_TABLE && !scenario.reads_accounts() {
                continue;
            }
            let requests = scenario.requests(&accounts, users);
            let client = reqwest::Client::new();
            // A server that lacks what the scenario measures (Spin does
            // not compress) is left out of it, with a note, not the run.
            let mut able = vec![];
            for server in &servers {
                match scenario.check(&client, &server.base, &requests[0]).await {
                    Ok(()) => able.push(server),
                    Err(error) => notes.push(format!(
                        "{}: {} skipped: {error:#}",
                        server.kind.name(),
                        scenario.name()
                    )),
                }
            }
            for concurrency in CONCURRENCY {
                for &server in &able {
                    server.settle().await?;
                    server.reset_peak_rss()?;
                    let drive = |duration| {
                        load::drive(
                            &tools.wrk,
                            &server.base,
                            &requests,
                            concurrency,
                            duration,
                            scratch.path(),
                        )
                    };
                    if let Some(warm_up) = plan.warm_up {
                        drive(warm_up)?;
                    }
                    let figures = drive(plan.measure)?;
                    let row = Row {
                        scenario,
                        users,
                        concurrency,
                        server: server.kind,
                        figures,
                        peak_rss_mib: server.peak_rss_kib()? as f64 / 1024.0,
                    };
                    println!("{}", report::row_line(&row));
                    rows.push(row);
                }
            }
        }
    }
    for server in servers {
        server.stop().await?;
    }

    println!("\nmicro-benchmark: one request through the wasm handler, in process");
    let micro = micro::run(&tools, options.quick)?;
    let mut report = Report {
        mode: if options.quick { "quick" } else { "full" },
        seconds_per_run: plan.measure.as_secs_f64(),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        notes,
        rows,
        startup: startups,
        micro,
        targets: vec![],
    };
    report.evaluate_targets();
    print!("{}", report.text());
    report.write_json(&options.json)?;
    println!("\nwritten: {}", options.json.display());
    Ok(())
}

/// Every server keeps the default SQLite database at the same place.
fn database(server: &Server) -> PathBuf {
    Path::new(&server.data_dir).join("sqlite_db.db")
}
