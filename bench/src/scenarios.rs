//! What a run asks of each server, and how one answer is checked before
//! the load starts (a fast wrong answer would be no figure at all).

use serde::Serialize;
use serde_json::json;

use crate::accounts::{self, Accounts};
use crate::load::Request;

/// Accounts requests are spread over in the large-table runs.
const DISTINCT_ACCOUNTS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scenario {
    /// A component route that does almost nothing: the runtime's own cost.
    Trivial,
    /// JWT verification and one account read.
    Profile,
    /// One argon2id verification, the refresh token's writes, JWT signing.
    Login,
    /// The database check and the host's memory and disk checks.
    Health,
    /// About 100 KB of JSON, gzip-compressed on the way out.
    Compression,
    /// The hello component (`App::Hello`), which imports WASI alone:
    /// the runtime's cost with no Spin interface in the way.
    Hello,
}

impl Scenario {
    /// The scenarios of the edge app (`App::Edge`).
    pub(crate) const ALL: [Scenario; 5] = [
        Scenario::Trivial,
        Scenario::Profile,
        Scenario::Login,
        Scenario::Health,
        Scenario::Compression,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Trivial => "trivial",
            Scenario::Profile => "profile",
            Scenario::Login => "login",
            Scenario::Health => "health",
            Scenario::Compression => "compression",
            Scenario::Hello => "hello",
        }
    }

    /// Whether the run is repeated with a large accounts table.
    pub(crate) fn reads_accounts(self) -> bool {
        matches!(self, Scenario::Profile | Scenario::Login)
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Scenario::Trivial => "/v1/production-test/rate-limit",
            Scenario::Profile => "/v1/auth/profile",
            Scenario::Login => "/v1/auth/login",
            Scenario::Health => "/health",
            Scenario::Compression => "/v1/production-test/compression",
            // Versioned already: the host would rewrite `/hello` to it.
            Scenario::Hello => "/v1/hello",
        }
    }

    /// The requests to cycle through, over the first `users` accounts.
    pub(crate) fn requests(self, accounts: &Accounts, users: usize) -> Vec<Request> {
        let path = self.path();
        let picks = accounts::picks(DISTINCT_ACCOUNTS, users);
        match self {
            Scenario::Trivial | Scenario::Health | Scenario::Hello => vec![Request::get(path)],
            Scenario::Compression => vec![Request::get(path).header("Accept-Encoding", "gzip")],
            Scenario::Profile => picks
                .into_iter()
                .map(|i| {
                    Request::get(path)
                        .header("Authorization", format!("Bearer {}", accounts.token(i)))
                })
                .collect(),
            Scenario::Login => picks
                .into_iter()
                .map(|i| Request {
                    method: "POST",
                    path: path.to_owned(),
                    headers: vec![("Content-Type", "application/json".into())],
                    body: Some(
                        json!({"email": accounts::email(i), "password": accounts::PASSWORD})
                            .to_string(),
                    ),
                })
                .collect(),
        }
    }

    /// Sends `request` once and checks the answer is the real one.
    pub(crate) async fn check(
        self,
        client: &reqwest::Client,
        base: &str,
        request: &Request,
    ) -> anyhow::Result<()> {
        let url = format!("{base}{}", request.path);
        let mut builder = match request.method {
            "POST" => client.post(&url),
            _ => client.get(&url),
        };
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await?;
        let status = response.status();
        let encoding = response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.bytes().await?;
        anyhow::ensure!(
            status == 200,
            "{} answered {status}: {}",
            self.name(),
            String::from_utf8_lossy(&body)
        );
        let expected = match self {
            Scenario::Compression => return check_gzip(&encoding, &body),
            Scenario::Trivial => "clientAddr",
            Scenario::Profile => "createdAt",
            Scenario::Login => "access_token",
            Scenario::Health => "database:responseTime",
            Scenario::Hello => "p2 path=/v1/hello",
        };
        anyhow::ensure!(
            String::from_utf8_lossy(&body).contains(expected),
            "{} answered without {expected}: {}",
            self.name(),
            String::from_utf8_lossy(&body)
        );
        Ok(())
    }
}

fn check_gzip(encoding: &str, body: &[u8]) -> anyhow::Result<()> {
    anyhow::ensure!(
        encoding == "gzip",
        "compression answered with content-encoding {encoding:?}"
    );
    // The payload is about 100 KB of JSON; gzip makes it a few KB.
    anyhow::ensure!(
        body.len() < 20_000,
        "a gzip body of {} bytes is not compressed",
        body.len()
    );
    Ok(())
}
