//! The rate limiter through the real router: quotas, its headers and 429s,
//! who counts as a client (token subject, address, trusted proxies), and
//! Redis shared by two hosts, then gone.

use mhmanus_domain::auth::role::Role;
use mhmanus_edge_layers::rate_limit::RouteLimit;
use mhmanus_tests::{CuttableProxy, REDIS_URL, TestComponent, access_token};

use super::*;

const SECRET: &str = "rate-limit-tests-secret-of-32-bytes!";

/// The probe, given the JWT settings the limiter verifies tokens with.
fn probe_with_secret() -> TestManifest {
    TestManifest::new("limits").secret("jwt_secret").component(
        TestComponent::new("/probe/...", "probe", "spin-probe")
            .variable("jwt_secret", "{{ jwt_secret }}"),
    )
}

async fn limited(quota: &str, edge: impl FnOnce(&mut EdgeConfig)) -> Edge {
    let quota = quota.parse().unwrap();
    Edge::start(
        &probe_with_secret(),
        |host| host.jwt_secret = Some(SECRET.into()),
        |config| {
            config.rate_limit = quota;
            edge(config);
        },
    )
    .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A peer address no other test (or earlier run, for Redis) uses.
fn fresh_peer() -> String {
    let id = uuid::Uuid::new_v4().as_u128();
    format!(
        "10.{}.{}.{}:5000",
        (id >> 16) as u8,
        (id >> 8) as u8,
        id as u8
    )
}

#[tokio::test]
async fn the_eleventh_request_in_a_window_is_a_429_problem() {
    let app = limited("10/60s", |_| {}).await;
    for remaining in (0..10).rev() {
        let answer = app.get("/probe/headers", &[]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header("ratelimit-policy"),
            Some("\"default\";q=10;w=60")
        );
        // Full again 6 s after each admission (less what the test took).
        let full_in = (10 - remaining) * 6;
        let ratelimit = answer.header("ratelimit").unwrap();
        assert!(
            [full_in, full_in - 1]
                .map(|t| format!("\"default\";r={remaining};t={t}"))
                .contains(&ratelimit.to_owned()),
            "{ratelimit}"
        );
        assert_eq!(answer.header("x-ratelimit-limit"), Some("10"));
        assert_eq!(
            answer.header("x-ratelimit-remaining").unwrap(),
            remaining.to_string()
        );
    }
    let refused = app.get("/probe/headers", &[]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=6).contains(&retry), "one interval of 6 s: {retry}");
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    let reset: u64 = refused
        .header("x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!((55..=60).contains(&reset), "{reset}");
    assert!(refused.header("ratelimit").unwrap().contains("r=0"));
    let problem = refused.json();
    assert_eq!(problem["status"], 429);
    assert_eq!(problem["instance"], "/probe/headers");
    assert_security_headers(&refused);

    // Per route: another route has its own quota; the host's own routes
    // are never limited.
    assert_eq!(
        app.get("/probe/variable?arg=jwt_secret", &[]).await.status,
        200
    );
    for path in ["/health/live", "/metrics"] {
        for _ in 0..20 {
            let answer = app.get(path, &[]).await;
            assert_eq!(answer.status, 200, "{path}");
            assert_eq!(answer.header("ratelimit"), None, "{path}");
        }
    }
}

#[tokio::test]
async fn a_verified_user_and_an_address_count_in_separate_buckets() {
    let app = limited("2/60s", |_| {}).await;
    for _ in 0..2 {
        assert_eq!(app.get("/probe/headers", &[]).await.status, 200);
    }
    assert_eq!(app.get("/probe/headers", &[]).await.status, 429);

    // Same address, valid token: the user's own bucket.
    let alice = bearer(&access_token(SECRET, "alice", &[Role::User]));
    for _ in 0..2 {
        let answer = app
            .get("/probe/headers", &[("authorization", &alice)])
            .await;
        assert_eq!(answer.status, 200);
    }
    assert_eq!(
        app.get("/probe/headers", &[("authorization", &alice)])
            .await
            .status,
        429
    );
    let bob = bearer(&access_token(SECRET, "bob", &[Role::User]));
    assert_eq!(
        app.get("/probe/headers", &[("authorization", &bob)])
            .await
            .status,
        200
    );

    // A token that does not verify never escapes the address's bucket.
    let forged = bearer(&access_token(
        "some-other-secret-of-32-bytes-long!!",
        "carol",
        &[Role::User],
    ));
    for header in [forged.as_str(), "Bearer not-a-jwt", "Basic YTpi"] {
        let answer = app
            .get("/probe/headers", &[("authorization", header)])
            .await;
        assert_eq!(answer.status, 429, "{header}");
    }
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // No trusted proxy: X-Forwarded-For is the client's own invention.
    let app = limited("2/60s", |_| {}).await;
    let mut statuses = vec![];
    for forged in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        let answer = app
            .get("/probe/headers", &[("x-forwarded-for", forged)])
            .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);

    // Behind a trusted proxy: each forwarded client has its own bucket, and
    // the component sees that client as spin-client-addr.
    let app = limited("2/60s", |config| {
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        let hops = format!("6.6.6.6, {client}");
        let answer = app
            .get("/probe/headers", &[("x-forwarded-for", &hops)])
            .await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json()["spin-client-addr"], format!("{client}:0"));
    }
    let hops = [("x-forwarded-for", "6.6.6.6, 198.51.100.1")];
    assert_eq!(app.get("/probe/headers", &hops).await.status, 200);
    assert_eq!(app.get("/probe/headers", &hops).await.status, 429);

    // The proxy appends to X-Forwarded-For and passes `Forwarded` through
    // from the client: that one is the client's invention.
    let spoofed = [
        ("x-forwarded-for", "198.51.100.1"),
        ("forwarded", "for=203.0.113.77"),
    ];
    assert_eq!(app.get("/probe/headers", &spoofed).await.status, 429);
}

