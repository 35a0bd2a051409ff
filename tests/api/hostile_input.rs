//! Hostile input over a raw socket, against the real binary: header floods,
//! huge headers, headers and bodies trickled in (slowloris), invalid UTF-8,
//! deeply nested JSON and a 10 MB email. Each gets a 4xx, and afterwards
//! the host is still healthy and ready.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mhmanus_tests::{SpawnedHost, spawn_app};

fn start() -> SpawnedHost {
    spawn_app(&[
        ("RATE_LIMIT", "off"),
        (
            "RATE_LIMIT_ROUTES",
            "/v1/auth/login=off,/v1/auth/register=off",
        ),
        ("BODY_READ_TIMEOUT_SECS", "1"),
    ])
}

fn connect(host: &SpawnedHost) -> TcpStream {
    let address = host.base_url.trim_start_matches("http://");
    let stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Writes `head` and `body` from another thread (the host may answer and
/// close before a large body is all sent), and reads the answer until the
/// host closes the connection.
fn exchange(host: &SpawnedHost, head: String, body: Vec<u8>) -> String {
    let mut stream = connect(host);
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&body);
    });
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let _ = sending.join();
    String::from_utf8_lossy(&answer).into_owned()
}

fn post(host: &SpawnedHost, path: &str, body: Vec<u8>) -> String {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    exchange(host, head, body)
}

fn status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

async fn assert_still_healthy(host: &SpawnedHost) {
    for path in ["/health/live", "/health/ready"] {
        let reply = reqwest::get(host.url(path)).await.unwrap();
        assert_eq!(reply.status(), 200, "{path} after the attack");
    }
}

#[tokio::test]
async fn header_floods_and_huge_headers_are_431() {
    let host = start();
    let flood: String = (0..500).map(|i| format!("X-Flood-{i}: v\r\n")).collect();
    let huge = format!("X-Huge: {}\r\n", "a".repeat(1 << 20));
    // Over the 64 KiB head limit, under hyper's own 400 KB default.
    let large = format!("X-Large: {}\r\n", "a".repeat(100 * 1024));
    for headers in [flood, huge, large] {
        let head = format!("GET /health/live HTTP/1.1\r\nHost: test\r\n{headers}\r\n");
        let answer = exchange(&host, head, vec![]);
        assert_eq!(status(&answer), 431);
        assert_hardened(&answer);
    }
    assert_still_healthy(&host).await;
}

/// What hyper answers itself, and a request without a host, carry what
/// every answer carries.
#[track_caller]
fn assert_hardened(answer: &str) {
    let head = answer
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "x-content-type-options: nosniff",
        "x-frame-options: sameorigin",
        "x-request-id: ",
    ] {
        assert!(head.contains(header), "{header} missing in {head}");
    }
}

#[tokio::test]
async fn malformed_requests_and_a_missing_or_doubled_host_are_400_with_the_usual_headers() {
    let host = start();
    for head in [
        "GET /health/live HTTP/1.1\r\nHost: test\r\nBad Header\r\n\r\n",
        "NOT A REQUEST LINE\r\n\r\n",
    ] {
        let answer = exchange(&host, head.to_owned(), vec![]);
        assert_eq!(status(&answer), 400, "{answer}");
        assert_hardened(&answer);
    }
    let answer = exchange(
        &host,
        "GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n".to_owned(),
        vec![],
    );
    assert_eq!(status(&answer), 400, "{answer}");
    assert_hardened(&answer);
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("Host header"), "{answer}");
    // Two hosts: a proxy may route by one and this service read the other.
    let answer = exchange(
        &host,
        "GET /health/live HTTP/1.1\r\nHost: test\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
            .to_owned(),
        vec![],
    );
    assert_eq!(status(&answer), 400, "{answer}");
    assert_hardened(&answer);
    assert!(answer.contains("one Host header"), "{answer}");
    // HTTP/1.0 names no host and needs none.
    let answer = exchange(
        &host,
        "GET /health/live HTTP/1.0\r\n\r\n".to_owned(),
        vec![],
    );
    assert_eq!(status(&answer), 200, "{answer}");
    assert_still_healthy(&host).await;
}

#[tokio::test]
async fn headers_trickled_in_lose_the_connection() {
    let host = start();
    let mut stream = connect(&host);
    let started = Instant::now();
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    // One more header line a second: never a complete request.
    let closed = (0..30).any(|i| {
        std::thread::sleep(Duration::from_secs(1));
        stream
            .write_all(format!("X-Slow-{i}: v\r\n").as_bytes())
            .is_err()
    });
    let waited = started.elapsed();
    assert!(closed, "the connection was still open after {waited:?}");
    assert!(waited < Duration::from_secs(20), "{waited:?}");
    assert_still_healthy(&host).await;
}

#[tokio::test]
async fn a_body_trickled_in_is_a_408_problem() {
    let host = start();
    let mut stream = connect(&host);
    let started = Instant::now();
    stream
        .write_all(
            b"POST /v1/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\":",
        )
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status(&answer), 408, "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_still_healthy(&host).await;
}

#[tokio::test]
async fn invalid_utf8_nested_json_and_a_10_mb_email_are_4xx_problems() {
    let host = start();
    let invalid_utf8 =
        b"{\"email\":\"\xff\xfe@example.com\",\"password\":\"long enough\",\"name\":\"n\"}";
    let answer = post(&host, "/v1/auth/register", invalid_utf8.to_vec());
    assert_eq!(status(&answer), 400, "{answer}");

    // Under the auth component's 16 KiB, far over serde_json's depth limit.
    let nested = format!("{}{}", "[".repeat(8000), "]".repeat(8000));
    let answer = post(&host, "/v1/auth/login", nested.into_bytes());
    assert_eq!(status(&answer), 400, "{answer}");

    let email = format!(
        r#"{{"email":"{}@example.com","password":"long enough"}}"#,
        "a".repeat(10 << 20)
    );
    let answer = post(&host, "/v1/auth/login", email.clone().into_bytes());
    assert_eq!(status(&answer), 413, "{answer}");
    // The same body without a declared length is cut off at the limit.
    let chunked = format!("{:x}\r\n{email}\r\n0\r\n\r\n", email.len());
    let head = "POST /v1/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .to_owned();
    let answer = exchange(&host, head, chunked.into_bytes());
    assert_eq!(status(&answer), 413, "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert_still_healthy(&host).await;
}
