//! PostgreSQL and Redis failing under the real binary, through a proxy the
//! test cuts, restores and slows down, while clients keep calling: answers
//! stay 503 problems (never 500, never a hang past the request timeout),
//! liveness never wavers, everything recovers without a restart, and no
//! registration that was acknowledged is lost.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhmanus_domain::auth::role::Role;
use mhmanus_tests::{
    CuttableProxy, POSTGRES_ADDRESS, SpawnedHost, TestDatabase, access_token, spawn_app,
};
use serde_json::Value;

const SECRET: &str = "dependency-faults-secret-of-32-bytes!";
/// The host's request timeout in these tests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

async fn count_users(database: &TestDatabase, emails: &[String]) -> i64 {
    let row = database
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM users WHERE email = ANY($1)",
            &[&emails],
        )
        .await
        .unwrap();
    row.get(0)
}

fn start(env: &[(&str, &str)]) -> SpawnedHost {
    let timeout = REQUEST_TIMEOUT.as_secs().to_string();
    let mut all = vec![
        ("JWT_SECRET", SECRET),
        ("REQUEST_TIMEOUT_SECS", timeout.as_str()),
        ("RATE_LIMIT", "off"),
        (
            "RATE_LIMIT_ROUTES",
            "/v1/auth/login=off,/v1/auth/register=off",
        ),
        // Parallel registrations wait on the database (a migration, an
        // outage): the password-work budget is tested on its own.
        ("MAX_PASSWORD_CHECKS", "64"),
    ];
    all.extend_from_slice(env);
    spawn_app(&all)
}

/// What the clients saw: every status with how long it took, and the
/// accounts whose registration was acknowledged (201).
#[derive(Default)]
struct Seen {
    answers: Vec<(u16, Duration, String)>,
    acknowledged: Vec<String>,
}

/// `clients` tasks, each running `call` (with a shared client whose
/// timeout outlasts the host's) again and again until `stop` is set.
fn load<F, Fut>(
    clients: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
    call: F,
) -> Vec<tokio::task::JoinHandle<()>>
where
    F: Fn(reqwest::Client) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT * 4)
        .build()
        .unwrap();
    (0..clients)
        .map(|_| {
            let (client, stop, call) = (client.clone(), stop.clone(), call.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    call(client.clone()).await;
                }
            })
        })
        .collect()
}

/// `clients` loop registering fresh accounts until `stop` is set.
fn register_load(
    host: &SpawnedHost,
    clients: usize,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let url = host.url("/v1/auth/register");
    load(clients, stop, move |client| {
        let (url, seen) = (url.clone(), seen.clone());
        async move {
            let email = format!("{}@faults.example", uuid::Uuid::new_v4().simple());
            let body = serde_json::json!({
                "email": email, "password": "a fine passphrase", "name": "Load"
            });
            let started = Instant::now();
            let answer = client.post(&url).json(&body).send().await;
            let took = started.elapsed();
            let (status, kind) = match answer {
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    let kind = answer
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    (status, kind)
                }
                Err(e) => (0, e.to_string()),
            };
            let mut seen = seen.lock().unwrap();
            if status == 201 {
                seen.acknowledged.push(email);
            }
            seen.answers.push((status, took, kind));
        }
    })
}

/// `clients` loop `GET path` until `stop` is set; each answer's status and
/// time go to `seen`.
fn get_load(
    host: &SpawnedHost,
    path: &str,
    clients: usize,
    seen: Arc<Mutex<Vec<(u16, Duration)>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let url = host.url(path);
    load(clients, stop, move |client| {
        let (url, seen) = (url.clone(), seen.clone());
        async move {
            let started = Instant::now();
            let status = match client.get(&url).send().await {
                Ok(answer) => answer.status().as_u16(),
                Err(_) => 0,
            };
            seen.lock().unwrap().push((status, started.elapsed()));
        }
    })
}