#[tokio::test]
async fn ipv6_clients_of_one_64_share_a_bucket() {
    let app = limited("2/60s", |_| {}).await;
    let a = app
        .get_from("[2001:db8:7:7::1]:4000", "/probe/headers", &[])
        .await;
    let b = app
        .get_from("[2001:db8:7:7::2]:4000", "/probe/headers", &[])
        .await;
    let c = app
        .get_from("[2001:db8:7:7::3]:4000", "/probe/headers", &[])
        .await;
    let other = app
        .get_from("[2001:db8:7:8::1]:4000", "/probe/headers", &[])
        .await;
    assert_eq!(
        [a.status, b.status, c.status, other.status].map(|s| s.as_u16()),
        [200, 200, 429, 200]
    );
}

#[tokio::test]
async fn routes_take_their_own_policy_or_none() {
    let app = limited("10/60s", |config| {
        config.rate_limit_routes = vec![
            "/probe/variable=1/60s".parse::<RouteLimit>().unwrap(),
            "/probe/kv=off".parse::<RouteLimit>().unwrap(),
        ];
    })
    .await;
    let first = app.get("/probe/variable?arg=jwt_secret", &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("ratelimit-policy"), Some("\"route\";q=1;w=60"));
    let second = app.get("/probe/variable?arg=jwt_secret", &[]).await;
    assert_eq!(second.status, 429);
    let retry: u64 = second.header("retry-after").unwrap().parse().unwrap();
    assert!((55..=60).contains(&retry), "{retry}");
    // Spellings of the same path the router accepts count as that path.
    for variant in ["/probe//variable", "/probe/variable/", "//probe/variable"] {
        let answer = app.get(variant, &[]).await;
        assert_eq!(answer.status, 429, "{variant}");
    }
    // A route with its own policy counts per address: a valid token does
    // not buy a fresh quota (think login attempts).
    let alice = bearer(&access_token(SECRET, "alice", &[Role::User]));
    let with_token = app
        .get("/probe/variable", &[("authorization", &alice)])
        .await;
    assert_eq!(with_token.status, 429);

    for _ in 0..12 {
        let answer = app.get("/probe/kv?arg=default", &[]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("ratelimit-policy"), None);
    }
    assert_eq!(
        app.get("/probe/headers", &[])
            .await
            .header("x-ratelimit-limit"),
        Some("10")
    );
}

