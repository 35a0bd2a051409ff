//! W3C trace context (`traceparent`, `tracestate`). A request's span
//! continues the caller's trace only when the caller is one of
//! `TRUSTED_PROXIES`: anyone else could otherwise pick the trace ids an
//! operator's traces are grouped by. The component is then handed the
//! request span's own context, so what it calls continues the trace.
//!
//! With no OpenTelemetry layer installed (no `OTEL_EXPORTER_OTLP_*`
//! endpoint), spans have no context and the headers pass through untouched.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::client_addr::TrustedProxies;
use crate::request_id;

const TRACEPARENT: &str = "traceparent";

/// The response lines' log target (`RUST_LOG=info,access_log=off` drops
/// them; `access_log=error` keeps only the server errors').
pub const ACCESS_LOG: &str = "access_log";
const TRACESTATE: &str = "tracestate";

/// The request's span ([`request_id::span`]), the child of the caller's
/// span when a trusted caller sent one.
pub fn request_span(request: &http::Request<Body>, trusted: &TrustedProxies) -> Span {
    let span = request_id::span(request);
    let trusted_caller = || {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| trusted.trusts(peer.ip().to_canonical()))
    };
    let parent = if request.headers().contains_key(TRACEPARENT) && trusted_caller() {
        TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()))
    } else {
        Context::new()
    };
    // Fails only when no OpenTelemetry layer is installed: then the
    // `otel.*` fields stay out of the logs too.
    if span.set_parent(parent).is_ok() {
        span.record("otel.kind", "server");
    }
    span
}

/// Whether `span` goes to an OpenTelemetry exporter.
pub fn is_exported(span: &Span) -> bool {
    span.context().span().span_context().is_valid()
}

/// Names an exported request span as OpenTelemetry's conventions do:
/// `{method} {route}`, the route as the manifest writes it.
pub fn name(span: &Span, method: &http::Method, route: &str) {
    let context = span.context();
    let exported = context.span();
    if exported.span_context().is_valid() {
        exported.update_name(format!("{method} {route}"));
    }
}

/// The response's status on an exported span (5xx marks it failed), then
/// the response's log line: its status and its latency in milliseconds, as
/// numbers. Its target is [`ACCESS_LOG`], not this module's: the exported
/// span already has both, and `RUST_LOG` can name the access log alone. A
/// server error also has a line at `ERROR`, for whoever watches those only.
pub fn log_response(status: http::StatusCode, latency: Duration, span: &Span) {
    if is_exported(span) {
        span.record("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            span.record("otel.status_code", "error");
        }
    }
    let latency_ms = latency.as_secs_f64() * 1000.0;
    tracing::info!(
        target: ACCESS_LOG,
        status = status.as_u16(),
        latency_ms,
        "finished processing request"
    );
    if status.is_server_error() {
        tracing::error!(
            target: ACCESS_LOG,
            status = status.as_u16(),
            latency_ms,
            "response failed"
        );
    }
}

/// Replaces the caller's trace headers in `headers` by the current
/// (request) span's context, for the component; untouched when the span
/// is not exported.
pub fn hand_on(headers: &mut HeaderMap) {
    let context = Span::current().context();
    if context.span().span_context().is_valid() {
        headers.remove(TRACEPARENT);
        headers.remove(TRACESTATE);
        TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(headers));
    }
}
