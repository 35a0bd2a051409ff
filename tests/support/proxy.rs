//! A TCP proxy in front of a real dependency that a test can cut: from
//! `cut` on, open connections are dropped and new ones refused, as when
//! the dependency's host goes away.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct CuttableProxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl CuttableProxy {
    /// Listens on an ephemeral loopback port and forwards to `target`.
    pub async fn start(target: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (cut, mut on_cut) = watch::channel(false);
        let target = target.to_owned();
        let connections = cut.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = on_cut.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { break };
                        let target = target.clone();
                        let mut cut = connections.clone();
                        tokio::spawn(async move {
                            let Ok(server) = TcpStream::connect(&target).await else { return };
                            let (mut client, mut server) = (client, server);
                            tokio::select! {
                                _ = cut.changed() => {},
                                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {},
                            }
                        });
                    }
                }
            }
            // The listener drops here: new connections are refused.
        });
        Ok(CuttableProxy { addr, cut })
    }

    /// Drops every connection and stops listening.
    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }
}
