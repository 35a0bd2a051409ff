//! Issue 36's T4 attack: many accounts' tokens guess their current
//! password on `PATCH /v1/auth/profile` as fast as they can, while another
//! client logs in. The victim's login latency, quiet and under the attack,
//! with the password-work budget off (route limits as before it, no cap)
//! and at its defaults, the attack from one address (the per-address
//! limit's case) and from a new address each request (the global cap's),
//! in one run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::login_timing::{median, ms, percentile};
use crate::prepare::Tools;
use crate::server::{App, Kind, Server};

const PASSWORD: &str = "correct horse battery staple";
const ATTACKER: &str = "203.0.113.66";
const CONNECTIONS: usize = 16;

/// The budget off: the route limits as before it, no cap.
const OFF: &[(&str, &str)] = &[
    (
        "RATE_LIMIT_ROUTES",
        "/v1/auth/login=5/60s,/v1/auth/register=5/60s",
    ),
    ("MAX_PASSWORD_CHECKS", "100000"),
];

/// The budget at its defaults (the bench turns the route limits and the
/// cap off for its other figures: put them back).
const ON: &[(&str, &str)] = &[
    (
        "RATE_LIMIT_ROUTES",
        "/v1/auth/login=5/60s,/v1/auth/register=5/60s,PATCH /v1/auth/profile=5/60s",
    ),
    ("MAX_PASSWORD_CHECKS", "0"),
];

/// One configuration compared.
struct Setup {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// The attack comes from a new address each request.
    spread: bool,
}

const SETUPS: [Setup; 4] = [
    Setup {
        name: "budget off, attack from one address",
        env: OFF,
        spread: false,
    },
    Setup {
        name: "budget on, attack from one address",
        env: ON,
        spread: false,
    },
    Setup {
        name: "budget off, attack from a new address each request",
        env: OFF,
        spread: true,
    },
    Setup {
        name: "budget on, attack from a new address each request",
        env: ON,
        spread: true,
    },
];

pub(crate) async fn run(logins: usize, accounts: usize) -> anyhow::Result<()> {
    let tools = Tools::find()?;
    println!(
        "victim logins ({logins} each, one at a time) while {CONNECTIONS} connections send \
         wrong-password changes with {accounts} accounts' tokens:"
    );
    for Setup {
        name,
        env: setup,
        spread,
    } in SETUPS
    {
        let scratch = tempfile::tempdir()?;
        let mut env = vec![("RATE_LIMIT", "10/60s"), ("TRUSTED_PROXIES", "127.0.0.1")];
        env.extend_from_slice(setup);
        let server =
            Server::start_with(Kind::Host, App::Edge, &tools, scratch.path(), &env).await?;
        let site = Site {
            client: reqwest::Client::new(),
            base: server.url(""),
        };
        let outcome = measure(&site, logins, accounts, spread).await;
        server.stop().await?;
        let (quiet, attacked, refused, attack) = outcome?;
        report(name, &quiet, &attacked, refused, &attack);
    }
    Ok(())
}

struct Site {
    client: reqwest::Client,
    base: String,
}

impl Site {
    /// `method path` with `body`, as if from `address` behind the trusted proxy.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        address: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-forwarded-for", address)
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = request.send().await?;
        let status = reply.status().as_u16();
        Ok((status, reply.json().await.unwrap_or(Value::Null)))
    }

    /// A login from `address`: its status and time.
    async fn login(&self, email: &str, address: &str) -> anyhow::Result<(u16, Duration)> {
        let started = Instant::now();
        let body = json!({"email": email, "password": PASSWORD});
        let (status, _) = self
            .call(
                reqwest::Method::POST,
                "/v1/auth/login",
                address,
                None,
                &body,
            )
            .await?;
        Ok((status, started.elapsed()))
    }
}

type Measured = (Vec<Duration>, Vec<Duration>, usize, Vec<u16>);

