//! The accounts schema (users and refresh tokens), migrated by whichever
//! component reaches it first on an instance's first request: auth, or the
//! bearer door of another component.
//!
//! Everything runs in one transaction on one connection, behind a lock that
//! serialises instances starting at once: PostgreSQL takes a transaction-
//! scoped advisory lock, SQLite `BEGIN IMMEDIATE` (the write lock; the host's
//! busy timeout makes the second instance wait). The second instance then
//! finds the versions already recorded and applies nothing.
//!
//! Migration files live in `migrations/<dialect>/NNNN_name.sql` and are
//! compiled in. A file may hold several statements: it is split on `;`, so
//! the files use `;` only as a statement terminator (no `;` in comments or
//! string literals). A migration may also rewrite data, in code, in the
//! same transaction (`Rewrite`).

use std::sync::atomic::{AtomicBool, Ordering};

use mhmanus_domain::auth::email::Email;

use crate::db::{Db, Dialect, StoreError, Val};

/// One schema change, written for each dialect.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    /// Data rewritten after the statements, in the same transaction.
    then: Option<Rewrite>,
}

/// The data rewrites migrations may ask for.
#[derive(Debug, Clone, Copy)]
enum Rewrite {
    /// Every account's email key in the current form (`Email::key`).
    EmailKeys,
}

/// In version order; append only.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts",
        sqlite: include_str!("../../../migrations/sqlite/0001_accounts.sql"),
        postgres: include_str!("../../../migrations/postgres/0001_accounts.sql"),
        then: None,
    },
    Migration {
        version: 2,
        name: "session_start",
        sqlite: include_str!("../../../migrations/sqlite/0002_session_start.sql"),
        postgres: include_str!("../../../migrations/postgres/0002_session_start.sql"),
        then: None,
    },
    Migration {
        version: 3,
        name: "session_generation",
        sqlite: include_str!("../../../migrations/sqlite/0003_session_generation.sql"),
        postgres: include_str!("../../../migrations/postgres/0003_session_generation.sql"),
        // Keys were the lowercase address until now; the new key also folds
        // what looks alike (see `Email`).
        then: Some(Rewrite::EmailKeys),
    },
    Migration {
        version: 4,
        name: "login_attempts",
        sqlite: include_str!("../../../migrations/sqlite/0004_login_attempts.sql"),
        postgres: include_str!("../../../migrations/postgres/0004_login_attempts.sql"),
        then: None,
    },
    Migration {
        version: 5,
        name: "admin_bootstrap",
        sqlite: include_str!("../../../migrations/sqlite/0005_admin_bootstrap.sql"),
        postgres: include_str!("../../../migrations/postgres/0005_admin_bootstrap.sql"),
        then: None,
    },
];

/// The key of the PostgreSQL advisory lock migrations hold: any fixed value
/// works; the bytes of "mhmanus" and a 1 make one unlikely to clash.
const ADVISORY_LOCK_KEY: i64 = i64::from_be_bytes(*b"mhmanus\x01");

/// Set once this instance knows the schema is current.
static CURRENT: AtomicBool = AtomicBool::new(false);

/// `run`, once per instance: after the first success, free.
pub async fn ensure(db: &Db, now_ms: i64) -> Result<(), StoreError> {
    if CURRENT.load(Ordering::Acquire) {
        return Ok(());
    }
    run(db, now_ms).await?;
    CURRENT.store(true, Ordering::Release);
    Ok(())
}

/// Applies every migration the database has not recorded yet. Once the
/// schema is current (every instance but the very first) this is one read
/// and takes no lock, so instances starting together do not queue on the
/// write lock.
pub async fn run(db: &Db, now_ms: i64) -> Result<(), StoreError> {
    if is_current(db).await {
        return Ok(());
    }
    let begin = match db.dialect() {
        Dialect::Sqlite => "BEGIN IMMEDIATE",
        Dialect::Postgres => "BEGIN",
    };
    db.execute(begin, &[]).await?;
    match apply_missing(db, now_ms).await {
        Ok(()) => db.execute("COMMIT", &[]).await,
        Err(e) => {
            // Best effort: a connection that failed may refuse this too, and
            // closing it rolls back anyway.
            if let Err(rollback) = db.execute("ROLLBACK", &[]).await {
                eprintln!("schema: rollback of failed migration failed: {rollback}");
            }
            Err(e)
        }
    }
}

/// Whether every migration is recorded; no table yet means no.
async fn is_current(db: &Db) -> bool {
    let Ok(rows) = db.query("SELECT version FROM schema_migrations", &[]).await else {
        return false;
    };
    let applied: Vec<i64> = rows.iter().filter_map(|row| row.int(0).ok()).collect();
    MIGRATIONS.iter().all(|m| applied.contains(&m.version))
}

