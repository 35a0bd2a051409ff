//! Login: one answer for every bad credential, the same cost for unknown
//! accounts, the per-account slow-down, and bcrypt hashes upgraded.

use std::time::{Duration, Instant};

use super::{AuthApp, Database, PASSWORD, header, problem, unique_email};
use mhmanus_domain::auth::throttle;
use mhmanus_tests::POSTGRES_URL;

#[tokio::test]
async fn every_bad_credential_gets_the_same_401() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, _) = app.register().await;
    let unknown = app.login(&unique_email(), PASSWORD).await;
    let wrong = app.login(&email, "wrong password!").await;
    problem(&unknown, 401);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(
        header(&unknown, "www-authenticate"),
        header(&wrong, "www-authenticate")
    );
    assert!(header(&unknown, "www-authenticate").starts_with("Bearer"));
    assert!(!unknown.body.contains(&email));
}

/// An unknown email runs a real argon2id verification too. (Median of a few
/// each, with a wide margin: skipping the hash would be ~50x faster.)
#[tokio::test]
async fn an_unknown_email_costs_what_a_wrong_password_costs() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, _) = app.register().await;
    fn median(mut samples: Vec<Duration>) -> Duration {
        samples.sort();
        samples[samples.len() / 2]
    }
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    // Four failures: under the slow-down threshold of the real account.
    for _ in 0..4 {
        let started = Instant::now();
        assert_eq!(app.login(&unique_email(), PASSWORD).await.status, 401);
        unknown.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(app.login(&email, "wrong password!").await.status, 401);
        wrong.push(started.elapsed());
    }
    let (unknown, wrong) = (median(unknown), median(wrong));
    assert!(
        unknown * 2 > wrong,
        "unknown email {unknown:?} vs wrong password {wrong:?}"
    );
}

#[tokio::test]
async fn five_failures_slow_the_account_down_and_a_success_resets_it() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, _) = app.register().await;
    for _ in 0..5 {
        assert_eq!(app.login(&email, "wrong password!").await.status, 401);
    }
    // Within the delay even the right password is refused, with the same answer.
    let early = app.login(&email, PASSWORD).await;
    let wrong = app.login(&email, "wrong password!").await;
    assert_eq!(early.status, 401);
    assert_eq!(early.body, wrong.body);
    // The early attempts did not count: one delay (1 s) after the fifth failure suffices.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    // The success reset the count: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(app.login(&email, "wrong password!").await.status, 401);
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
}

/// Wrong guesses sent at once at a fresh account (each below the slow-down
/// threshold when it starts): every one is claimed before its password is
/// checked, so a right guess that arrives behind them is refused, as the
/// slow-down promises, instead of being checked alongside them. On
/// PostgreSQL an operator's lock on the account queues the guesses in
/// order, the right one last, so all are claimed before any is checked.
/// SQLite runs one write at a time and wakes lock waiters in no order, so
/// there the right guess follows once the free guesses and the window's one
/// are counted, while they are being checked.
async fn parallel_guesses_are_claimed_before_they_are_checked(database: Database) {
    const WRONG: usize = 15; // and the right one: the host's PostgreSQL pool holds 16
    let app = AuthApp::start(database).await;
    let (email, user) = app.register().await;
    let lock = match database {
        Database::Postgres => Some(app.lock_account(user["id"].as_str().unwrap()).await),
        Database::Sqlite => None,
    };
    let wrong = futures::future::join_all((0..WRONG).map(|_| app.login(&email, "wrong password!")));
    let right = async {
        match lock {
            Some(lock) => {
                app.wait_for_claims_queued(WRONG).await;
                let right = app.login(&email, PASSWORD);
                let release = async {
                    app.wait_for_claims_queued(WRONG + 1).await;
                    lock.release().await;
                };
                tokio::join!(right, release).0
            }
            None => {
                app.wait_for_failures_counted(throttle::FREE_FAILURES as usize + 1)
                    .await;
                app.login(&email, PASSWORD).await
            }
        }
    };
    let (wrong, right) = tokio::join!(wrong, right);
    assert!(wrong.iter().all(|reply| reply.status == 401));
    assert_eq!(
        right.status, 401,
        "the right guess was checked: {}",
        right.body
    );
}

#[tokio::test]
async fn parallel_guesses_are_claimed_before_they_are_checked_on_sqlite() {
    parallel_guesses_are_claimed_before_they_are_checked(Database::Sqlite).await;
}

#[tokio::test]
async fn parallel_guesses_are_claimed_before_they_are_checked_on_postgres() {
    parallel_guesses_are_claimed_before_they_are_checked(Database::Postgres).await;
}

/// A hash the original NestJS system stored (bcrypt, made by Python's
/// bcrypt 5.0.0) logs in and is replaced by argon2id.
const NEST_PASSWORD: &str = "Nest-Password-1";
const NEST_BCRYPT: &str = "$2b$10$4Jm20qw9kfSmnm19Dbndmut9gUPKzrohmjqst2.THYvIhBqvRI5vC";

#[tokio::test]
async fn a_bcrypt_hash_from_the_original_system_is_upgraded_on_sqlite() {
    let app = AuthApp::start(Database::Sqlite).await;
    let (email, user) = app.register().await; // also migrates the schema
    let db = rusqlite::Connection::open(app.runtime.data_dir().join("data/sqlite_db.db")).unwrap();
    let stored = |db: &rusqlite::Connection| -> String {
        db.query_row(
            "SELECT password_hash FROM users WHERE id = ?1",
            [user["id"].as_str().unwrap()],
            |row| row.get(0),
        )
        .unwrap()
    };
    db.execute(
        "UPDATE users SET password_hash = ?1 WHERE id = ?2",
        [NEST_BCRYPT, user["id"].as_str().unwrap()],
    )
    .unwrap();
    assert_eq!(app.login(&email, "wrong password!").await.status, 401);
    assert!(stored(&db).starts_with("$2b$"), "a failure changes nothing");
    assert_eq!(app.login(&email, NEST_PASSWORD).await.status, 200);
    assert!(
        stored(&db).starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored(&db)
    );
    assert_eq!(app.login(&email, NEST_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn a_bcrypt_hash_from_the_original_system_is_upgraded_on_postgres() {
    let app = AuthApp::start(Database::Postgres).await;
    let (email, user) = app.register().await;
    let (db, connection) = tokio_postgres::connect(POSTGRES_URL, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let id = user["id"].as_str().unwrap();
    db.execute(
        "UPDATE users SET password_hash = $1 WHERE id = $2",
        &[&NEST_BCRYPT, &id],
    )
    .await
    .unwrap();
    assert_eq!(app.login(&email, NEST_PASSWORD).await.status, 200);
    let row = db
        .query_one("SELECT password_hash FROM users WHERE id = $1", &[&id])
        .await
        .unwrap();
    assert!(row.get::<_, String>(0).starts_with("$argon2id$"));
    assert_eq!(app.login(&email, NEST_PASSWORD).await.status, 200);
}
