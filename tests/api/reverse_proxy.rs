//! The shipped nginx site (`deploy/nginx/mhmanus.conf`) in Debian's nginx
//! in front of the real binary, as docs/OPERATIONS.md deploys it: TLS and
//! HTTP/2 at nginx, the client's own address reaching the rate limiter, one
//! request id in both logs and the answer, the same body limit on both
//! sides, /metrics kept off the public side, and nginx's own refusals in
//! the host's problem+json shape.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mhmanus_tests::{
    ReverseProxy, TestCa, nginx_site, own_loopback_address, rate_limit_round, spawn_app,
};
use serde_json::Value;

const MAX_BODY_BYTES: usize = 1_048_576;

#[tokio::test]
async fn nginx_in_front_passes_the_client_the_request_id_and_the_limits() {
    let ca = TestCa::new();
    let cert = ca.issue("nginx", &["localhost", "127.0.0.1"]);
    let host = spawn_app(&[("TRUSTED_PROXIES", "127.0.0.1")]);
    let host_port: u16 = host.base_url.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = ReverseProxy::start(host_port, &cert).unwrap();
    let (me, other) = (own_loopback_address(), own_loopback_address());
    let client = ca.client().local_address(me).build().unwrap();

    // TLS and HTTP/2 at nginx; the host, told the protocol by a proxy it
    // trusts, sends HSTS, which it never sends over its own plain HTTP.
    let answer = client.get(nginx.url("/health")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.version(), reqwest::Version::HTTP_2);
    assert!(
        answer.headers().contains_key("strict-transport-security"),
        "{:?}",
        answer.headers()
    );
    let direct = reqwest::get(host.url("/health")).await.unwrap();
    assert!(!direct.headers().contains_key("strict-transport-security"));

    // The limiter sees each client by its own address, whatever a client
    // writes in X-Forwarded-For itself: the original's 10 × 200 then 429s.
    let url = nginx.url("/production-test/rate-limit");
    let spoofed = [("x-forwarded-for", "203.0.113.9")];
    let statuses = rate_limit_round(&client, &url, 12, &spoofed, me).await;
    assert_eq!(statuses[..10], [200; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 2], "{statuses:?}");
    let second = ca.client().local_address(other).build().unwrap();
    let statuses = rate_limit_round(&second, &url, 1, &[], other).await;
    assert_eq!(statuses, [200], "another client has its own limit");

    // A client's request id goes through; without one, nginx's own is the
    // one the host logs and answers with.
    let id = format!("through-nginx-{}", uuid::Uuid::new_v4().simple());
    let answer = client
        .get(nginx.url("/health/live"))
        .header("x-request-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], id.as_str());
    let answer = client.get(nginx.url("/health/ready")).send().await.unwrap();
    let minted = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    // nginx logs a request once its answer is sent: maybe a moment after
    // the client has it.
    let logged = |id: &str| {
        nginx
            .access_lines()
            .into_iter()
            .find(|line| line["request_id"] == id)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while logged(&minted).is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let nginx_ids: Vec<String> = nginx
        .access_lines()
        .iter()
        .map(|line| line["request_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(nginx_ids.contains(&id), "{nginx_ids:?}");
    assert!(
        nginx_ids.contains(&minted) && minted.len() == 32,
        "nginx's id ({minted}) answered: {nginx_ids:?}"
    );
    for id in [&id, &minted] {
        // The host's access line too is written once the answer is sent.
        let deadline = Instant::now() + Duration::from_secs(5);
        let in_host_log = || host.log().iter().any(|line| line.contains(id.as_str()));
        while !in_host_log() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(in_host_log(), "the host logged {id}");
    }
    let host_line = host
        .log()
        .into_iter()
        .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
        .find(|line| line["span"]["request_id"] == minted.as_str())
        .unwrap();
    assert_eq!(host_line["span"]["client"], me.to_string(), "{host_line}");
    let line = logged(&minted).unwrap();
    assert_eq!(line["client"], me.to_string());
    assert!(
        line["status"].is_u64() && line["request_time_s"].is_number(),
        "{line}"
    );

    // One body limit: one byte over is refused by nginx before it travels
    // (no answer of the host's, which would carry its request id), as the
    // host itself refuses it; at the limit it reaches the host (whose auth
    // routes then take 16 KiB at most).
    let register = |size: usize, url: String| {
        client
            .post(url)
            .header("content-type", "application/json")
            .body(vec![b' '; size])
            .send()
    };
    let over = register(MAX_BODY_BYTES + 1, nginx.url("/v1/auth/register"))
        .await
        .unwrap();
    assert_eq!(over.status(), 413);
    assert!(!over.headers().contains_key("x-request-id"), "nginx's own");
    assert_eq!(over.headers()["content-type"], "application/problem+json");
    let problem: Value = over.json().await.unwrap();
    assert_eq!(problem["status"], 413, "{problem}");
    let direct = register(MAX_BODY_BYTES + 1, host.url("/v1/auth/register"))
        .await
        .unwrap();
    assert_eq!(direct.status(), 413, "the host refuses the same body");
    let at_limit = register(MAX_BODY_BYTES, nginx.url("/v1/auth/register"))
        .await
        .unwrap();
    assert!(
        at_limit.headers().contains_key("x-request-id"),
        "the host's"
    );
    assert_eq!(
        at_limit.headers()["content-type"],
        "application/problem+json"
    );

    // What nginx itself cannot take is refused in the same shape: a URI
    // over its buffers, plain HTTP to the TLS port.
    let long = format!("/{}", "a".repeat(9000));
    let http1 = ca.client().http1_only().build().unwrap();
    let answer = http1.get(nginx.url(&long)).send().await.unwrap();
    assert_eq!(answer.status(), 414);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    let plain_to_tls = nginx.https_url.replace("https://", "http://");
    let answer = reqwest::get(format!("{plain_to_tls}/health"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let problem: Value = answer.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("https://"),
        "{problem}"
    );

    // /metrics only on the private side.
    let answer = client.get(nginx.url("/metrics")).send().await.unwrap();
    assert_eq!(answer.status(), 404);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    assert_eq!(
        reqwest::get(host.url("/metrics")).await.unwrap().status(),
        200
    );

    // Plain HTTP is sent to HTTPS, method and body kept.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = plain
        .post(format!("{}/v1/auth/login?next=1", nginx.http_url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 308);
    assert_eq!(
        answer.headers()["location"],
        "https://127.0.0.1/v1/auth/login?next=1"
    );

    // The host gone: nginx says so in the same shape, with when to retry.
    drop(host);
    let answer = client.get(nginx.url("/health")).send().await.unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    assert!(answer.headers().contains_key("retry-after"));
}

/// The site's limits and timeouts against the host's defaults
/// (.env.example, itself checked against the host's flags).
#[test]
fn the_sites_limits_and_timeouts_agree_with_the_hosts() {
    let site = nginx_site();
    let directive = |name: &str| -> u64 {
        let value = site
            .lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("the site has no {name}"))
            .trim_end_matches(';');
        let (number, unit) = value.split_at(value.find(|c: char| !c.is_ascii_digit()).unwrap());
        let number: u64 = number.parse().unwrap();
        number
            * match unit {
                "m" => 1 << 20,
                "s" | "" => 1,
                other => panic!("{name}: unit {other:?}"),
            }
    };
    let example =
        std::fs::read_to_string(mhmanus_tests::workspace_root().join(".env.example")).unwrap();
    let defaults: HashMap<&str, u64> = example
        .lines()
        .filter_map(|line| line.strip_prefix("# ")?.split_once('='))
        .filter_map(|(name, value)| Some((name, value.split_whitespace().next()?.parse().ok()?)))
        .collect();
    assert_eq!(
        directive("client_max_body_size"),
        defaults["MAX_BODY_BYTES"]
    );
    assert!(
        directive("client_body_timeout") <= defaults["BODY_READ_TIMEOUT_SECS"],
        "a trickling client is cut off no later than the host would"
    );
    assert!(
        directive("proxy_read_timeout") > defaults["REQUEST_TIMEOUT_SECS"],
        "the host answers a slow request before nginx gives up on it"
    );
    assert!(
        directive("keepalive_timeout") < defaults["CONNECTION_IDLE_TIMEOUT_SECS"],
        "nginx closes an idle upstream connection before the host does"
    );
    assert_eq!(MAX_BODY_BYTES as u64, defaults["MAX_BODY_BYTES"]);
}
