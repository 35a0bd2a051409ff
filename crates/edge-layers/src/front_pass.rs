//! The pass every request makes first and every answer last: the request
//! gets its id and its log span, and is refused if it does not name its
//! host once (before CORS and compression: no browser sends such a
//! request, so its 400 has no CORS headers); the answer gets the security
//! headers and the id, and its access line is written. The span lives
//! until the answer's body is sent. One service, generic over what it
//! wraps, as tower-http's are.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::BoxError;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Either;
use tower::{Layer, Service};
use tracing::Instrument as _;

use crate::client_addr::TrustedProxies;
use crate::config::EdgeConfig;
use crate::security_headers::SecurityHeaders;
use crate::{host_header, request_id, trace_context, until_body_end};

/// What the pass needs, built once.
struct Front {
    security: SecurityHeaders,
    /// Whose `traceparent` and forwarding headers are believed.
    proxies: TrustedProxies,
}

#[derive(Clone)]
pub struct FrontLayer(Arc<Front>);

impl FrontLayer {
    pub fn new(config: &EdgeConfig) -> Self {
        FrontLayer(Arc::new(Front {
            security: SecurityHeaders::new(config),
            proxies: TrustedProxies::new(&config.trusted_proxies, config.forwarded_header),
        }))
    }
}

impl<S> Layer<S> for FrontLayer {
    type Service = FrontPass<S>;

    fn layer(&self, inner: S) -> FrontPass<S> {
        FrontPass {
            inner,
            front: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct FrontPass<S> {
    inner: S,
    front: Arc<Front>,
}

impl<S, B> Service<Request> for FrontPass<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let id = request_id::assign(request.headers_mut());
        let span = trace_context::request_span(&request, &self.front.proxies);
        // For the access line: who asked, as the rate limiter sees it.
        if let Some(client) = self.front.proxies.client_of(&request) {
            span.record("client", tracing::field::display(client.ip()));
        }
        let https = self.front.security.over_https(&request);
        let answer = match host_header::refusal(&request) {
            Some(refusal) => Err(refusal),
            None => {
                let _in_span = span.enter();
                Ok(self.inner.call(request))
            }
        };
        let front = self.front.clone();
        let in_span = span.clone();
        Box::pin(
            async move {
                let mut response = match answer {
                    Ok(serving) => match serving.await {
                        Ok(response) => response.map(Either::Left),
                        Err(never) => match never {},
                    },
                    Err(refused) => refused.map(Either::Right),
                };
                front.security.apply(&mut response, https);
                response.headers_mut().insert(request_id::HEADER, id);
                trace_context::log_response(response.status(), started.elapsed(), &span);
                Ok(until_body_end::hold(response, span).map(Body::new))
            }
            .instrument(in_span),
        )
    }
}