async fn measure(
    site: &Site,
    logins: usize,
    accounts: usize,
    spread: bool,
) -> anyhow::Result<Measured> {
    // Accounts registered and logged in each from its own address, so the
    // set-up stays under the per-address limits it measures.
    let mut tokens = Vec::new();
    for i in 0..=accounts {
        let email = format!("user{i}@attack.example");
        let address = format!("10.9.{}.{}", i / 250, i % 250 + 1);
        let account = json!({"email": email, "password": PASSWORD, "name": "A"});
        let (status, body) = site
            .call(
                reqwest::Method::POST,
                "/v1/auth/register",
                &address,
                None,
                &account,
            )
            .await?;
        anyhow::ensure!(status == 201, "registration got {status}: {body}");
        let login = json!({"email": email, "password": PASSWORD});
        let (status, body) = site
            .call(
                reqwest::Method::POST,
                "/v1/auth/login",
                &address,
                None,
                &login,
            )
            .await?;
        anyhow::ensure!(status == 200, "login got {status}: {body}");
        tokens.push(body["access_token"].as_str().unwrap_or_default().to_owned());
    }
    let victim = "user0@attack.example";
    let tokens: Arc<Vec<String>> = Arc::new(tokens.split_off(1));
    let victim_logins = |round: usize| async move {
        let mut times = Vec::new();
        let mut refused = 0;
        for i in 0..logins {
            let address = format!("198.51.{round}.{}", i % 250 + 1);
            let (status, took) = site.login(victim, &address).await?;
            match status {
                200 => times.push(took),
                503 => refused += 1,
                other => anyhow::bail!("the victim's login got {other}"),
            }
        }
        Ok::<_, anyhow::Error>((times, refused))
    };
    let (quiet, _) = victim_logins(100).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let attackers: Vec<_> = (0..CONNECTIONS)
        .map(|connection| {
            let (tokens, stop) = (tokens.clone(), stop.clone());
            let (client, url) = (
                site.client.clone(),
                format!("{}/v1/auth/profile", site.base),
            );
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut turn = connection;
                while !stop.load(Ordering::Relaxed) {
                    let token = &tokens[turn % tokens.len()];
                    turn += CONNECTIONS;
                    let guess = json!({
                        "currentPassword": format!("guess number {turn}"),
                        "newPassword": "a brand new passphrase"
                    });
                    let address = if spread {
                        format!("100.64.{}.{}", turn / 250 % 250, turn % 250 + 1)
                    } else {
                        ATTACKER.to_owned()
                    };
                    let reply = client
                        .patch(&url)
                        .header("x-forwarded-for", address)
                        .bearer_auth(token)
                        .json(&guess)
                        .send()
                        .await;
                    statuses.push(reply.map_or(0, |reply| reply.status().as_u16()));
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let attacked = victim_logins(101).await;
    stop.store(true, Ordering::Relaxed);
    let mut attack = Vec::new();
    for attacker in attackers {
        attack.extend(attacker.await?);
    }
    let (attacked, refused) = attacked?;
    Ok((quiet, attacked, refused, attack))
}

fn report(name: &str, quiet: &[Duration], attacked: &[Duration], refused: usize, attack: &[u16]) {
    let stats = |times: &[Duration]| {
        let mut times: Vec<f64> = times.iter().copied().map(ms).collect();
        let p50 = median(&mut times);
        (p50, percentile(&times, 90))
    };
    let (quiet_p50, quiet_p90) = stats(quiet);
    let (attacked_p50, attacked_p90) = if attacked.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        stats(attacked)
    };
    let mut counts = std::collections::BTreeMap::new();
    for status in attack {
        *counts.entry(*status).or_insert(0) += 1;
    }
    println!("  {name}:");
    println!("    quiet          login p50 {quiet_p50:>8.1} ms   p90 {quiet_p90:>8.1} ms");
    println!(
        "    under attack   login p50 {attacked_p50:>8.1} ms   p90 {attacked_p90:>8.1} ms   \
         ({:.2}x quiet; {refused} of the logins refused with 503)",
        attacked_p50 / quiet_p50
    );
    println!("    the attack's answers: {counts:?}");
}