#[tokio::test]
async fn an_entry_for_a_method_limits_that_method_by_address_whatever_the_token() {
    // As `PATCH /v1/auth/profile` by default: many accounts' tokens from
    // one address share the address's quota of password changes.
    let app = limited("10/60s", |config| {
        config.rate_limit_routes = vec!["POST /probe/headers=2/60s".parse().unwrap()];
    })
    .await;
    let peer = fresh_peer();
    let statuses: Vec<u16> = {
        let mut statuses = vec![];
        for subject in ["alice", "bob", "carol"] {
            let token = bearer(&access_token(SECRET, subject, &[Role::User]));
            let answer = send_from(
                &app.router,
                &peer,
                Method::POST,
                "/probe/headers",
                &[("authorization", &token)],
            )
            .await;
            statuses.push(answer.status.as_u16());
        }
        statuses
    };
    assert_eq!(statuses, [200, 200, 429]);
    let limited = send_from(&app.router, &peer, Method::POST, "/probe/headers", &[]).await;
    assert_eq!(
        limited.header("ratelimit-policy"),
        Some("\"route\";q=2;w=60")
    );
    // Another method on the path keeps the default policy.
    let read = app.get_from(&peer, "/probe/headers", &[]).await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.header("ratelimit-policy"),
        Some("\"default\";q=10;w=60")
    );
    // Another address has its own quota.
    let other = send_from(
        &app.router,
        &fresh_peer(),
        Method::POST,
        "/probe/headers",
        &[],
    )
    .await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn two_hosts_sharing_redis_share_one_limit() {
    let host = |_: ()| async { limited_over_redis(REDIS_URL).await };
    let (one, two) = (host(()).await, host(()).await);
    let peer = fresh_peer();
    let mut admitted = 0;
    for i in 0..12 {
        let app = if i % 2 == 0 { &one } else { &two };
        let answer = app.get_from(&peer, "/probe/headers", &[]).await;
        match answer.status.as_u16() {
            200 => admitted += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(admitted, 5, "one quota of 5 across both hosts");
}

async fn limited_over_redis(url: &str) -> Edge {
    let url = url.to_owned();
    Edge::start(
        &probe_with_secret(),
        |host| {
            host.jwt_secret = Some(SECRET.into());
            host.redis_url = Some(url.into());
        },
        |config| config.rate_limit = "5/60s".parse().unwrap(),
    )
    .await
}

#[tokio::test]
async fn when_redis_goes_away_the_limiter_counts_in_process_and_health_says_so() {
    let proxy = CuttableProxy::start("127.0.0.1:6379").await.unwrap();
    let url = format!("redis://{}", proxy.addr);
    let app = Edge::repo_with(
        |config| {
            config.jwt_secret = Some(SECRET.into());
            config.redis_url = Some(url.into());
        },
        |config| config.rate_limit = "3/60s".parse().unwrap(),
    )
    .await;
    let peer = fresh_peer();

    let answer = app.get_from(&peer, "/v1/auth/profile", &[]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("x-ratelimit-remaining"), Some("2"));
    let health = app.get("/health", &[]).await.json();
    let backend = &health["checks"]["rate-limiter:backend"][0];
    assert_eq!(backend["status"], "pass", "{health}");
    assert_eq!(backend["observedValue"], "redis");

    proxy.cut();
    // Still answered, still limited: a fresh in-process count of 3.
    let mut statuses = vec![];
    for _ in 0..4 {
        let answer = app.get_from(&peer, "/v1/auth/profile", &[]).await;
        assert!(answer.header("ratelimit").is_some());
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    let health = app.get("/health", &[]).await.json();
    let backend = &health["checks"]["rate-limiter:backend"][0];
    assert_eq!(backend["status"], "warn", "{health}");
    assert_eq!(backend["observedValue"], "in-process");
    assert!(
        backend["output"]
            .as_str()
            .unwrap()
            .contains("Redis unavailable"),
        "{backend}"
    );
}

/// Under a wildcard route every path reaches a component, but a path it
/// answers with a 404 is no route (finding F4): thirty probes from one
/// client share one bucket and are limited after ten, while the real routes
/// keep buckets of their own.
#[tokio::test]
async fn probed_paths_under_a_wildcard_share_one_bucket() {
    let app = Edge::repo(|config| config.rate_limit = "10/60s".parse().unwrap()).await;
    let peer = fresh_peer();
    let mut statuses = Vec::new();
    for i in 1..=30 {
        let answer = app
            .get_from(&peer, &format!("/v1/auth/probe-{i}"), &[])
            .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        20,
        "{statuses:?}"
    );

    // Real routes: each its own bucket, learnt from a success.
    let other = fresh_peer();
    let rate_limit = "/v1/production-test/rate-limit";
    let config = "/v1/production-test/config";
    assert_eq!(app.get_from(&other, rate_limit, &[]).await.status, 200);
    assert_eq!(app.get_from(&other, config, &[]).await.status, 200);
    let neighbour = fresh_peer();
    for _ in 0..12 {
        app.get_from(&neighbour, rate_limit, &[]).await;
    }
    assert_eq!(app.get_from(&neighbour, rate_limit, &[]).await.status, 429);
    assert_eq!(
        app.get_from(&neighbour, config, &[]).await.status,
        200,
        "config is not limited by traffic to rate-limit"
    );
}
