//! The whole run: start-up figures first (on a quiet machine), then every
//! scenario at every concurrency against every server, the servers taking
//! turns run by run so that drift touches them alike, then the
//! micro-benchmark; one table at the end, and the JSON.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use crate::accounts::Accounts;
use crate::database::{Database, PostgresServer};
use crate::load;
use crate::micro;
use crate::prepare::Tools;
use crate::report::{self, Report, Row};
use crate::scenarios::Scenario;
use crate::server::{App, Kind, Server};
use crate::startup;

pub(crate) const CONCURRENCY: [usize; 4] = [1, 16, 64, 256];
/// The small table: enough accounts that the logins of a run, spread over
/// them, never log one account in more often at once than a person would
/// (more than five at once get 429s: each attempt is claimed first).
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
    let notes = tools.notes.clone();
    let scratch = tempfile::tempdir()?;
    let accounts = Accounts::new()?;
    let mut run = Run {
        tools: &tools,
        plan: &plan,
        accounts: &accounts,
        scratch: scratch.path(),
        notes,
        rows: vec![],
    };

    let mut startups = vec![];
    for kind in EDGE_SERVERS.into_iter().filter(|&k| tools.has(k)) {
        println!("start-up: {}", kind.name());
        match startup::measure(kind, &tools, scratch.path(), plan.warm_starts).await {
            Ok(startup) => startups.push(startup),
            Err(error) => run.left_out(kind, error)?,
        }
    }

    let mut servers = vec![];
    for kind in EDGE_SERVERS {
        let dir = scratch.path().join(kind.name());
        if let Some(server) = run.start(kind, App::Edge, &dir, &[]).await? {
            // The auth component migrates its schema on its first request.
            reqwest::get(server.url("/v1/auth/profile")).await?;
            accounts.seed(&sqlite_file(&server), SMALL_TABLE)?;
            servers.push(server);
        }
    }
    println!("\n{}", report::ROW_HEADER);
    for users in [SMALL_TABLE, LARGE_TABLE] {
        if users > SMALL_TABLE {
            for server in &servers {
                accounts.seed(&sqlite_file(server), users)?;
            }
        }
        for scenario in Scenario::ALL {
            if users > SMALL_TABLE && !scenario.reads_accounts() {
                continue;
            }
            run.measure(scenario, users, Database::Sqlite, &servers)
                .await?;
        }
    }
    for server in servers {
        server.stop().await?;
    }
    run.on_hello().await?;
    run.on_postgres().await?;
    let Run { notes, rows, .. } = run;

    println!("\nthe cost ledger: one request in process, stage by stage");
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

/// The servers of the edge app, in the order they take turns.
const EDGE_SERVERS: [Kind; 3] = [Kind::Native, Kind::Host, Kind::Spin];

/// Every server keeps the default SQLite database at the same place.
fn sqlite_file(server: &Server) -> PathBuf {
    Path::new(&server.data_dir).join("sqlite_db.db")
}

/// What every scenario of a run shares, and what it has measured so far.
struct Run<'a> {
    tools: &'a Tools,
    plan: &'a Plan,
    accounts: &'a Accounts,
    scratch: &'a Path,
    notes: Vec<String>,
    rows: Vec<Row>,
}

