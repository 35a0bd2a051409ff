//! Two replicas of the real binary behind HAProxy, sharing one PostgreSQL
//! database and Redis, as a team runs the service once one machine is not
//! enough: accounts, sessions and the rate limit are one across replicas,
//! the schema is migrated once, and a rolling restart loses no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mhmanus_tests::{
    LoadBalancer, REDIS_URL, SpawnedHost, TestDatabase, free_port, own_loopback_address,
    rate_limit_round,
};
use serde_json::{Value, json};

const SECRET: &str = "replicas-share-this-secret-of-32-bytes!";
const PASSWORD: &str = "Rp3$ a replica passphrase";

/// Replicas on ports of their own, so one can be restarted where HAProxy
/// expects it.
struct Replicas {
    hosts: Vec<SpawnedHost>,
    ports: Vec<u16>,
    env: Vec<(String, String)>,
    _data: Vec<tempfile::TempDir>,
}

impl Replicas {
    fn start(database: &TestDatabase, count: usize) -> Replicas {
        let env = vec![
            ("DATABASE_URL".to_owned(), database.url()),
            ("REDIS_URL".to_owned(), REDIS_URL.to_owned()),
            ("JWT_SECRET".to_owned(), SECRET.to_owned()),
            // HAProxy connects from 127.0.0.1 and appends the client.
            ("TRUSTED_PROXIES".to_owned(), "127.0.0.1/32".to_owned()),
            // Accounts are made directly, from one address, many times.
            (
                "RATE_LIMIT_ROUTES".to_owned(),
                "/v1/auth/...=off".to_owned(),
            ),
        ];
        let mut replicas = Replicas {
            hosts: Vec::new(),
            ports: Vec::new(),
            env,
            _data: Vec::new(),
        };
        for _ in 0..count {
            let port = free_port();
            let data = tempfile::tempdir().unwrap();
            replicas.hosts.push(replicas.spawn(port, &data));
            replicas.ports.push(port);
            replicas._data.push(data);
        }
        replicas
    }

    fn spawn(&self, port: u16, data: &tempfile::TempDir) -> SpawnedHost {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.push(("DATA_DIR", data.path().to_str().unwrap()));
        SpawnedHost::start_on(
            &mhmanus_tests::workspace_root(),
            &format!("127.0.0.1:{port}"),
            &env,
        )
        .expect("a replica starts")
    }

    /// SIGTERM replica `i` and wait for its exit.
    fn stop(&mut self, i: usize) -> Option<std::process::ExitStatus> {
        self.hosts[i].terminate();
        self.hosts[i].wait(Duration::from_secs(40))
    }

    /// Starts replica `i` again, on its port.
    fn start_again(&mut self, i: usize) {
        self.hosts[i] = self.spawn(self.ports[i], &self._data[i]);
    }
}

