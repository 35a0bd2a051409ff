//! Backups and restores of both stores, as docs/OPERATIONS.md runs them:
//! the embedded SQLite database copied by `mhmanus-host backup` while
//! accounts are being written, then restored into a fresh DATA_DIR that a
//! new host serves, every account in it able to log in; PostgreSQL dumped
//! by pg_dump and restored by pg_restore into a new database that serves.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhmanus_tests::{
    SpawnedHost, TestDatabase, host_binary, own_loopback_address, spawn_app, workspace_root,
};
use serde_json::json;

const SECRET: &str = "backups-restore-under-this-secret-32b!";
const PASSWORD: &str = "Bk3$ a passphrase to restore";

/// `mhmanus-host ARGS` with `DATA_DIR=data_dir`.
fn host_command(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(host_binary())
        .args(args)
        .env("DATA_DIR", data_dir)
        .output()
        .expect("the host binary runs")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// `mhmanus-host ARGS` refused, saying `says`.
fn assert_refused(data_dir: &Path, args: &[&str], says: &str) {
    let output = host_command(data_dir, args);
    assert!(
        !output.status.success() && text(&output).contains(says),
        "{args:?}: {}",
        text(&output)
    );
}

fn serve(data_dir: &Path) -> SpawnedHost {
    let data = data_dir.to_str().unwrap();
    SpawnedHost::start(
        &workspace_root(),
        &[
            ("DATA_DIR", data),
            ("JWT_SECRET", SECRET),
            ("RATE_LIMIT_ROUTES", "/v1/auth/...=off"),
        ],
    )
    .expect("the host starts")
}

async fn register(client: &reqwest::Client, host: &SpawnedHost, email: &str) -> u16 {
    client
        .post(host.url("/v1/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Kept"}))
        .send()
        .await
        .expect("the host answers")
        .status()
        .as_u16()
}

