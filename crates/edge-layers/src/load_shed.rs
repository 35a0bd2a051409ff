//! Load shedding: past `MAX_CONCURRENT_REQUESTS` requests in flight (until
//! their bodies are sent), a new one is refused at once with a 503 problem
//! and `Retry-After`, instead of queueing without bound behind the others.
//! The host layers it on the components only, so liveness and metrics are
//! never shed: an overloaded host is alive, and worth watching.

use std::sync::Arc;

use axum::response::Response;
use mhmanus_contract::problem::Problem;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem;

/// Seconds a shed client is asked to wait.
const RETRY_AFTER_SECS: u32 = 1;

/// The places for requests in flight.
#[derive(Clone)]
pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(max: usize) -> Self {
        Slots(Arc::new(Semaphore::new(max.max(1))))
    }

    /// A place for a request to `path`, held until its answer is sent, or
    /// the 503 that refuses it.
    pub fn take(&self, path: &str) -> Result<OwnedSemaphorePermit, Response> {
        self.0.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("http_requests_shed_total").increment(1);
            let mut response = problem::response(
                Problem::new(503)
                    .detail("the service is at capacity; retry shortly")
                    .instance(path),
            );
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
            response
        })
    }
}
