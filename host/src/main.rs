//! `mhmanus-host`: serves a Spin application's components natively.
//!
//! `mhmanus-host up [--build]` reads spin.toml, builds the components when
//! asked (like `spin build --up`), and serves them on 127.0.0.1:3000;
//! `backup` and `restore` copy its SQLite database.

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use mhmanus_host::HostConfig;
use mhmanus_host::Jemalloc;
use mhmanus_host::{Application, DataDirHold};
use mhmanus_host::{builder, check, config_file, telemetry};
use mhmanus_manifest::LoadedManifest;
use mhmanus_spin_host::sqlite_backup;

#[global_allocator]
static ALLOCATOR: Jemalloc = Jemalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Serves the components of a Spin manifest with wasmtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application.
    Up {
        /// Run each component's build command first (like `spin build --up`).
        #[arg(long)]
        build: bool,
        #[command(flatten)]
        config: Box<HostConfig>,
    },
    /// Check the settings, reach PostgreSQL and Redis, write DATA_DIR and
    /// compile the components, then print the effective settings, routes
    /// and backends: exit 0, or 1 with one line per problem.
    Check {
        #[command(flatten)]
        config: Box<HostConfig>,
    },
    /// Copy the SQLite database of DATA_DIR to FILE while the host serves
    /// (SQLite's online backup: the database at one moment, never half
    /// written). PostgreSQL: pg_dump (docs/OPERATIONS.md).
    Backup {
        #[command(flatten)]
        data: DataDirArgs,
        /// Where the copy goes; never overwritten.
        file: std::path::PathBuf,
    },
    /// Copy a backup made by `backup` into DATA_DIR, whose host must be
    /// stopped.
    Restore {
        #[command(flatten)]
        data: DataDirArgs,
        /// The backup.
        file: std::path::PathBuf,
        /// Overwrite the database there; the current one is kept beside it.
        #[arg(long)]
        replace: bool,
    },
    /// Run each component's build command (like `spin build`).
    Build {
        /// The Spin manifest.
        #[arg(
            long = "from",
            short = 'f',
            env = "SPIN_MANIFEST",
            default_value = "spin.toml"
        )]
        manifest: std::path::PathBuf,
    },
}

/// The data directory, from the same places `up` reads it.
#[derive(clap::Args)]
struct DataDirArgs {
    /// The data directory the host serves from.
    #[arg(long, env = "DATA_DIR", default_value = mhmanus_host::DEFAULT_DATA_DIR)]
    data_dir: std::path::PathBuf,
    /// A TOML file of settings, as `up --config` reads it.
    #[arg(long = "config", env = "MHMANUS_CONFIG")]
    config_file: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    match configure_and_run() {
        Ok(code) => code,
        Err(error) => {
            telemetry::fatal(&error);
            ExitCode::FAILURE
        }
    }
}

/// The settings, then telemetry, then the command; telemetry is shut down
/// (traces sent, log lines written) before an error is said.
fn configure_and_run() -> anyhow::Result<ExitCode> {
    // A missing .env is normal; a broken one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        return Err(anyhow::Error::new(e).context(".env"));
    }
    HostConfig::unset_empty_variables();
    let mut cli = Cli::parse();
    let config_file = match &cli.command {
        Command::Up { config, .. } | Command::Check { config } => config.config_file.as_ref(),
        Command::Backup { data, .. } | Command::Restore { data, .. } => data.config_file.as_ref(),
        Command::Build { .. } => None,
    };
    if let Some(file) = config_file {
        config_file::apply(file, &HostConfig::variable_names())?;
        // Again, now with the file's settings under the environment's.
        HostConfig::unset_empty_variables();
        cli = Cli::parse();
    }
    let telemetry = telemetry::init()?;
    let outcome = run(cli);
    telemetry.shutdown();
    outcome
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Build { manifest } => {
            builder::build_all(&LoadedManifest::load(&manifest)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { data, file } => {
            let copied = sqlite_backup::backup(&data.data_dir, &file)?;
            println!("backed up to {}: {copied}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore {
            data,
            file,
            replace,
        } => {
            let _held = DataDirHold::restoring(&data.data_dir)?;
            let (copied, kept) = sqlite_backup::restore(&data.data_dir, &file, replace)?;
            if let Some(kept) = kept {
                println!("kept the database it replaced as {}", kept.display());
            }
            let into = std::path::absolute(&data.data_dir).unwrap_or(data.data_dir);
            println!(
                "restored {} into DATA_DIR {}: {copied}",
                file.display(),
                into.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { mut config } => {
            config.read_spin_variables();
            let matches = Cli::command().get_matches();
            let matches = matches
                .subcommand_matches("check")
                .expect("the check subcommand was parsed");
            let checked = tokio::runtime::Runtime::new()?.block_on(check::check(&config, matches));
            for passed in &checked.passed {
                println!("ok     {passed}");
            }
            print!("\n{}", checked.report);
            for problem in &checked.problems {
                eprintln!("error: {problem}");
            }
            Ok(if checked.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Up { build, mut config } => {
            config.read_spin_variables();
            let loaded = LoadedManifest::load(&config.manifest)?;
            if build {
                builder::build_all(&loaded)?;
            }
            let executor = tokio::runtime::Runtime::new()?;
            let served = executor.block_on(up(loaded, *config));
            // Requests still running after the grace period are abandoned
            // here, and blocking work (SQLite) gets one more second.
            executor.shutdown_timeout(Duration::from_secs(1));
            served.map(|()| ExitCode::SUCCESS)
        }
    }
}

async fn up(loaded: LoadedManifest, config: HostConfig) -> anyhow::Result<()> {
    let signal = shutdown_signal()?;
    Application::build(&loaded, &config)
        .await?
        .serve(signal)
        .await
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed now, before
/// the host says it is serving, so an early signal is never fatal. A second
/// signal while draining stops the process at once (exit code 1).
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!(
            "shutting down: finishing in-flight requests (a second signal stops at once)"
        );
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
            tracing::warn!("second signal: stopping now, abandoning the requests in flight");
            telemetry::flush_logs();
            std::process::exit(1);
        });
    })
}
