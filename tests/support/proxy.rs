//! A TCP proxy in front of a real dependency that a test can break: `cut`
//! drops the open connections and turns new ones away (as when the
//! dependency's host goes away) until `restore`; `slow_down` holds every
//! chunk coming back from the dependency for a while, as a dependency under
//! strain answers late.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    up: bool,
    latency: Duration,
}

pub struct CuttableProxy {
    pub addr: SocketAddr,
    state: watch::Sender<State>,
}

impl CuttableProxy {
    /// Listens on an ephemeral loopback port and forwards to `target`.
    pub async fn start(target: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (state, watching) = watch::channel(State {
            up: true,
            latency: Duration::ZERO,
        });
        let target = target.to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !watching.borrow().up {
                    // Turned away: the connection closes at once.
                    continue;
                }
                tokio::spawn(forward(client, target.clone(), watching.clone()));
            }
        });
        Ok(CuttableProxy { addr, state })
    }

    /// Drops every open connection and turns new ones away.
    pub fn cut(&self) {
        self.state.send_modify(|state| state.up = false);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.state.send_modify(|state| state.up = true);
    }

    /// Holds each chunk the dependency sends back for `latency`.
    pub fn slow_down(&self, latency: Duration) {
        self.state.send_modify(|state| state.latency = latency);
    }
}

async fn forward(client: TcpStream, target: String, mut state: watch::Receiver<State>) {
    let Ok(server) = TcpStream::connect(&target).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = tokio::io::copy(&mut client_read, &mut server_write);
    let latency = state.clone();
    let answers = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let read = server_read.read(&mut buffer).await?;
            if read == 0 {
                return std::io::Result::Ok(());
            }
            let delay = latency.borrow().latency;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            client_write.write_all(&buffer[..read]).await?;
        }
    };
    tokio::select! {
        _ = state.wait_for(|state| !state.up) => {},
        _ = requests => {},
        _ = answers => {},
    }
}
