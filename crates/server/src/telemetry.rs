//! Logs and traces.
//!
//! Logs: JSON lines on stderr when they are collected (each with the fields
//! of the span it was written in, once), readable text in a terminal,
//! filtered by `RUST_LOG` (`info` by default). A line is formatted where it
//! is written and handed to a writer thread: a stderr that cannot keep up (a
//! full pipe, a stalled collector) loses lines, counted in
//! `log_lines_dropped_total`, instead of holding requests.
//!
//! Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (as Spin decides), each
//! request's span goes over OTLP (http/protobuf) to that collector, whatever
//! `RUST_LOG` says. Logs: with `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, the service's own log records (the
//! host's, the access lines, the components' output; as `RUST_LOG`
//! filters them, never the exporter's own) go there too, beside stderr. The
//! exporters and the SDK read the other standard variables themselves:
//! `OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`,
//! `OTEL_BLRP_*`. `OTEL_SDK_DISABLED=true` turns both off.

use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};

use anyhow::{Context as _, bail};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// What must outlive serving: the trace exporter, flushed by `shutdown`,
/// and the log writer, flushed when this is dropped (however `main` ends).
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
    logs: Option<SdkLoggerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered, then writes the log lines still
    /// queued; later lines are not written.
    pub fn shutdown(mut self) {
        if let Some(traces) = self.traces.take()
            && let Err(error) = traces.shutdown()
        {
            tracing::warn!(%error, "could not send the last traces");
        }
        if let Some(logs) = self.logs.take()
            && let Err(error) = logs.shutdown()
        {
            tracing::warn!(%error, "could not send the last log records");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        flush_logs();
    }
}

/// Lines queued for the writer thread at most (about 2 MiB of the host's
/// own lines; a component's are at most 1 KiB each).
const QUEUED_LINES: usize = 8192;

/// The writer thread's handle: dropping it writes what is queued.
static LOG_WRITER: Mutex<Option<WorkerGuard>> = Mutex::new(None);
static DROPPED_LINES: OnceLock<ErrorCounter> = OnceLock::new();

/// Log lines lost so far because the writer could not keep up.
pub fn dropped_log_lines() -> u64 {
    DROPPED_LINES
        .get()
        .map_or(0, |counter| counter.dropped_lines() as u64)
}

/// Writes the queued log lines and stops the writer, for a process about to
/// exit.
pub fn flush_logs() {
    let guard = LOG_WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    drop(guard);
}

/// Says once why the process stops: a plain `error: ...` line to a
/// terminal, else one ERROR record in the logs' own JSON shape, whatever
/// `RUST_LOG` filters (the last line a collector gets must say why). Called
/// once logging has stopped (its queued lines written), or before it began.
pub fn fatal(error: &anyhow::Error) {
    if std::io::stderr().is_terminal() {
        eprintln!("error: {error:#}");
        return;
    }
    let once = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_max_level(LevelFilter::ERROR)
        .finish();
    tracing::subscriber::with_default(once, || {
        tracing::error!(target: "mhmanus_host", "{error:#}");
    });
}

/// `RUST_LOG`, `info` when unset or unreadable.
fn env_filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

/// The service's own records and spans: never a library's, so the
/// exporters' own logging is never exported (it would feed itself).
fn own_targets() -> Targets {
    Targets::new()
        .with_target("mhmanus_edge_layers", LevelFilter::INFO)
        .with_target("mhmanus_server", LevelFilter::INFO)
        .with_target("mhmanus_runtime", LevelFilter::INFO)
        .with_target("mhmanus_spin_host", LevelFilter::INFO)
        .with_target("mhmanus_host", LevelFilter::INFO)
        .with_target("access_log", LevelFilter::INFO)
        .with_target("component_output", LevelFilter::INFO)
}

pub fn init() -> anyhow::Result<Telemetry> {
    let traces = tracer_provider()?;
    let logs = logger_provider()?;
    let filter = env_filter();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("log-writer")
        .finish(std::io::stderr());
    let _ = DROPPED_LINES.set(writer.error_counter());
    *LOG_WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(guard);
    let stderr = tracing_subscriber::fmt::layer().with_writer(writer);
    let stderr = if std::io::stderr().is_terminal() {
        stderr.boxed()
    } else {
        stderr.json().with_span_list(false).boxed()
    };
    // The request spans (and what is logged in them), not every library's.
    let spans = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("mhmanus-host"))
            .with_location(false)
            .with_threads(false)
            .with_filter(own_targets())
    });
    let records = logs.as_ref().map(|provider| {
        OpenTelemetryTracingBridge::new(provider)
            .with_filter(own_targets())
            .with_filter(env_filter())
    });
    tracing_subscriber::registry()
        .with(stderr.with_filter(filter))
        .with(spans)
        .with(records)
        .init();
    if traces.is_some() {
        tracing::info!("exporting traces over OTLP");
    }
    if logs.is_some() {
        tracing::info!("exporting log records over OTLP");
    }
    Ok(Telemetry { traces, logs })
}

fn variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Whether `signal` (`TRACES`, `LOGS`) goes over OTLP: its endpoint, or
/// the common one, is set, an http:// URL, for http/protobuf.
fn exported(signal: &str) -> anyhow::Result<bool> {
    let endpoint = variable(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"))
        .or_else(|| variable("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let disabled = variable("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let Some(endpoint) = endpoint.filter(|_| !disabled) else {
        return Ok(false);
    };
    let protocol = variable(&format!("OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"))
        .or_else(|| variable("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if let Some(protocol) = protocol.filter(|p| p != "http/protobuf") {
        bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: this host exports http/protobuf only \
             (the default); point it at the collector's OTLP/HTTP port (4318)"
        );
    }
    let url = url::Url::parse(&endpoint)
        .with_context(|| format!("OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} is not a URL"))?;
    if url.scheme() != "http" {
        bail!(
            "OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}: only http:// is supported; \
             send to a collector beside the host (a sidecar or node agent), which can forward over TLS"
        );
    }
    Ok(true)
}

/// The resource both signals are sent under: `mhmanus-host` unless the
/// standard variables name the service.
fn resource() -> Resource {
    let mut resource = Resource::builder();
    let named = variable("OTEL_SERVICE_NAME").is_some()
        || variable("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| a.contains("service.name="));
    if !named {
        resource = resource.with_service_name("mhmanus-host");
    }
    resource.build()
}

fn logger_provider() -> anyhow::Result<Option<SdkLoggerProvider>> {
    if !exported("LOGS")? {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .context("the OTLP log exporter")?;
    Ok(Some(
        SdkLoggerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource())
            .build(),
    ))
}

fn tracer_provider() -> anyhow::Result<Option<SdkTracerProvider>> {
    if !exported("TRACES")? {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .context("the OTLP trace exporter")?;
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource())
            .build(),
    ))
}
