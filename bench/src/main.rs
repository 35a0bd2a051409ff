//! Benchmarks that print figures and never assert them: absolute numbers on
//! a shared machine drift, ratios from one run hold.
//!
//! `scripts/bench` builds this binary with what it measures and runs it:
//!
//! ```sh
//! scripts/bench --quick        # every figure, short runs (CI)
//! scripts/bench                # the full suite
//! scripts/bench rate-limit     # the limiter's own cost
//! scripts/bench ledger         # the in-process cost of each stage
//! scripts/bench soak           # 10 minutes of mixed load, then SIGTERM
//! scripts/bench login-timing   # wrong passwords: known vs unknown emails
//! scripts/bench password-attack   # a login under a password-guessing flood
//! ```

mod accounts;
mod counting_allocator;
mod database;
mod http1;
mod layers;
mod load;
mod login_timing;
mod micro;
mod password_attack;
mod prepare;
mod rate_limit;
mod report;
mod scenarios;
mod server;
mod soak;
mod startup;
mod suite;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
// The host's allocator, for the micro-benchmark's requests in process,
// counting its allocations.
#[global_allocator]
static ALLOCATOR: counting_allocator::Counting = counting_allocator::Counting;

#[derive(Parser)]
#[command(about = "The cost of Wasm, measured side by side with a native baseline")]
struct Cli {
    /// Short runs (2 s each, no warm-up): every figure, less precise.
    #[arg(long)]
    quick: bool,
    /// Where the figures go as JSON.
    #[arg(long, default_value = "target/bench/results.json")]
    json: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The trivial route with the limiter off, in process and in Redis.
    RateLimit,
    /// The micro-benchmark alone: the in-process cost of each stage of a
    /// request (issue 38's ledger).
    Ledger,
    /// Mixed traffic at 128 connections, then SIGTERM under load; fails on
    /// any failed answer or an unclean exit.
    Soak {
        /// How long, in seconds (CI runs 60).
        #[arg(long, default_value_t = 600)]
        secs: u64,
    },
    /// Wrong-password logins for registered and unknown emails, in pairs:
    /// how much longer one kind takes (a timing oracle) on the host.
    LoginTiming {
        #[arg(long, default_value_t = 50)]
        pairs: usize,
    },
    /// Issue 36's T4: a login's latency quiet and while one address
    /// guesses passwords with many accounts' tokens, the password-work
    /// budget off and on.
    PasswordAttack {
        #[arg(long, default_value_t = 30)]
        logins: usize,
        /// The attacker's accounts (each slowed down on its own after 5
        /// wrong guesses).
        #[arg(long, default_value_t = 40)]
        accounts: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        None => runtime.block_on(suite::run(suite::Options {
            quick: cli.quick,
            json: prepare::workspace_root().join(cli.json),
        })),
        Some(Command::RateLimit) => runtime.block_on(rate_limit::run()),
        Some(Command::Ledger) => {
            let micro = micro::run(&prepare::Tools::find()?, cli.quick)?;
            print!("{}", micro.text());
            Ok(())
        }
        Some(Command::Soak { secs }) => {
            runtime.block_on(soak::run(std::time::Duration::from_secs(secs)))
        }
        Some(Command::LoginTiming { pairs }) => runtime.block_on(login_timing::run(pairs)),
        Some(Command::PasswordAttack { logins, accounts }) => {
            runtime.block_on(password_attack::run(logins, accounts))
        }
    }
}