async fn status_of(host: &SpawnedHost, path: &str) -> u16 {
    reqwest::get(host.url(path))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Polls `path` until it answers `want`; how long that took.
async fn until(host: &SpawnedHost, path: &str, want: u16, within: Duration) -> Duration {
    let started = Instant::now();
    while status_of(host, path).await != want {
        assert!(
            started.elapsed() < within,
            "{path} did not answer {want} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_is_503_and_recovers_without_losing_an_acknowledged_account() {
    let database = TestDatabase::create().await;
    let proxy = CuttableProxy::start(POSTGRES_ADDRESS).await.unwrap();
    let url = database.url_via(&proxy.addr.to_string());
    let host = start(&[("DATABASE_URL", &url)]);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = register_load(&host, 6, seen.clone(), stop.clone());

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = seen.lock().unwrap().acknowledged.len();
    assert!(before > 0, "no registration went through before the outage");

    proxy.cut();
    let noticed = until(&host, "/health/ready", 503, Duration::from_secs(5)).await;
    for _ in 0..10 {
        assert_eq!(
            status_of(&host, "/health/live").await,
            200,
            "liveness during the outage"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let during = seen.lock().unwrap().answers.len();

    proxy.restore();
    let recovered = until(&host, "/health/ready", 200, Duration::from_secs(15)).await;
    let acknowledged_at_restore = seen.lock().unwrap().acknowledged.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let refused: Vec<_> = seen.answers[before..during]
        .iter()
        .filter(|(status, ..)| *status != 201)
        .collect();
    assert!(!refused.is_empty(), "the outage refused nothing");
    for (status, took, kind) in &seen.answers {
        assert!(
            *status == 201 || (*status == 503 && kind == "application/problem+json"),
            "answered {status} ({kind}) after {took:?}"
        );
        assert!(
            *took < REQUEST_TIMEOUT + Duration::from_secs(2),
            "{status} took {took:?}"
        );
    }
    assert!(
        seen.acknowledged.len() > acknowledged_at_restore,
        "no registration went through after the restore"
    );
    // Every 201 is an account in the database.
    assert_eq!(
        count_users(&database, &seen.acknowledged).await,
        seen.acknowledged.len() as i64
    );
    eprintln!(
        "postgres outage: {} answers ({} acknowledged, {} refused with 503), ready 503 after {noticed:?}, 200 again {recovered:?} after the restore",
        seen.answers.len(),
        seen.acknowledged.len(),
        seen.answers.iter().filter(|(s, ..)| *s == 503).count()
    );
    drop(host);
    database.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_postgres_times_requests_out_without_piling_up() {
    let database = TestDatabase::create().await;
    let proxy = CuttableProxy::start(POSTGRES_ADDRESS).await.unwrap();
    let url = database.url_via(&proxy.addr.to_string());
    let host = start(&[("DATABASE_URL", &url)]);
    // The schema is in place before the dependency slows down.
    assert_eq!(status_of(&host, "/health/ready").await, 200);
    let token = access_token(
        SECRET,
        "00000000-0000-0000-0000-000000000000",
        &[Role::User],
    );
    let client = reqwest::Client::new();
    let profile = |client: reqwest::Client, url: String, token: String| async move {
        let started = Instant::now();
        let status = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        (status, started.elapsed())
    };
    assert_eq!(
        profile(client.clone(), host.url("/v1/auth/profile"), token.clone())
            .await
            .0,
        401,
        "a token without an account is refused once the database answers"
    );

    // Slower than the deadline: not even one round trip can make it.
    proxy.slow_down(REQUEST_TIMEOUT + Duration::from_secs(1));
    let started = Instant::now();
    let answers = futures::future::join_all(
        (0..48).map(|_| profile(client.clone(), host.url("/v1/auth/profile"), token.clone())),
    )
    .await;
    for (status, took) in &answers {
        assert!([503, 504].contains(status), "answered {status}");
        assert!(*took < REQUEST_TIMEOUT * 3, "took {took:?}");
    }
    assert_eq!(status_of(&host, "/health/live").await, 200);
    // Nothing is left running once the callers are answered.
    let in_flight = host.metric("http_requests_in_flight").await;
    assert!(in_flight <= 1.0, "{in_flight} requests still in flight");
    let rss_mib = std::fs::read_to_string(format!("/proc/{}/status", host.pid()))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap()
        / 1024.0;
    assert!(rss_mib < 512.0, "{rss_mib} MiB");

    proxy.slow_down(Duration::ZERO);
    until(&host, "/health/ready", 200, Duration::from_secs(15)).await;
    eprintln!(
        "slow postgres: 48 profile reads answered {:?} in {:?}, host RSS {rss_mib:.0} MiB",
        answers
            .iter()
            .map(|(s, _)| *s)
            .collect::<std::collections::BTreeSet<_>>(),
        started.elapsed()
    );
    drop(host);
    database.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_falls_back_and_recovers() {
    let proxy = CuttableProxy::start("127.0.0.1:6379").await.unwrap();
    let url = format!("redis://{}", proxy.addr);
    let host = start(&[("REDIS_URL", &url), ("RATE_LIMIT", "60000/60s")]);
    let token = host.sign_up().await;
    let client = reqwest::Client::new();
    let all_features = || async {
        let answer = client
            .get(host.url("/v1/production-test/all-features"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        let key_value = body["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["feature"] == "key-value")
            .map(|f| f["status"].clone())
            .unwrap();
        (status, key_value)
    };
    let limiter = || async {
        let health: Value = reqwest::get(host.url("/health"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        health["checks"]["rate-limiter:backend"][0]["status"].clone()
    };
    assert_eq!(all_features().await, (200, "pass".into()));
    assert_eq!(limiter().await, "pass");

    // Clients of a rate-limited route keep calling through the outage and
    // the recovery.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = get_load(
        &host,
        "/v1/production-test/rate-limit",
        4,
        seen.clone(),
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut();
    until(&host, "/health/ready", 503, Duration::from_secs(5)).await;
    // Limited requests are still answered, counted in process.
    let limited = reqwest::get(host.url("/v1/production-test/rate-limit"))
        .await
        .unwrap();
    assert_eq!(limited.status(), 200);
    assert!(limited.headers().contains_key("ratelimit"));
    assert_eq!(limiter().await, "warn");
    assert_eq!(all_features().await, (503, "fail".into()));
    assert_eq!(status_of(&host, "/health/live").await, 200);

    proxy.restore();
    until(&host, "/health/ready", 200, Duration::from_secs(15)).await;
    let started = Instant::now();
    while all_features().await != (200, "pass".into()) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "key-value did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The limiter goes back to Redis at its next decision after the retry delay.
    let started = Instant::now();
    while limiter().await != "pass" {
        let _ = reqwest::get(host.url("/v1/production-test/rate-limit")).await;
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the limiter stayed in process"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for client in load {
        client.await.unwrap();
    }
    let seen = seen.lock().unwrap();
    let slowest = seen.iter().map(|(_, took)| *took).max().unwrap();
    let refused: Vec<_> = seen.iter().filter(|(status, _)| *status != 200).collect();
    println!(
        "redis outage: {} rate-limited requests through the cut and the recovery, {} not 200, slowest {slowest:?}",
        seen.len(),
        refused.len()
    );
    assert!(refused.is_empty(), "{refused:?}");
    assert!(slowest < REQUEST_TIMEOUT, "{slowest:?}");
}
