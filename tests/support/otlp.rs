//! An OTLP/HTTP receiver of traces and logs on 127.0.0.1: what a collector
//! would get, decoded with the OpenTelemetry protocol's own protobuf
//! definitions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// A span as received, with the service name of the resource it came under.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub service: Option<String>,
    pub span: Span,
}

impl ReceivedSpan {
    /// The attribute `key`, if the span has it.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        attribute(&self.span.attributes, key)
    }
}

/// A log record as received, with the service name of its resource.
#[derive(Debug, Clone)]
pub struct ReceivedLog {
    pub service: Option<String>,
    pub record: LogRecord,
}

impl ReceivedLog {
    /// The record's body, when it is a string (the message).
    pub fn body(&self) -> Option<&str> {
        match self.record.body.as_ref()?.value.as_ref()? {
            Value::StringValue(text) => Some(text),
            _ => None,
        }
    }

    /// The attribute `key` (a field of the record), if it has it.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        attribute(&self.record.attributes, key)
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

#[derive(Default)]
struct Received {
    spans: Mutex<Vec<ReceivedSpan>>,
    logs: Mutex<Vec<ReceivedLog>>,
}

pub struct OtlpReceiver {
    pub endpoint: String,
    received: Arc<Received>,
    server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    pub async fn start() -> Self {
        let received = Arc::new(Received::default());
        let app = Router::new()
            .route("/v1/traces", post(receive_spans))
            .route("/v1/logs", post(receive_logs))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        OtlpReceiver {
            endpoint,
            received,
            server,
        }
    }

    /// The first span received that `wanted` accepts, waiting up to 20 s.
    pub async fn wait_for(&self, wanted: impl Fn(&ReceivedSpan) -> bool) -> ReceivedSpan {
        wait_among(&self.received.spans, wanted).await
    }

    /// The first log record received that `wanted` accepts, waiting up to 20 s.
    pub async fn wait_for_log(&self, wanted: impl Fn(&ReceivedLog) -> bool) -> ReceivedLog {
        wait_among(&self.received.logs, wanted).await
    }
}

async fn wait_among<T: Clone + std::fmt::Debug>(
    received: &Mutex<Vec<T>>,
    wanted: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = received.lock().unwrap().iter().find(|s| wanted(s)) {
            return found.clone();
        }
        assert!(
            Instant::now() < deadline,
            "nothing such among {:#?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive_spans(State(received): State<Arc<Received>>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
    let mut spans = received.spans.lock().unwrap();
    for resource_spans in request.resource_spans {
        let service = service_name(resource_spans.resource.as_ref());
        for scope in resource_spans.scope_spans {
            spans.extend(scope.spans.into_iter().map(|span| ReceivedSpan {
                service: service.clone(),
                span,
            }));
        }
    }
    ExportTraceServiceResponse::default().encode_to_vec()
}

async fn receive_logs(State(received): State<Arc<Received>>, body: Bytes) -> Vec<u8> {
    let request = ExportLogsServiceRequest::decode(body).expect("an OTLP protobuf export");
    let mut logs = received.logs.lock().unwrap();
    for resource_logs in request.resource_logs {
        let service = service_name(resource_logs.resource.as_ref());
        for scope in resource_logs.scope_logs {
            logs.extend(scope.log_records.into_iter().map(|record| ReceivedLog {
                service: service.clone(),
                record,
            }));
        }
    }
    ExportLogsServiceResponse::default().encode_to_vec()
}

fn service_name(resource: Option<&Resource>) -> Option<String> {
    match attribute(&resource?.attributes, "service.name")? {
        Value::StringValue(name) => Some(name.clone()),
        _ => None,
    }
}
