//! `GET all-features`: every feature checked for real, one entry each, with
//! the evidence. A feature this runtime does not provide (the native
//! host's edge layers, under plain Spin) is `unavailable`, not `fail`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use mhmanus_domain::auth::jwt::{Grant, JwtSettings};
use mhmanus_domain::auth::password::{self, Verdict};
use mhmanus_guest::auth_guard::Caller;
use mhmanus_guest::db::{Db, StoreError};
use serde_json::{Value, json};
use spin_sdk::{key_value, redis};

use crate::edge::EdgeInFront;
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pass,
    Fail,
    Unavailable,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unavailable => "unavailable",
        }
    }
}

pub(crate) struct Feature {
    name: &'static str,
    status: Status,
    evidence: Value,
    latency_ms: Option<f64>,
}

impl Feature {
    fn to_json(&self) -> Value {
        let mut entry = json!({
            "feature": self.name,
            "status": self.status.as_str(),
            "evidence": self.evidence,
        });
        if let Some(ms) = self.latency_ms {
            entry["latencyMs"] = json!(ms);
        }
        entry
    }
}

/// Runs every check; the bearer door has already let `caller` in.
pub(crate) async fn run(
    settings: &Settings,
    edge: &EdgeInFront,
    jwt: &JwtSettings,
    caller: &Caller,
) -> (u16, Value) {
    let features = [
        authentication(caller),
        timed("database", database(settings)).await,
        timed("key-value", key_value_round_trip()).await,
        redis_check(settings).await,
        timed("jwt", async { jwt_round_trip(jwt, caller) }).await,
        timed("password-hashing", async { hashing() }).await,
        edge_layer(
            settings,
            edge,
            "compression",
            "responses are compressed by Accept-Encoding",
        ),
        edge_layer(
            settings,
            edge,
            "security-headers",
            "helmet-default security headers on every answer",
        ),
        edge_layer(
            settings,
            edge,
            "rate-limit",
            "requests are limited per client and route",
        ),
    ];
    let failed = features.iter().any(|f| f.status == Status::Fail);
    let count = |status: Status| features.iter().filter(|f| f.status == status).count();
    let body = json!({
        "status": if failed { "fail" } else { "pass" },
        "runtime": settings.host_runtime,
        "summary": {
            "pass": count(Status::Pass),
            "fail": count(Status::Fail),
            "unavailable": count(Status::Unavailable),
        },
        "features": features.iter().map(Feature::to_json).collect::<Vec<_>>(),
    });
    (if failed { 503 } else { 200 }, body)
}

fn authentication(caller: &Caller) -> Feature {
    Feature {
        name: "authentication",
        status: Status::Pass,
        evidence: json!({ "subject": caller.id(), "roles": caller.roles() }),
        latency_ms: None,
    }
}

/// Times a check that yields its status and evidence.
async fn timed(name: &'static str, check: impl Future<Output = Result<Value, String>>) -> Feature {
    let started = Instant::now();
    let outcome = check.await;
    let latency_ms = Some((started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0);
    match outcome {
        Ok(evidence) => Feature {
            name,
            status: Status::Pass,
            evidence,
            latency_ms,
        },
        Err(why) => Feature {
            name,
            status: Status::Fail,
            evidence: json!({ "error": why }),
            latency_ms,
        },
    }
}

/// A probe row written, read back and deleted, in a temporary table inside
/// one transaction that is rolled back: nothing is left behind, and every
/// statement runs in the same session, even behind a transaction pooler.
async fn database(settings: &Settings) -> Result<Value, String> {
    let backend = settings.database_backend();
    let step = |name: &'static str| {
        move |e: StoreError| {
            // The detail may name hosts and users: the log only.
            eprintln!("production-test: database {name}: {e}");
            format!("{backend}: the {name} step failed (details in the log)")
        }
    };
    let db = Db::open(&settings.database_url)
        .await
        .map_err(step("connect"))?;
    db.execute("BEGIN", &[]).await.map_err(step("begin"))?;
    let outcome = probe_row(&db).await;
    let rolled_back = db.execute("ROLLBACK", &[]).await;
    let read = outcome.map_err(|(name, e)| step(name)(e))?;
    rolled_back.map_err(step("rollback"))?;
    if !read {
        return Err(format!(
            "{backend}: the row read back differs from the one written"
        ));
    }
    Ok(json!({ "backend": backend, "roundTrip": "write, read, delete (rolled back)" }))
}

/// Whether the row written is the row read; an error names its step.
async fn probe_row(db: &Db) -> Result<bool, (&'static str, StoreError)> {
    db.execute(
        "CREATE TEMP TABLE production_test_probe (id TEXT PRIMARY KEY, value TEXT NOT NULL)",
        &[],
    )
    .await
    .map_err(|e| ("create", e))?;
    let id = probe_id();
    let written = format!("written at {id}");
    db.execute(
        "INSERT INTO production_test_probe (id, value) VALUES ($1, $2)",
        &[id.as_str().into(), written.as_str().into()],
    )
    .await
    .map_err(|e| ("write", e))?;
    let read = db
        .query_opt(
            "SELECT value FROM production_test_probe WHERE id = $1",
            &[id.as_str().into()],
        )
        .await
        .map_err(|e| ("read", e))?
        .map(|row| row.text(0))
        .transpose()
        .map_err(|e| ("read", e))?;
    db.execute(
        "DELETE FROM production_test_probe WHERE id = $1",
        &[id.as_str().into()],
    )
    .await
    .map_err(|e| ("delete", e))?;
    Ok(read.as_deref() == Some(written.as_str()))
}

