//! Span export over OTLP (gRPC, or HTTP with a protobuf body), batched by a
//! task off the request path: spans wait in a bounded queue (a full queue
//! drops and counts them) and go out up to 512 at a time, or every 200 ms.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use prometheus_client::metrics::counter::Counter;
use prost::Message;
use tokio::sync::mpsc;

use super::peer::Workload;

const QUEUE: usize = 4096;
const BATCH: usize = 512;
const EVERY: Duration = Duration::from_millis(200);

/// A finished span, in the exporter's terms.
#[derive(Debug, Clone)]
pub(crate) struct SpanRecord {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    pub name: String,
    pub client: bool,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    pub error: bool,
    pub attributes: Vec<(String, String)>,
}

fn kv(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
    }
}

impl SpanRecord {
    fn into_otlp(self) -> Span {
        Span {
            trace_id: self.trace_id.to_vec(),
            span_id: self.span_id.to_vec(),
            parent_span_id: self.parent.map(|p| p.to_vec()).unwrap_or_default(),
            name: self.name,
            kind: if self.client {
                span::SpanKind::Client
            } else {
                span::SpanKind::Server
            } as i32,
            start_time_unix_nano: self.start_unix_nanos,
            end_time_unix_nano: self.end_unix_nanos,
            attributes: self
                .attributes
                .into_iter()
                .map(|(k, v)| kv(&k, v))
                .collect(),
            status: Some(Status {
                code: if self.error {
                    status::StatusCode::Error
                } else {
                    status::StatusCode::Unset
                } as i32,
                message: String::new(),
            }),
            ..Span::default()
        }
    }
}

/// The OTLP request for a batch of spans from `me` (`service.name` is Istio's
/// `<canonical service>.<namespace>`).
pub(crate) fn request(
    me: &Workload,
    proxy_id: &str,
    spans: Vec<SpanRecord>,
) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv(
                        "service.name",
                        format!("{}.{}", me.canonical_service, me.namespace),
                    ),
                    kv("service.version", me.canonical_revision.clone()),
                    kv("k8s.namespace.name", me.namespace.clone()),
                    kv("node_id", proxy_id.to_owned()),
                ],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "meshctl-proxy".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..InstrumentationScope::default()
                }),
                spans: spans.into_iter().map(SpanRecord::into_otlp).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Where finished spans are queued for one collector.
#[derive(Debug, Clone)]
pub(crate) struct Exporter {
    tx: mpsc::Sender<SpanRecord>,
    dropped: Counter,
}

impl Exporter {
    /// Queues a span; a full queue drops it (counted).
    pub(crate) fn send(&self, span: SpanRecord) {
        if self.tx.try_send(span).is_err() {
            self.dropped.inc();
        }
    }
}

/// The counters every exporter shares.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExportCounters {
    pub exported: Counter,
    pub dropped: Counter,
    pub failed: Counter,
}

/// The exporters, one per collector, shared by every config snapshot.
#[derive(Debug, Default)]
pub(crate) struct Exporters {
    by_target: Mutex<HashMap<(String, Option<String>), Exporter>>,
    pub(crate) counters: ExportCounters,
}

impl Exporters {
    /// The exporter to `address` (OTLP/HTTP to `http_path` when set), started
    /// on first use (needs a tokio runtime).
    pub(crate) fn get(
        &self,
        address: &str,
        http_path: Option<&str>,
        me: &std::sync::Arc<Workload>,
        proxy_id: &str,
    ) -> Exporter {
        let key = (address.to_owned(), http_path.map(str::to_owned));
        let mut map = self
            .by_target
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = map.get(&key) {
            return e.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let target = match http_path {
            Some(p) => Target::Http(format!("http://{address}{p}")),
            None => Target::Grpc(format!("http://{address}")),
        };
        tokio::spawn(run(
            target,
            rx,
            me.clone(),
            proxy_id.to_owned(),
            self.counters.clone(),
        ));
        let e = Exporter {
            tx,
            dropped: self.counters.dropped.clone(),
        };
        map.insert(key, e.clone());
        e
    }
}

#[derive(Debug, Clone)]
enum Target {
    Grpc(String),
    Http(String),
}

async fn run(
    target: Target,
    mut rx: mpsc::Receiver<SpanRecord>,
    me: std::sync::Arc<Workload>,
    proxy_id: String,
    counters: ExportCounters,
) {
    let mut grpc = None;
    let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::sleep(EVERY);
        tokio::pin!(deadline);
        while batch.len() < BATCH {
            tokio::select! {
                s = rx.recv() => match s {
                    Some(s) => batch.push(s),
                    None => break,
                },
                _ = &mut deadline => break,
            }
        }
        let n = batch.len() as u64;
        let req = request(&me, &proxy_id, batch);
        let ok = match &target {
            Target::Grpc(url) => {
                if grpc.is_none() {
                    grpc = tonic::transport::Endpoint::from_shared(url.clone())
                        .ok()
                        .map(|e| TraceServiceClient::new(e.connect_lazy()));
                }
                match grpc.as_mut() {
                    Some(c) => match c.export(req).await {
                        Ok(_) => true,
                        Err(e) => {
                            tracing::debug!(collector = %url, error = %e, "OTLP/gRPC export failed");
                            false
                        }
                    },
                    None => false,
                }
            }
            Target::Http(url) => {
                let body = Full::new(Bytes::from(req.encode_to_vec()));
                match http::Request::post(url.as_str())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(body)
                {
                    Ok(r) => match http.request(r).await {
                        Ok(resp) if resp.status().is_success() => true,
                        Ok(resp) => {
                            tracing::debug!(collector = %url, status = %resp.status(), "OTLP/HTTP export refused");
                            false
                        }
                        Err(e) => {
                            tracing::debug!(collector = %url, error = %e, "OTLP/HTTP export failed");
                            false
                        }
                    },
                    Err(_) => false,
                }
            }
        };
        if ok {
            counters.exported.inc_by(n);
        } else {
            counters.failed.inc_by(n);
        }
    }
}
