//! Exercises one Spin interface per route and answers with JSON of what it
//! saw, so the host's implementation is tested through the real WIT calls.
//! The address or name to use comes in the query string (`?arg=...`).

use futures::SinkExt as _;
use serde_json::{Value as Json, json};
use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::wasip3::clocks::monotonic_clock::wait_for;
use spin_sdk::{http_service, key_value, pg, redis, sqlite, variables};

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let arg = req
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("arg="))
        .map(percent_decode)
        .unwrap_or_default();
    // Under any route prefix, for tests that need a route of their own.
    if req.uri().path().ends_with("/stream") {
        return stream_slowly(arg.parse().unwrap_or(0)).into_response();
    }
    let headers: serde_json::Map<String, Json> = req
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("spin-"))
        .map(|(name, value)| (name.to_string(), json!(value.to_str().unwrap_or_default())))
        .collect();
    let result = match req.uri().path() {
        "/probe/headers" => json!(headers),
        // One request header by name, whatever its prefix.
        "/probe/header" => json!({ "values": req
            .headers()
            .get_all(arg.as_str())
            .iter()
            .map(|value| value.to_str().unwrap_or_default())
            .collect::<Vec<_>>() }),
        "/probe/variable" => match variables::get(&arg).await {
            Ok(value) => json!({ "ok": value }),
            Err(e) => json!({ "error": format!("{e:?}") }),
        },
        "/probe/sqlite" => sqlite_roundtrip(&arg).await,
        "/probe/sqlite-exec" => sqlite_exec(&arg).await,
        "/probe/kv" => kv_roundtrip(&arg).await,
        "/probe/pg" => pg_roundtrip(&arg).await,
        "/probe/redis" => redis_roundtrip(&arg).await,
        "/probe/http" => outbound_http(&arg).await,
        "/probe/sleep" => {
            // An async wait: the instance keeps serving other requests meanwhile.
            let ms: u64 = arg.parse().unwrap_or(0);
            wait_for(ms * 1_000_000).await;
            json!({ "slept_ms": ms })
        }
        other => json!({ "error": format!("no probe {other}") }),
    };
    http::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(result.to_string())
        .unwrap()
        .into_response()
}

/// The head at once, then five events over `ms` milliseconds: a body that
/// is still being sent long after its head (an event stream, which the
/// host's compression passes through as it comes).
fn stream_slowly(
    ms: u64,
) -> http::Response<impl http_body::Body<Data = bytes::Bytes, Error = anyhow::Error>> {
    let (mut lines, body) = spin_sdk::http::body::stream::<String>();
    spin_sdk::wasip3::spawn(async move {
        for line in 0..5 {
            wait_for(ms * 1_000_000 / 5).await;
            if lines.send(format!("data: line {line}\n\n")).await.is_err() {
                break;
            }
        }
    });
    http::Response::builder()
        .header("content-type", "text/event-stream")
        .body(body)
        .unwrap()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn sqlite_roundtrip(label: &str) -> Json {
    let db = match sqlite::Connection::open(label).await {
        Ok(db) => db,
        Err(e) => return json!({ "error": format!("{e:?}") }),
    };
    let mut steps = Vec::new();
    for (sql, params) in [
        (
            "CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)",
            vec![],
        ),
        ("DELETE FROM probe", vec![]),
        (
            "INSERT INTO probe (name, score, data) VALUES (?, ?, ?), (?, ?, ?)",
            vec![
                sqlite::Value::Text("one".into()),
                sqlite::Value::Real(1.5),
                sqlite::Value::Blob(vec![1, 2]),
                sqlite::Value::Text("two".into()),
                sqlite::Value::Null,
                sqlite::Value::Null,
            ],
        ),
    ] {
        match db.execute(sql, params).await {
            Ok(result) => steps.push(json!(result.result().await.is_ok())),
            Err(e) => return json!({ "error": format!("{e:?}") }),
        }
    }
    let changes = db.changes().await;
    let last_id = db.last_insert_rowid().await;
    let mut rows = Vec::new();
    let mut result = match db
        .execute("SELECT name, score, data FROM probe ORDER BY id", [])
        .await
    {
        Ok(result) => result,
        Err(e) => return json!({ "error": format!("{e:?}") }),
    };
    let columns = result.columns().to_vec();
    while let Some(row) = result.next().await {
        rows.push(json!(
            row.values
                .iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
        ));
    }
    let finished = result.result().await.is_ok();
    json!({ "steps": steps, "changes": changes, "last_insert_rowid": last_id, "columns": columns, "rows": rows, "finished": finished })
}

/// Runs `;`-separated statements on one connection, in order, and leaves
/// it as they left it (a transaction they open stays open); the first
/// error, or ok.
async fn sqlite_exec(script: &str) -> Json {
    let db = match sqlite::Connection::open_default().await {
        Ok(db) => db,
        Err(e) => return json!({ "error": format!("{e:?}") }),
    };
    for sql in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let outcome = match db.execute(sql, []).await {
            Ok(result) => result.result().await,
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            return json!({ "error": format!("{e:?}") });
        }
    }
    json!({ "ok": true })
}

