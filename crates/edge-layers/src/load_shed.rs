//! Load shedding: past `MAX_CONCURRENT_REQUESTS` requests in flight (until
//! their bodies are sent), a new one is refused at once with a 503 problem
//! and `Retry-After`, instead of queueing without bound behind the others.
//! The host layers it on the components only, so liveness and metrics are
//! never shed: an overloaded host is alive, and worth watching.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use mhmanus_contract::problem::Problem;
use tokio::sync::Semaphore;

use crate::{problem, until_body_end};

/// Seconds a shed client is asked to wait.
const RETRY_AFTER_SECS: u32 = 1;

/// The places for requests in flight.
#[derive(Clone)]
pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(max: usize) -> Self {
        Slots(Arc::new(Semaphore::new(max.max(1))))
    }
}

pub async fn shed(State(Slots(slots)): State<Slots>, request: Request, next: Next) -> Response {
    let Ok(slot) = slots.try_acquire_owned() else {
        metrics::counter!("http_requests_shed_total").increment(1);
        let mut response = problem::response(
            Problem::new(503)
                .detail("the service is at capacity; retry shortly")
                .instance(request.uri().path()),
        );
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        return response;
    };
    until_body_end::hold(next.run(request).await, slot).map(Body::new)
}