async fn logs_in(client: &reqwest::Client, host: &SpawnedHost, email: &str) -> bool {
    let answer = client
        .post(host.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("the host answers");
    answer.status() == 200
}

/// The accounts a SQLite database file holds.
fn emails_in(file: &Path) -> Vec<String> {
    let database =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut query = database.prepare("SELECT email FROM users").unwrap();
    query
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A registration a writer made: when it was sent and answered, and
/// whether it was accepted (201).
#[derive(Clone)]
struct Write {
    email: String,
    sent: Instant,
    answered: Instant,
    accepted: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_backup_taken_under_writes_restores_every_account() {
    let (data, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let host = Arc::new(serve(data.path()));

    // Four clients, each from an address of its own, register accounts
    // until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(Mutex::new(Vec::<Write>::new()));
    let unexpected = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (stop, writes, unexpected, host) = (
            stop.clone(),
            writes.clone(),
            unexpected.clone(),
            host.clone(),
        );
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .local_address(own_loopback_address())
                .build()
                .unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let email = format!("kept-{writer}-{n}-{}@example.com", uuid::Uuid::new_v4());
                let sent = Instant::now();
                let status = register(&client, &host, &email).await;
                // 503: every password check of the moment taken; refused, not lost.
                if ![201, 503].contains(&status) {
                    unexpected.lock().unwrap().push(status);
                }
                writes.lock().unwrap().push(Write {
                    email,
                    sent,
                    answered: Instant::now(),
                    accepted: status == 201,
                });
            }
        }));
    }
    let accepted = |writes: &[Write]| writes.iter().filter(|w| w.accepted).count();
    let deadline = Instant::now() + Duration::from_secs(120);
    while accepted(&writes.lock().unwrap()) < 24 {
        assert!(Instant::now() < deadline, "24 accounts within two minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let file = elsewhere.path().join("accounts.db");
    let started = Instant::now();
    let backup = {
        let (data, file) = (data.path().to_owned(), file.clone());
        tokio::task::spawn_blocking(move || {
            host_command(&data, &["backup", file.to_str().unwrap()])
        })
        .await
        .unwrap()
    };
    let finished = Instant::now();
    assert!(backup.status.success(), "{}", text(&backup));
    assert!(text(&backup).contains("backed up to"), "{}", text(&backup));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let unexpected = unexpected.lock().unwrap().clone();
    assert!(unexpected.is_empty(), "only 201 and 503: {unexpected:?}");

    // Writes were under way while the copy was taken; everything accepted
    // before it began is in it; each account in it is whole (logs in).
    let writes = writes.lock().unwrap().clone();
    let in_flight = writes
        .iter()
        .filter(|w| w.sent < finished && w.answered > started)
        .count();
    assert!(
        in_flight > 0,
        "a registration was under way during the backup"
    );
    let in_backup = emails_in(&file);
    let before: Vec<&Write> = writes
        .iter()
        .filter(|w| w.accepted && w.answered < started)
        .collect();
    for write in &before {
        assert!(
            in_backup.contains(&write.email),
            "{} is missing",
            write.email
        );
    }

    // Restored into a fresh DATA_DIR, served by a new host: each account
    // in the backup logs in with its password.
    let fresh = tempfile::tempdir().unwrap();
    let restore = host_command(fresh.path(), &["restore", file.to_str().unwrap()]);
    assert!(restore.status.success(), "{}", text(&restore));
    let restored = serve(fresh.path());
    let client = reqwest::Client::new();
    for email in &in_backup {
        assert!(logs_in(&client, &restored, email).await, "{email} logs in");
    }
    println!(
        "backup under writes: {} registrations in all ({} accepted), {} accepted before the \
         backup, {in_flight} under way during it ({} ms), {} accounts in the backup, each logs \
         in after the restore",
        writes.len(),
        accepted(&writes),
        before.len(),
        (finished - started).as_millis(),
        in_backup.len()
    );

    // Never under a running host; never over a database unasked.
    let backup_path = file.to_str().unwrap();
    let replace = ["restore", "--replace", backup_path];
    assert_refused(fresh.path(), &replace, "a host is serving from it");
    drop(restored);
    assert_refused(fresh.path(), &["restore", backup_path], "--replace");
    let nothing = tempfile::tempdir().unwrap();
    assert_refused(nothing.path(), &replace, "nothing to replace");
    assert_refused(data.path(), &["backup", backup_path], "never overwrites");

    // A later backup (every account) over the restored one: it replaces
    // it, and the one it replaced is kept whole.
    drop(host);
    let later = elsewhere.path().join("later.db");
    let backup = host_command(data.path(), &["backup", later.to_str().unwrap()]);
    assert!(backup.status.success(), "{}", text(&backup));
    let replaced = host_command(
        fresh.path(),
        &["restore", "--replace", later.to_str().unwrap()],
    );
    assert!(replaced.status.success(), "{}", text(&replaced));
    let database = fresh.path().join("sqlite_db.db");
    assert_eq!(emails_in(&database).len(), accepted(&writes));
    let kept = std::fs::read_dir(fresh.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.to_string_lossy()
                .contains("sqlite_db.db.before-restore-")
        })
        .expect("the replaced database is kept");
    assert_eq!(emails_in(&kept).len(), in_backup.len());

    // A file that is no backup changes nothing.
    let not_a_backup = elsewhere.path().join("notes.txt");
    std::fs::write(&not_a_backup, "not a database").unwrap();
    assert_refused(
        fresh.path(),
        &["restore", "--replace", not_a_backup.to_str().unwrap()],
        "is not a backup",
    );
    assert_eq!(emails_in(&database).len(), accepted(&writes));
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(output.status.success(), "{program}: {}", text(&output));
}

#[tokio::test]
async fn a_postgres_dump_restored_into_a_new_database_serves_every_account() {
    let database = TestDatabase::create().await;
    let host = spawn_app(&[
        ("DATABASE_URL", &database.url()),
        ("JWT_SECRET", SECRET),
        ("RATE_LIMIT_ROUTES", "/v1/auth/...=off"),
    ]);
    let client = reqwest::Client::new();
    let emails: Vec<String> = (0..3)
        .map(|i| format!("dumped-{i}-{}@example.com", uuid::Uuid::new_v4()))
        .collect();
    for email in &emails {
        assert_eq!(register(&client, &host, email).await, 201);
    }

    // As docs/OPERATIONS.md: a custom-format dump while serving, restored
    // into a new, empty database.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("mhmanus.dump");
    run(
        "pg_dump",
        &[
            "--format=custom",
            "--file",
            dump.to_str().unwrap(),
            &database.url(),
        ],
    );
    let copy = TestDatabase::create().await;
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--dbname",
            &copy.url(),
            dump.to_str().unwrap(),
        ],
    );
    drop(host);

    let restored = spawn_app(&[
        ("DATABASE_URL", &copy.url()),
        ("JWT_SECRET", SECRET),
        ("RATE_LIMIT_ROUTES", "/v1/auth/...=off"),
    ]);
    for email in &emails {
        assert!(logs_in(&client, &restored, email).await, "{email} logs in");
    }
    drop(restored);
    database.remove().await;
    copy.remove().await;
}
