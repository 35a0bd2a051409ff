//! Sockets that hold the host without using it (finding F2): silent
//! connections, a bare HTTP/2 preface, one client opening many, and more
//! connections than the process may hold files. Against the real binary
//! under a low `ulimit -n`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mhmanus_tests::{SpawnedHost, workspace_root};

fn start(data: &std::path::Path, env: &[(&str, &str)], max_files: u64) -> SpawnedHost {
    let mut env = env.to_vec();
    env.push(("DATA_DIR", data.to_str().unwrap()));
    SpawnedHost::start_with_file_limit(&workspace_root(), &env, max_files).unwrap()
}

fn address(host: &SpawnedHost) -> String {
    host.base_url.trim_start_matches("http://").to_owned()
}

/// How long until the host closes `stream` (reading what it sends), or
/// `None` if it is still open after `wait`.
fn closed_within(mut stream: TcpStream, wait: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buffer = [0; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed());
            }
            Err(_) => return None,
        }
        if started.elapsed() >= wait {
            return None;
        }
    }
}

fn live(address: &str) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer
        .starts_with("HTTP/1.1 200")
        .then(|| started.elapsed())
}

/// More silent sockets than the host may open files: it keeps accepting by
/// closing the oldest idle ones, `/health/live` answers meanwhile, and
/// every silent socket is closed within the header deadline (10 s from
/// its accept) whatever its protocol turns out to be.
#[test]
fn silent_sockets_cannot_exhaust_the_host() {
    let data = tempfile::tempdir().unwrap();
    let host = start(data.path(), &[("MAX_CONNECTIONS_PER_CLIENT", "0")], 160);
    let address = address(&host);
    let silent: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect(&address).ok())
        .collect();
    let answered = live(&address).expect("/health/live answers under 300 silent sockets");
    let started = Instant::now();
    let handles: Vec<_> = silent
        .into_iter()
        .map(|stream| std::thread::spawn(move || closed_within(stream, Duration::from_secs(15))))
        .collect();
    let closed: Vec<Option<Duration>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let still_open = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(still_open, 0, "silent sockets still open after 15 s");
    let last = started.elapsed();
    let warnings = host
        .log()
        .iter()
        .filter(|line| line.contains("cannot accept a connection"))
        .count();
    assert!(warnings <= 2, "{warnings} accept warnings");
    eprintln!(
        "300 silent sockets under ulimit -n 160: /health/live in {answered:?}, all closed by {last:?}, {warnings} accept warning(s)"
    );
}

/// A connection that sent only the HTTP/2 preface is closed once idle.
#[test]
fn a_bare_http2_preface_is_closed_when_idle() {
    let data = tempfile::tempdir().unwrap();
    let host = start(data.path(), &[("CONNECTION_IDLE_TIMEOUT_SECS", "2")], 1024);
    let mut stream = TcpStream::connect(address(&host)).unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .unwrap();
    let closed = closed_within(stream, Duration::from_secs(10));
    assert!(
        closed.is_some_and(|after| after < Duration::from_secs(5)),
        "{closed:?}"
    );
}

/// One address holds at most its share of connections; others are served.
#[test]
fn one_client_holds_at_most_its_share_of_connections() {
    let data = tempfile::tempdir().unwrap();
    let host = start(data.path(), &[("MAX_CONNECTIONS_PER_CLIENT", "4")], 1024);
    let address = address(&host);
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let fifth = TcpStream::connect(&address).unwrap();
    assert!(
        closed_within(fifth, Duration::from_secs(2)).is_some(),
        "a fifth connection is closed at once"
    );
    held.pop();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        live(&address).is_some(),
        "with one released, the client is served"
    );
}