async fn kv_roundtrip(label: &str) -> Json {
    let store = match key_value::Store::open(label).await {
        Ok(store) => store,
        Err(e) => return json!({ "error": format!("{e:?}") }),
    };
    let set =
        store.set("probe-a", b"alpha").await.is_ok() && store.set("probe-b", b"beta").await.is_ok();
    let got = store
        .get("probe-a")
        .await
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned());
    let missing = store.get("probe-none").await.ok().flatten().is_none();
    let exists = store.exists("probe-b").await.unwrap_or(false);
    let mut keys = store.get_keys().await.collect().await.unwrap_or_default();
    keys.sort();
    let deleted =
        store.delete("probe-a").await.is_ok() && !store.exists("probe-a").await.unwrap_or(true);
    let _ = store.delete("probe-b").await;
    json!({ "set": set, "got": got, "missing": missing, "exists": exists, "keys": keys, "deleted": deleted })
}

async fn pg_roundtrip(url: &str) -> Json {
    let db = match pg::Connection::open(url).await {
        Ok(db) => db,
        Err(e) => return json!({ "error": format!("{e}") }),
    };
    let sql =
        "SELECT $1::int4 AS n, $2::text AS t, true AS b, 2.5::float8 AS f, NULL::text AS nothing";
    let params = vec![
        pg::ParameterValue::Int32(41),
        pg::ParameterValue::Str("hé".into()),
    ];
    let rows = match db.query(sql, params).await {
        Ok(result) => {
            let columns: Vec<String> = result.columns().iter().map(|c| c.name.clone()).collect();
            match result.collect().await {
                Ok(rows) => json!({
                    "columns": columns,
                    "n": rows[0].get::<i32>("n"),
                    "t": rows[0].get::<String>("t"),
                    "b": rows[0].get::<bool>("b"),
                    "f": rows[0].get::<f64>("f"),
                    "nothing": rows[0].get::<String>("nothing"),
                }),
                Err(e) => json!({ "error": format!("{e}") }),
            }
        }
        Err(e) => json!({ "error": format!("{e}") }),
    };
    let bad = match db.query("SELECT * FROM no_such_table_probe", vec![]).await {
        Ok(result) => result.collect().await.err().map(|e| format!("{e}")),
        Err(e) => Some(format!("{e}")),
    };
    json!({ "rows": rows, "bad_query": bad })
}

async fn redis_roundtrip(url: &str) -> Json {
    let conn = match redis::Connection::open(url).await {
        Ok(conn) => conn,
        Err(e) => return json!({ "error": format!("{e:?}") }),
    };
    let key = "spin-probe:counter";
    let _ = conn.del(&[key]).await;
    let set = conn.set("spin-probe:k", b"v").await.is_ok();
    let got = conn
        .get("spin-probe:k")
        .await
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned());
    let incr = (conn.incr(key).await.ok(), conn.incr(key).await.ok());
    let type_error = format!("{:?}", conn.incr("spin-probe:k").await.err());
    let ping = format!("{:?}", conn.execute("PING", []).await);
    let deleted = conn.del(&[key, "spin-probe:k"]).await.ok();
    json!({ "set": set, "got": got, "incr": [incr.0, incr.1], "type_error": type_error, "ping": ping, "deleted": deleted })
}

async fn outbound_http(url: &str) -> Json {
    let request = match http::Request::get(url).body(spin_sdk::http::EmptyBody::new()) {
        Ok(request) => request,
        Err(e) => return json!({ "error": format!("{e}") }),
    };
    match spin_sdk::http::send(request).await {
        Ok(response) => json!({ "status": response.status().as_u16() }),
        Err(e) => json!({ "error": format!("{e:?}") }),
    }
}
