//! The rate limiter's Redis: the connections the components' `spin:redis`
//! uses, cached per address, so the limiter opens none of its own.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

use mhmanus_spin_host::redact;
use mhmanus_spin_host::redis::Clients;

pub(super) struct LimiterRedis {
    pub clients: Arc<Clients>,
    pub url: String,
}

impl mhmanus_edge_layers::rate_limit::Redis for LimiterRedis {
    fn query(&self, command: redis::Cmd) -> BoxFuture<'static, Result<redis::Value, String>> {
        let (clients, url) = (self.clients.clone(), self.url.clone());
        // Connecting runs in its own task: a decision that times out leaves
        // it to finish (and be cached, or be recorded as failed) anyway.
        let connecting = tokio::spawn(async move { clients.handle(&url).await });
        async move {
            let mut handle = connecting
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            handle.query(&command).await.map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn address(&self) -> String {
        redact::url(&self.url)
    }
}
