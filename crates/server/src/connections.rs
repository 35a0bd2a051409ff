//! The open connections, so that no client can hold the host by holding
//! sockets: a cap per client address, an idle timeout whatever the
//! protocol, and, when file descriptors run out, the oldest idle
//! connections closed first so the host keeps accepting (and answering
//! `/health/live`).
//!
//! A connection is idle while no request of it is in flight (a response
//! counts until its body has been sent); one that has not sent a request
//! yet is idle since it was accepted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use tokio_util::sync::CancellationToken;

/// What bounds the connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections one client address may hold open; 0: no cap.
    pub per_client: usize,
    /// Addresses the cap does not apply to (trusted proxies carry many
    /// clients' connections).
    pub exempt: Vec<IpNet>,
    /// An idle connection is closed after this.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            per_client: 0,
            exempt: Vec::new(),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Connections {
    limits: Arc<ConnectionLimits>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    open: HashMap<u64, Entry>,
    per_client: HashMap<IpAddr, usize>,
}

struct Entry {
    client: IpAddr,
    in_flight: usize,
    idle_since: Instant,
    close: CancellationToken,
}

impl Connections {
    pub(crate) fn new(limits: ConnectionLimits) -> Connections {
        Connections {
            limits: Arc::new(limits),
            state: Arc::default(),
        }
    }

    /// Registers a connection from `client`, or `None` when that address
    /// already holds its share.
    pub(crate) fn open(&self, client: IpAddr) -> Option<Connection> {
        let mut state = self.state.lock().expect("never poisoned");
        let held = state.per_client.get(&client).copied().unwrap_or(0);
        let capped = self.limits.per_client != 0
            && !self.limits.exempt.iter().any(|net| net.contains(&client));
        if capped && held >= self.limits.per_client {
            return None;
        }
        state.next_id += 1;
        let id = state.next_id;
        let close = CancellationToken::new();
        state.open.insert(
            id,
            Entry {
                client,
                in_flight: 0,
                idle_since: Instant::now(),
                close: close.clone(),
            },
        );
        *state.per_client.entry(client).or_default() += 1;
        Some(Connection {
            id,
            close,
            state: self.state.clone(),
        })
    }

    /// Asks the `count` connections idle the longest to close: how many.
    pub(crate) fn close_oldest_idle(&self, count: usize) -> usize {
        let state = self.state.lock().expect("never poisoned");
        let mut idle: Vec<&Entry> = state
            .open
            .values()
            .filter(|entry| entry.in_flight == 0 && !entry.close.is_cancelled())
            .collect();
        idle.sort_by_key(|entry| entry.idle_since);
        idle.iter()
            .take(count)
            .for_each(|entry| entry.close.cancel());
        idle.len().min(count)
    }

    /// Asks every connection idle for longer than the idle timeout to close.
    pub(crate) fn close_expired(&self) {
        let state = self.state.lock().expect("never poisoned");
        let timeout = self.limits.idle_timeout;
        state
            .open
            .values()
            .filter(|entry| entry.in_flight == 0 && entry.idle_since.elapsed() >= timeout)
            .for_each(|entry| entry.close.cancel());
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        self.limits.idle_timeout
    }
}

/// One open connection; dropping it unregisters it.
pub(crate) struct Connection {
    id: u64,
    close: CancellationToken,
    state: Arc<Mutex<State>>,
}

impl Connection {
    /// Resolves when the connection should be closed.
    pub(crate) fn closing(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.close.cancelled()
    }

    /// A handle that marks requests in flight on this connection.
    pub(crate) fn activity(&self) -> Activity {
        Activity {
            id: self.id,
            state: self.state.clone(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let mut state = self.state.lock().expect("never poisoned");
        if let Some(entry) = state.open.remove(&self.id)
            && let Some(held) = state.per_client.get_mut(&entry.client)
        {
            *held -= 1;
            if *held == 0 {
                state.per_client.remove(&entry.client);
            }
        }
    }
}

#[derive(Clone)]
pub(crate) struct Activity {
    id: u64,
    state: Arc<Mutex<State>>,
}

impl Activity {
    /// Marks the connection busy (a request in flight, so never closed as
    /// idle) until the returned guard drops.
    pub(crate) fn request(&self) -> BusyGuard {
        if let Some(entry) = self
            .state
            .lock()
            .expect("never poisoned")
            .open
            .get_mut(&self.id)
        {
            entry.in_flight += 1;
        }
        BusyGuard(self.clone())
    }
}

pub(crate) struct BusyGuard(Activity);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().expect("never poisoned");
        if let Some(entry) = state.open.get_mut(&self.0.id) {
            entry.in_flight -= 1;
            if entry.in_flight == 0 {
                entry.idle_since = Instant::now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_client: usize) -> ConnectionLimits {
        ConnectionLimits {
            per_client,
            exempt: vec!["10.0.0.0/8".parse().unwrap()],
            idle_timeout: Duration::from_millis(20),
        }
    }

    #[test]
    fn a_client_gets_its_share_and_no_more_unless_exempt() {
        let connections = Connections::new(limits(2));
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let first = connections.open(client).unwrap();
        let _second = connections.open(client).unwrap();
        assert!(connections.open(client).is_none());
        assert!(connections.open("192.0.2.2".parse().unwrap()).is_some());
        drop(first);
        assert!(connections.open(client).is_some());
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let held: Vec<_> = (0..5).map(|_| connections.open(proxy).unwrap()).collect();
        assert_eq!(held.len(), 5);
    }

    #[test]
    fn the_oldest_idle_close_first_and_busy_ones_never() {
        let connections = Connections::new(limits(0));
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let oldest = connections.open(client).unwrap();
        let busy = connections.open(client).unwrap();
        let newest = connections.open(client).unwrap();
        let _request = busy.activity().request();
        assert_eq!(connections.close_oldest_idle(1), 1);
        assert!(oldest.close.is_cancelled());
        assert!(!newest.close.is_cancelled());
        assert_eq!(connections.close_oldest_idle(5), 1);
        assert!(newest.close.is_cancelled());
        assert!(!busy.close.is_cancelled());
    }

    #[test]
    fn idle_past_the_timeout_closes_and_a_request_resets_the_clock() {
        let connections = Connections::new(limits(0));
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let idle = connections.open(client).unwrap();
        let busy = connections.open(client).unwrap();
        let request = busy.activity().request();
        std::thread::sleep(Duration::from_millis(30));
        connections.close_expired();
        assert!(idle.close.is_cancelled());
        assert!(!busy.close.is_cancelled());
        drop(request);
        connections.close_expired();
        assert!(
            !busy.close.is_cancelled(),
            "idle only since the request ended"
        );
    }
}