async fn apply_missing(db: &Db, now_ms: i64) -> Result<(), StoreError> {
    let create = match db.dialect() {
        Dialect::Postgres => {
            db.execute(
                &format!("SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"),
                &[],
            )
            .await?;
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        }
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        }
    };
    db.execute(create, &[]).await?;
    let applied = db
        .query("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.int(0))
        .collect::<Result<Vec<i64>, _>>()?;
    for migration in MIGRATIONS {
        if applied.contains(&migration.version) {
            continue;
        }
        let sql = match db.dialect() {
            Dialect::Sqlite => migration.sqlite,
            Dialect::Postgres => migration.postgres,
        };
        for statement in statements(sql) {
            db.execute(statement, &[]).await.map_err(|e| {
                StoreError::new(format!(
                    "migration {} ({}) failed: {e}",
                    migration.version, migration.name
                ))
            })?;
        }
        match migration.then {
            Some(Rewrite::EmailKeys) => rekey_emails(db).await?,
            None => {}
        }
        db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                Val::Int(migration.version),
                Val::from(migration.name),
                Val::Int(now_ms),
            ],
        )
        .await?;
        eprintln!(
            "schema: applied migration {} ({})",
            migration.version, migration.name
        );
    }
    Ok(())
}

/// Gives every account the key its email has now. An account is reported
/// (once: when this runs, on the first start after the upgrade) and left as
/// it is when its stored email is not in normal form (it was registered with
/// a look-alike: a Kelvin sign, fullwidth letters), is no longer accepted
/// (invisible characters, mixed scripts), or when its new key is another
/// account's: an operator decides about those, the migration does not.
async fn rekey_emails(db: &Db) -> Result<(), StoreError> {
    let rows = db
        .query(
            "SELECT id, email, email_key FROM users ORDER BY created_at, id",
            &[],
        )
        .await?;
    let (mut rekeyed, mut reported) = (0, 0);
    for row in rows {
        let (id, stored, key) = (row.text(0)?, row.text(1)?, row.text(2)?);
        let email = match Email::parse(&stored) {
            Ok(email) => email,
            Err(e) => {
                eprintln!(
                    "schema: warning: account {id}: its email {}; left as it is",
                    e.message
                );
                reported += 1;
                continue;
            }
        };
        if email.as_str() != stored {
            eprintln!(
                "schema: warning: account {id}: its email is not in normal form (it looks like {}); left as it is",
                email.as_str()
            );
            reported += 1;
            continue;
        }
        if email.key() == key {
            continue;
        }
        let taken = db
            .query_opt(
                "SELECT id FROM users WHERE email_key = $1",
                &[Val::from(email.key())],
            )
            .await?;
        if let Some(other) = taken {
            eprintln!(
                "schema: warning: account {id}: its email is the same as account {}'s; left as it is",
                other.text(0)?
            );
            reported += 1;
            continue;
        }
        db.execute(
            "UPDATE users SET email_key = $1 WHERE id = $2",
            &[Val::from(email.key()), Val::from(id.as_str())],
        )
        .await?;
        rekeyed += 1;
    }
    eprintln!("schema: email keys: {rekeyed} rewritten, {reported} accounts reported");
    Ok(())
}

/// The statements of a migration file: split on `;`, dropping pieces that
/// hold only comments and blank lines.
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(';').map(str::trim).filter(|piece| {
        piece
            .lines()
            .map(str::trim)
            .any(|line| !line.is_empty() && !line.starts_with("--"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_into_statements() {
        let split: Vec<&str> =
            statements("-- a comment\nCREATE TABLE a (x INTEGER);\n\n-- tail\n").collect();
        assert_eq!(split, ["-- a comment\nCREATE TABLE a (x INTEGER)"]);
        for migration in MIGRATIONS {
            for sql in [migration.sqlite, migration.postgres] {
                // A stray ';' in a comment would cut a statement in two.
                for statement in statements(sql) {
                    let code = statement
                        .lines()
                        .map(str::trim)
                        .find(|line| !line.is_empty() && !line.starts_with("--"));
                    assert!(
                        code.is_some_and(
                            |line| line.starts_with("CREATE ") || line.starts_with("ALTER TABLE ")
                        ),
                        "{}: {statement}",
                        migration.name
                    );
                }
            }
            assert_eq!(
                statements(migration.sqlite).count(),
                statements(migration.postgres).count(),
                "{}",
                migration.name
            );
        }
    }

    #[test]
    fn versions_increase() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }
}