async fn post(
    client: &reqwest::Client,
    url: String,
    body: Value,
    token: Option<&str>,
) -> (u16, Value) {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("the replica answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn replicas_share_accounts_sessions_and_the_rate_limit() {
    let database = TestDatabase::create().await;
    let replicas = Replicas::start(&database, 2);
    let (a, b) = (&replicas.hosts[0], &replicas.hosts[1]);
    let client = reqwest::Client::new();

    // Both replicas' first requests at once, on an empty database: the
    // schema is migrated once, and neither request fails for it.
    let emails: Vec<String> = (0..2)
        .map(|_| format!("replica-{}@example.com", uuid::Uuid::new_v4().simple()))
        .collect();
    let account = |email: &str| json!({"email": email, "password": PASSWORD, "name": "Replica"});
    let (first, second) = tokio::join!(
        post(
            &client,
            a.url("/v1/auth/register"),
            account(&emails[0]),
            None
        ),
        post(
            &client,
            b.url("/v1/auth/register"),
            account(&emails[1]),
            None
        ),
    );
    assert_eq!((first.0, second.0), (201, 201), "{first:?} {second:?}");
    let migrations = database
        .client()
        .await
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let versions: Vec<i64> = migrations.iter().map(|row| row.get(0)).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5], "each migration recorded once");

    // Registered through one, signed in through the other.
    let credentials = json!({"email": emails[0], "password": PASSWORD});
    let (status, login) = post(&client, b.url("/v1/auth/login"), credentials.clone(), None).await;
    assert_eq!(status, 200, "{login}");
    let refresh = |token: &Value| json!({"refresh_token": token});

    // A refresh token rotated on one is refused on the other, and its
    // reuse ends the session there too.
    let (status, rotated) = post(
        &client,
        a.url("/v1/auth/refresh"),
        refresh(&login["refresh_token"]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let (status, _) = post(
        &client,
        b.url("/v1/auth/refresh"),
        refresh(&login["refresh_token"]),
        None,
    )
    .await;
    assert_eq!(status, 401, "the rotated token is spent on every replica");
    let (status, _) = post(
        &client,
        a.url("/v1/auth/refresh"),
        refresh(&rotated["refresh_token"]),
        None,
    )
    .await;
    assert_eq!(
        status, 401,
        "reuse on one replica revoked the family on the other"
    );

    // Logout on one ends the access token on the other.
    let (status, session) = post(&client, a.url("/v1/auth/login"), credentials, None).await;
    assert_eq!(status, 200);
    let access = session["access_token"].as_str().unwrap();
    let profile = |host: &SpawnedHost| {
        client
            .get(host.url("/v1/auth/profile"))
            .bearer_auth(access)
            .send()
    };
    assert_eq!(profile(b).await.unwrap().status(), 200);
    let (status, _) = post(
        &client,
        a.url("/v1/auth/logout"),
        json!({"all": true}),
        Some(access),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        profile(b).await.unwrap().status(),
        401,
        "revoked on every replica"
    );

    // Through HAProxy, one limit for a client across both replicas: the
    // original loop gives 10 × 200 then 429s, whichever replica answers.
    let balancer = LoadBalancer::start(&replicas.ports).unwrap();
    balancer.wait_for("r0", "UP").await;
    balancer.wait_for("r1", "UP").await;
    let me = own_loopback_address();
    let client = reqwest::Client::builder()
        .local_address(me)
        .build()
        .unwrap();
    // Each 200 names the client: HAProxy's X-Forwarded-For is believed.
    let url = balancer.url("/production-test/rate-limit");
    let statuses = rate_limit_round(&client, &url, 15, &[], me).await;
    assert_eq!(statuses[..10], [200; 10], "{statuses:?}");
    assert_eq!(
        statuses[10..],
        [429; 5],
        "10 in all, not 10 per replica: {statuses:?}"
    );
    drop(balancer);
    drop(replicas);
    database.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_behind_haproxy_loses_no_request() {
    let database = TestDatabase::create().await;
    let mut replicas = Replicas::start(&database, 2);
    let token = replicas.hosts[0].sign_up().await;
    let balancer = Arc::new(LoadBalancer::start(&replicas.ports).unwrap());
    balancer.wait_for("r0", "UP").await;
    balancer.wait_for("r1", "UP").await;

    // Load: clients asking for the profile (a token check and a read)
    // through HAProxy, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (stop, sent, failed, failures) =
            (stop.clone(), sent.clone(), failed.clone(), failures.clone());
        let (balancer, token) = (balancer.clone(), token.clone());
        load.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let answer = client
                    .get(balancer.url("/v1/auth/profile"))
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
                let outcome = match answer {
                    Ok(answer) if answer.status() == 200 => continue,
                    Ok(answer) => {
                        let status = answer.status();
                        let body = answer.text().await.unwrap_or_default();
                        format!("{status} {}", body.chars().take(120).collect::<String>())
                    }
                    Err(e) => e.to_string(),
                };
                failed.fetch_add(1, Ordering::Relaxed);
                failures.lock().unwrap().push(outcome);
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut timeline = Vec::new();
    for (i, name) in ["r0", "r1"].into_iter().enumerate() {
        let before = sent.load(Ordering::Relaxed);
        // As an orchestrator rolls: stop one, see the balancer take it
        // out, start it again, see it back in, then the next.
        let exit = tokio::task::block_in_place(|| replicas.stop(i));
        assert!(
            exit.is_some_and(|s| s.success()),
            "{name} exits 0 on SIGTERM: {exit:?}"
        );
        balancer.wait_for(name, "DOWN").await;
        tokio::task::block_in_place(|| replicas.start_again(i));
        balancer.wait_for(name, "UP").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        timeline.push(format!(
            "{name} restarted with {} requests sent meanwhile",
            sent.load(Ordering::Relaxed) - before
        ));
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!(
        "rolling restart: {sent} requests in {:.1} s, {failed} failed; {}",
        started.elapsed().as_secs_f64(),
        timeline.join("; ")
    );
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for failure in failures.lock().unwrap().iter() {
        *kinds.entry(failure.clone()).or_default() += 1;
    }
    assert_eq!(failed, 0, "failed answers, by kind: {kinds:#?}");
    assert!(sent > 100, "the load ran: {sent} requests");
    drop(balancer);
    drop(replicas);
    database.remove().await;
}
