//! Backup and restore of the service's SQLite database in the data
//! directory, with SQLite's online backup API: the copy is taken in one step
//! under one read transaction, so it is the database at one moment, while
//! the service goes on writing (WAL lets it). Every new file is written
//! beside its final name, checked, then linked to that name, so no
//! half-written file ever carries it; a restore over a database keeps the
//! one it replaces.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail, ensure};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::sqlite::database_file;

/// How long a copy waits for a writer's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// The database the service keeps its accounts in (spin.toml's `default`).
const LABEL: &str = "default";

/// What a copy held.
#[derive(Debug)]
pub struct Copied {
    pub bytes: u64,
    /// Each table with its rows, in name order.
    pub tables: Vec<(String, u64)>,
    pub took: Duration,
}

impl std::fmt::Display for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables: Vec<String> = self
            .tables
            .iter()
            .map(|(table, rows)| format!("{table} {rows}"))
            .collect();
        write!(
            f,
            "{} bytes in {} ms; rows: {}",
            self.bytes,
            self.took.as_millis(),
            tables.join(", ")
        )
    }
}

/// Copies the database of `data_dir` to `to`, a file that must not exist
/// yet.
pub fn backup(data_dir: &Path, to: &Path) -> anyhow::Result<Copied> {
    let started = Instant::now();
    let source_path = database_file(data_dir, LABEL);
    ensure!(
        source_path.is_file(),
        "{} does not exist: DATA_DIR ({}) names the data directory of a host that has served",
        source_path.display(),
        data_dir.display()
    );
    let source = Connection::open_with_flags(&source_path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", source_path.display()))?;
    // One self-contained file: no write-ahead log beside it.
    let tables = copy_to_new_file(&source, to, "delete")?;
    Ok(Copied {
        bytes: std::fs::metadata(to)?.len(),
        tables,
        took: started.elapsed(),
    })
}

/// Copies the backup `from` into the database of `data_dir`, whose host is
/// stopped (the caller holds the directory). A database already there is
/// replaced only when `replace` says so, and is first copied beside itself
/// (`FILE.before-restore-UNIXMILLIS`): what the returned path names.
pub fn restore(
    data_dir: &Path,
    from: &Path,
    replace: bool,
) -> anyhow::Result<(Copied, Option<PathBuf>)> {
    let started = Instant::now();
    let backup = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", from.display()))?;
    let tables = check(&backup).with_context(|| format!("{} is not a backup", from.display()))?;
    ensure!(
        tables.iter().any(|(table, _)| table == "schema_migrations"),
        "{} is a SQLite database, but not this service's (it has no schema_migrations table)",
        from.display()
    );
    let target_path = database_file(data_dir, LABEL);
    let kept = match (target_path.exists(), replace) {
        // Made whole under another name first: a restore that fails leaves
        // no database for the host to start on.
        (false, false) => {
            copy_to_new_file(&backup, &target_path, "wal")?;
            None
        }
        (true, true) => {
            let keep = with_suffix(&target_path, &format!(".before-restore-{}", unix_millis()));
            let current =
                Connection::open_with_flags(&target_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            copy_to_new_file(&current, &keep, "delete")
                .with_context(|| format!("cannot keep {} first", target_path.display()))?;
            drop(current);
            // One write transaction: a copy that fails leaves it as it was.
            let mut target = Connection::open(&target_path)
                .with_context(|| format!("cannot write {}", target_path.display()))?;
            copy_all(&backup, &mut target)?;
            Some(keep)
        }
        (true, false) => bail!(
            "{} already holds a database: pass --replace to overwrite it (the current one is \
             kept beside it first)",
            target_path.display()
        ),
        (false, true) => bail!(
            "{} does not exist, so there is nothing to replace: is DATA_DIR the host's? \
             (Without --replace, restore creates it.)",
            target_path.display()
        ),
    };
    let restored = Connection::open_with_flags(&target_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok((
        Copied {
            bytes: std::fs::metadata(from)?.len(),
            tables: check(&restored)?,
            took: started.elapsed(),
        },
        kept,
    ))
}

/// `from` copied whole into the new file `to`, in `journal_mode`, checked:
/// written as `to.partial`, synced, then linked to its name, which fails
/// rather than replace a file that appeared meanwhile. A failure leaves
/// nothing behind.
fn copy_to_new_file(
    from: &Connection,
    to: &Path,
    journal_mode: &str,
) -> anyhow::Result<Vec<(String, u64)>> {
    ensure!(
        !to.exists(),
        "{} exists: a copy never overwrites a file; choose a new name",
        to.display()
    );
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let copied = (|| {
        let mut copy = Connection::open(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        copy_all(from, &mut copy)?;
        copy.pragma_update(None, "journal_mode", journal_mode)?;
        let tables = check(&copy)?;
        drop(copy);
        std::fs::File::open(&partial)?.sync_all()?;
        name_new_file(&partial, to)?;
        if let Some(dir) = to.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok::<_, anyhow::Error>(tables)
    })();
    let _ = std::fs::remove_file(&partial);
    copied
}

/// Gives `from` the name `to`, never replacing a file there: a hard link
/// where the filesystem has them, else (vfat, SMB, some FUSE mounts) a
/// rename after checking, which leaves a moment for a race.
fn name_new_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "{} appeared meanwhile: a copy never overwrites a file",
                to.display()
            )
        }
        Err(_) => {
            ensure!(
                !to.exists(),
                "{} appeared meanwhile: a copy never overwrites a file",
                to.display()
            );
            std::fs::rename(from, to)
                .with_context(|| format!("cannot name the copy {}", to.display()))
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// The whole database in one step: one read transaction on `from`, so a
/// writer on it can neither tear the copy nor make it start over.
fn copy_all(from: &Connection, to: &mut Connection) -> anyhow::Result<()> {
    let backup = Backup::new(from, to)?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked => {
                ensure!(
                    Instant::now() < deadline,
                    "the database stayed locked for {} s; try again",
                    LOCK_WAIT.as_secs()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => bail!("the backup stopped for a reason SQLite did not name"),
        }
    }
}

/// SQLite's integrity check, then each table with its rows.
fn check(database: &Connection) -> anyhow::Result<Vec<(String, u64)>> {
    let verdict: String = database
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .context("not a SQLite database")?;
    ensure!(
        verdict == "ok",
        "SQLite's integrity check failed: {verdict}"
    );
    let names: Vec<String> = database
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    names
        .into_iter()
        .map(|name| {
            let quoted = name.replace('"', "\"\"");
            let rows: i64 =
                database.query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |row| {
                    row.get(0)
                })?;
            Ok((name, rows.unsigned_abs()))
        })
        .collect()
}