impl Run<'_> {
    /// `kind` serving `app`, when it is installed and starts. The host must
    /// start; another server that does not is left out with a note.
    async fn start(
        &mut self,
        kind: Kind,
        app: App,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Option<Server>> {
        if !self.tools.has(kind) {
            return Ok(None);
        }
        match Server::start_with(kind, app, self.tools, dir, env).await {
            Ok(server) => Ok(Some(server)),
            Err(error) => self.left_out(kind, error).map(|()| None),
        }
    }

    /// Notes that `kind` failed, or fails the run when it is the host.
    fn left_out(&mut self, kind: Kind, error: anyhow::Error) -> anyhow::Result<()> {
        if kind == Kind::Host {
            return Err(error);
        }
        // The first lines say what went wrong; a backtrace would follow.
        let why: Vec<String> = format!("{error:#}")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .map(str::trim)
            .map(str::to_owned)
            .collect();
        let mut why = why.join(" ");
        if let Some((cut, _)) = why.char_indices().nth(300) {
            why.truncate(cut);
            why.push('…');
        }
        let note = format!("{}: left out, it did not start: {why}", kind.name());
        // Once, though each phase tries it again.
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
        Ok(())
    }

    /// `scenario` at every concurrency on each of `servers` able to serve
    /// it: a server that lacks what it measures
    /// is left out of it with a note, not the run.
    async fn measure(
        &mut self,
        scenario: Scenario,
        users: usize,
        database: Database,
        servers: &[Server],
    ) -> anyhow::Result<()> {
        let requests = scenario.requests(self.accounts, users);
        let client = reqwest::Client::new();
        let mut able = vec![];
        for server in servers {
            match scenario.check(&client, &server.base, &requests[0]).await {
                Ok(()) => able.push(server),
                Err(error) => self.notes.push(format!(
                    "{}: {} on {} skipped: {error:#}",
                    server.kind.name(),
                    scenario.name(),
                    database.name()
                )),
            }
        }
        for concurrency in CONCURRENCY {
            for &server in &able {
                server.settle().await?;
                server.reset_peak_rss()?;
                let drive = |duration| {
                    load::drive(
                        &self.tools.wrk,
                        &server.base,
                        &requests,
                        concurrency,
                        duration,
                        self.scratch,
                    )
                };
                if let Some(warm_up) = self.plan.warm_up {
                    drive(warm_up)?;
                }
                let figures = drive(self.plan.measure)?;
                let row = Row {
                    scenario,
                    users,
                    database,
                    concurrency,
                    server: server.kind,
                    figures,
                    peak_rss_mib: server.peak_rss_kib()? as f64 / 1024.0,
                };
                println!("{}", report::row_line(&row));
                self.rows.push(row);
            }
        }
        Ok(())
    }

    /// The hello component on the host (its edge layers on, the limiter
    /// off as everywhere), Spin and `wasmtime serve`: what each runtime
    /// costs with no component interface in the way.
    async fn on_hello(&mut self) -> anyhow::Result<()> {
        let mut servers = vec![];
        for kind in [Kind::Host, Kind::Spin, Kind::Wasmtime] {
            let dir = self.scratch.join(format!("{}-hello", kind.name()));
            servers.extend(self.start(kind, App::Hello, &dir, &[]).await?);
        }
        self.measure(Scenario::Hello, 0, Database::None, &servers)
            .await?;
        for server in servers {
            server.stop().await?;
        }
        Ok(())
    }

    /// The database scenarios again, with the native baseline, the host
    /// and Spin each on a PostgreSQL database of its own (Spin keeps the
    /// SQLite runtime config: its PostgreSQL is the component's own
    /// connection, to the `database_url` variable). Skipped, with a note,
    /// when no PostgreSQL server answers.
    async fn on_postgres(&mut self) -> anyhow::Result<()> {
        let mut postgres = match PostgresServer::connect().await {
            Ok(postgres) => postgres,
            Err(error) => {
                self.notes.push(format!(
                    "no PostgreSQL server: its rows are skipped ({error})"
                ));
                return Ok(());
            }
        };
        let mut servers = vec![];
        for kind in EDGE_SERVERS.into_iter().filter(|&k| self.tools.has(k)) {
            let url = postgres.create(kind.name()).await?;
            let dir = self.scratch.join(format!("{}-pg", kind.name()));
            let (variable, value) = kind.database_url(&url);
            let env = [(variable, value.as_str())];
            let Some(server) = self.start(kind, App::Edge, &dir, &env).await? else {
                continue;
            };
            // The schema is migrated by the first request (the host) or at start.
            reqwest::get(server.url("/v1/auth/profile")).await?;
            self.accounts
                .seed_postgres(&url, SMALL_TABLE)
                .await
                .context("seeding the PostgreSQL accounts")?;
            servers.push(server);
        }
        for scenario in [Scenario::Profile, Scenario::Login, Scenario::Health] {
            self.measure(scenario, SMALL_TABLE, Database::Postgres, &servers)
                .await?;
        }
        for server in servers {
            server.stop().await?;
        }
        postgres.drop_all().await
    }
}
