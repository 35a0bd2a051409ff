//! Load from wrk: a Lua script generated per run cycles through the
//! scenario's requests, and its
//! `done` hook (`wrk/report.lua`) hands the figures back as one JSON line.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

const REPORT: &str = include_str!("../wrk/report.lua");
/// Far above any queueing a run causes: a slow answer is measured, not
/// dropped as a timeout.
const TIMEOUT: &str = "60s";

/// One request of a scenario.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

impl Request {
    pub(crate) fn get(path: &str) -> Request {
        Request {
            method: "GET",
            path: path.to_owned(),
            headers: vec![],
            body: None,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }
}

/// What wrk measured: every answer that was not 2xx or 3xx, and every
/// connect, read, write or timeout failure, counts as an error.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Figures {
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    /// Of the errors, the answers that were not 2xx or 3xx.
    pub failed_answers: u64,
}

#[derive(Deserialize)]
struct Raw {
    requests: u64,
    duration_us: u64,
    connect: u64,
    read: u64,
    write: u64,
    status: u64,
    timeout: u64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
}

/// Drives `base` with `requests` over `connections` connections for
/// `duration`, from one wrk thread (the machine's other core is the
/// server's).
pub(crate) fn drive(
    wrk: &Path,
    base: &str,
    requests: &[Request],
    connections: usize,
    duration: Duration,
    scratch: &Path,
) -> anyhow::Result<Figures> {
    anyhow::ensure!(!requests.is_empty(), "a scenario needs requests");
    let script = scratch.join("load.lua");
    std::fs::write(&script, lua_script(requests))?;
    let output = Command::new(wrk)
        .args(["-t", "1", "-c", &connections.to_string()])
        .arg("-d")
        .arg(format!("{}s", duration.as_secs().max(1)))
        .args(["--timeout", TIMEOUT, "-s"])
        .arg(&script)
        .arg(format!("{base}{}", requests[0].path))
        .output()
        .with_context(|| format!("cannot run {}", wrk.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("WRK_FIGURES "))
        .with_context(|| {
            format!(
                "wrk gave no figures ({}):\n{stdout}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let raw: Raw = serde_json::from_str(line)?;
    let seconds = raw.duration_us.max(1) as f64 / 1e6;
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(Figures {
        requests: raw.requests,
        requests_per_sec: raw.requests as f64 / seconds,
        p50_ms: ms(raw.p50_us),
        p99_ms: ms(raw.p99_us),
        max_ms: ms(raw.max_us),
        errors: raw.connect + raw.read + raw.write + raw.status + raw.timeout,
        failed_answers: raw.status,
    })
}

fn lua_script(requests: &[Request]) -> String {
    let mut lua = String::from("local requests = {}\n");
    for request in requests {
        // wrk adds `Host` only to requests it formats after start-up; these
        // are formatted when the script loads, and HTTP/1.1 requires one.
        let mut headers = String::from("[ \"Host\" ] = \"bench.local\", ");
        for (name, value) in &request.headers {
            let _ = write!(headers, "[ {} ] = {}, ", quoted(name), quoted(value));
        }
        let body = request.body.as_deref().map_or("nil".to_owned(), quoted);
        let _ = writeln!(
            lua,
            "requests[#requests + 1] = wrk.format({}, {}, {{ {headers}}}, {body})",
            quoted(request.method),
            quoted(&request.path),
        );
    }
    lua.push_str(
        "local index = 0\n\
         request = function()\n  index = index % #requests + 1\n  return requests[index]\nend\n",
    );
    lua.push_str(REPORT);
    lua
}

/// A Lua long string: no escapes are interpreted inside, and the bench's
/// tokens and JSON bodies never contain its closing bracket.
fn quoted(text: &str) -> String {
    assert!(!text.contains("]==]"), "unquotable for Lua: {text}");
    format!("[==[{text}]==]")
}
