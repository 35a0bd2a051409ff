//! The pass a request to the components makes, its decisions in order on
//! the one request: the route (and the version rewrite), a place among the
//! requests in flight (load shedding), the client's address, the rate
//! limit, the body's bounds and the password-work budget; then the
//! component. Its answer is counted and timed, and one guard holds what
//! must last until its body is sent: the place and the request's timer.
//! The rules stay in their modules; this is only their order.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;
use mhmanus_manifest::{RoutePattern, Routes};
use tokio::sync::OwnedSemaphorePermit;
use tower::Service;

use crate::body_limit::BodyLimits;
use crate::client_addr::TrustedProxies;
use crate::config::EdgeConfig;
use crate::load_shed::Slots;
use crate::password_work::PasswordWork;
use crate::rate_limit::RateLimiter;
use crate::request_metrics::RequestTimer;
use crate::routing::Resolver;
use crate::until_body_end;
use crate::versioning::Versions;

/// The rules a request to the components goes through, in this order.
pub struct ComponentRules {
    routes: Resolver,
    slots: Slots,
    proxies: TrustedProxies,
    limiter: Arc<RateLimiter>,
    body: BodyLimits,
    password_work: Arc<PasswordWork>,
}

impl ComponentRules {
    /// The rules as `config` sets them, for the manifest's `routes`, with
    /// `limiter` (made by the caller, which knows how tokens and Redis are
    /// reached).
    pub fn new(
        config: &EdgeConfig,
        routes: Arc<Routes>,
        limiter: Arc<RateLimiter>,
    ) -> anyhow::Result<Self> {
        Ok(ComponentRules {
            routes: Resolver {
                versions: Versions::new(config)?,
                routes,
            },
            slots: Slots::new(config.max_concurrent_requests),
            proxies: TrustedProxies::new(&config.trusted_proxies, config.forwarded_header),
            limiter,
            body: BodyLimits {
                max_bytes: config.max_body_bytes,
                read_timeout: Duration::from_secs(config.body_read_timeout_secs),
            },
            password_work: Arc::new(PasswordWork::new(
                config.max_password_checks,
                config.password_routes.clone(),
            )),
        })
    }
}

/// The components' service `inner`, behind the rules.
#[derive(Clone)]
pub struct ComponentPass<S> {
    inner: S,
    rules: Arc<ComponentRules>,
}

impl<S> ComponentPass<S> {
    pub fn new(rules: ComponentRules, inner: S) -> Self {
        ComponentPass {
            inner,
            rules: Arc::new(rules),
        }
    }
}

impl<S> Service<Request> for ComponentPass<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    /// Always ready: each request is served by a clone of `inner`, which
    /// the password-work budget may move to a task of its own.
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let rules = self.rules.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let mut timer = RequestTimer::start(request.method());
            let (route, response, place) = rules.answer(request, inner).await;
            let route = route.as_ref().map_or("unmatched", |route| route.as_str());
            timer.answered(route, response.status());
            Ok(until_body_end::hold(response, (timer, place)).map(Body::new))
        })
    }
}

impl ComponentRules {
    /// The answer, the route that gave it, and the request's place in flight.
    async fn answer<S>(
        &self,
        mut request: Request,
        inner: S,
    ) -> (
        Option<Arc<RoutePattern>>,
        Response,
        Option<OwnedSemaphorePermit>,
    )
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send,
    {
        let route = match self.routes.resolve(&mut request) {
            Ok(route) => route,
            Err(refusal) => return (None, refusal, None),
        };
        match self.slots.take(request.uri().path()) {
            Ok(place) => (route, self.limited(request, inner).await, Some(place)),
            Err(refusal) => (route, refusal, None),
        }
    }

    async fn limited<S>(&self, mut request: Request, inner: S) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send,
    {
        self.proxies.resolve(&mut request);
        let verdict = self.limiter.verdict(&request).await;
        let mut response = match &verdict {
            Some(verdict) if !verdict.allowed() => verdict.refusal(request.uri().path()),
            _ => match self.body.bound(request) {
                Ok((request, watch)) => {
                    watch.answer(self.password_work.serve(request, inner).await)
                }
                Err(refusal) => refusal,
            },
        };
        if let Some(verdict) = verdict {
            self.limiter.finish(verdict, &mut response);
        }
        response
    }
}