/// A key-value or Redis failure: the detail to the log, the step to the client.
fn logged(what: &'static str, step: &'static str) -> impl Fn(String) -> String {
    move |detail| {
        eprintln!("production-test: {what} {step}: {detail}");
        format!("{what}: the {step} step failed (details in the log)")
    }
}

async fn key_value_round_trip() -> Result<Value, String> {
    let fail = |step| logged("key-value", step);
    let store = key_value::Store::open_default()
        .await
        .map_err(|e| fail("open")(format!("{e:?}")))?;
    let key = format!("production-test:{}", probe_id());
    let written = b"probe".to_vec();
    store
        .set(&key, &written)
        .await
        .map_err(|e| fail("set")(format!("{e:?}")))?;
    let read = store
        .get(&key)
        .await
        .map_err(|e| fail("get")(format!("{e:?}")))?;
    store
        .delete(&key)
        .await
        .map_err(|e| fail("delete")(format!("{e:?}")))?;
    if read.as_deref() != Some(written.as_slice()) {
        return Err("key-value: the value read back differs from the one written".to_owned());
    }
    Ok(json!({ "store": "default", "roundTrip": "set, get, delete" }))
}

async fn redis_check(settings: &Settings) -> Feature {
    if settings.redis_url.is_empty() {
        return Feature {
            name: "redis",
            status: Status::Unavailable,
            evidence: json!({ "reason": "redis_url is not configured" }),
            latency_ms: None,
        };
    }
    timed("redis", async {
        let fail = |step| logged("redis", step);
        let conn = redis::Connection::open(&settings.redis_url)
            .await
            .map_err(|e| fail("connect")(format!("{e:?}")))?;
        let key = format!("production-test:{}", probe_id());
        conn.set(&key, b"probe")
            .await
            .map_err(|e| fail("SET")(format!("{e:?}")))?;
        let read = conn
            .get(&key)
            .await
            .map_err(|e| fail("GET")(format!("{e:?}")))?;
        conn.del(&[key.as_str()])
            .await
            .map_err(|e| fail("DEL")(format!("{e:?}")))?;
        if read.as_deref() != Some(b"probe".as_slice()) {
            return Err("redis: the value read back differs from the one written".to_owned());
        }
        Ok(json!({ "roundTrip": "SET, GET, DEL" }))
    })
    .await
}

fn jwt_round_trip(jwt: &JwtSettings, caller: &Caller) -> Result<Value, String> {
    let claims = &caller.claims;
    let grant = Grant {
        sub: &claims.sub,
        email: &claims.email,
        roles: caller.roles(),
        sid: &claims.sid,
        generation: claims.generation,
    };
    let (token, issued) = jwt.issue(grant, now_secs());
    let verified = jwt.verify(&token).map_err(|e| format!("verify: {e}"))?;
    if verified != issued {
        return Err("the verified claims differ from the issued ones".to_owned());
    }
    Ok(json!({ "algorithm": "HS256", "issuer": jwt.issuer, "roundTrip": "issue, verify" }))
}

fn hashing() -> Result<Value, String> {
    let probe = "production-test probe passphrase";
    let hash = password::hash(probe);
    match (
        password::verify(probe, &hash),
        password::verify("another passphrase", &hash),
    ) {
        (Verdict::Match { .. }, Verdict::Mismatch) => Ok(json!({
            "algorithm": "argon2id",
            "memoryKib": password::ARGON2_M_KIB,
            "iterations": password::ARGON2_T,
            "parallelism": password::ARGON2_P,
            "roundTrip": "hash, verify right and wrong",
        })),
        outcome => Err(format!("unexpected verdicts {outcome:?}")),
    }
}

/// An edge layer passes when the host or the edge middleware is in front
/// of us with it (`EdgeInFront`); it is unavailable when no layers are
/// (plain Spin: the platform in front may provide it) or the configuration
/// turned it off.
fn edge_layer(settings: &Settings, edge: &EdgeInFront, layer: &'static str, what: &str) -> Feature {
    let (status, evidence) = if edge.has(layer) {
        (
            Status::Pass,
            json!({ "providedBy": edge.provided_by, "what": what }),
        )
    } else if edge.layers.is_empty() {
        let reason = format!(
            "{} provides no edge layers; the platform in front may",
            settings.host_runtime
        );
        (Status::Unavailable, json!({ "reason": reason }))
    } else {
        let reason = format!("{} runs with {layer} turned off", edge.provided_by);
        (Status::Unavailable, json!({ "reason": reason }))
    };
    Feature {
        name: layer,
        status,
        evidence,
        latency_ms: None,
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Unique enough for a probe key that lives for one request: the time in
/// nanoseconds and a per-instance counter.
fn probe_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
