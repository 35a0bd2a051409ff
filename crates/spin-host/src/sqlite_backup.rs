//! Backup and restore of a SQLite database of the data directory, with
//! SQLite's online backup API: the copy is taken in one step under one read
//! transaction, so it is the database at one moment, while the service
//! goes on writing (WAL lets it). A backup is written beside its final name
//! and renamed once checked, so no half-written file ever carries that
//! name; a restore over a database keeps the one it replaces.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail, ensure};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::sqlite::database_file;

/// How long a copy waits for a writer's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(30);

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

/// Copies the database `label` of `data_dir` to `to`, a file that must not
/// exist yet.
pub fn backup(data_dir: &Path, label: &str, to: &Path) -> anyhow::Result<Copied> {
    let started = Instant::now();
    let source_path = database_file(data_dir, label);
    ensure!(
        source_path.is_file(),
        "{} does not exist: DATA_DIR ({}) names the data directory of a host that has served",
        source_path.display(),
        data_dir.display()
    );
    ensure!(
        !to.exists(),
        "{} exists: a backup never overwrites a file; choose a new name",
        to.display()
    );
    let source = Connection::open_with_flags(&source_path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", source_path.display()))?;
    let partial = to.with_file_name(format!(
        "{}.partial",
        to.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&partial);
    let copied = (|| {
        let mut copy = Connection::open(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        copy_all(&source, &mut copy)?;
        // One self-contained file: no write-ahead log beside it.
        copy.pragma_update(None, "journal_mode", "delete")?;
        let tables = check(&copy)?;
        drop(copy);
        std::fs::File::open(&partial)?.sync_all()?;
        Ok::<_, anyhow::Error>(tables)
    })();
    let tables = match copied {
        Ok(tables) => tables,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, to)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), to.display()))?;
    Ok(Copied {
        bytes: std::fs::metadata(to)?.len(),
        tables,
        took: started.elapsed(),
    })
}

/// Copies the backup `from` into the database `label` of `data_dir`. A
/// database already there is replaced only when `replace` says so, and is
/// first copied beside itself (`FILE.before-restore-UNIXTIME`): what the
/// returned path names.
pub fn restore(
    data_dir: &Path,
    label: &str,
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
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create DATA_DIR {}", data_dir.display()))?;
    let target_path = database_file(data_dir, label);
    let mut kept = None;
    if target_path.exists() {
        if !replace {
            bail!(
                "{} already holds a database: stop the host, then pass --replace to overwrite it \
                 (the current one is kept beside it first)",
                target_path.display()
            );
        }
        let unix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let keep = target_path.with_file_name(format!(
            "{}.before-restore-{unix}",
            target_path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
        ));
        backup_file(&target_path, &keep)?;
        kept = Some(keep);
    }
    let mut target = Connection::open(&target_path)
        .with_context(|| format!("cannot write {}", target_path.display()))?;
    target.busy_timeout(LOCK_WAIT)?;
    copy_all(&backup, &mut target)?;
    // As the host opens it: WAL.
    target.pragma_update(None, "journal_mode", "wal")?;
    let tables = check(&target)?;
    Ok((
        Copied {
            bytes: std::fs::metadata(from)?.len(),
            tables,
            took: started.elapsed(),
        },
        kept,
    ))
}

/// A database file copied whole to `to` (the one kept by a restore).
fn backup_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut copy = Connection::open(to)?;
    copy_all(&source, &mut copy)?;
    copy.pragma_update(None, "journal_mode", "delete")?;
    Ok(())
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
