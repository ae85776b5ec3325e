//! Distributed tracing end to end: a real OTLP receiver (a tonic
//! `TraceService` on the opentelemetry-proto types) collects the spans of
//! test → client sidecar → productpage sidecar → productpage app (which
//! forwards the trace headers) → productpage sidecar → reviews sidecar →
//! reviews app. One request gives four spans in one trace, each the child of
//! the one before; 0% sampling exports nothing; an upstream decision wins;
//! B3 single and multi headers are continued; OTLP/HTTP works too.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_api::proxy::{
    InboundPort, Listeners, OtlpExporter, Protocol, TagSource, TelemetryConfig, TracingConfig,
};
use mesh_proxy::ProxyOptions;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use prost::Message;
use tokio::net::TcpListener;

const PRODUCTPAGE: &str = "outbound|9080||productpage.default.svc.cluster.local";
const REVIEWS: &str = "outbound|9080||reviews.default.svc.cluster.local";

/// A received span with the `service.name` of its resource.
#[derive(Debug, Clone)]
struct Got {
    service: String,
    span: Span,
}

impl Got {
    fn attr(&self, key: &str) -> Option<String> {
        self.span
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
    }
}

type Spans = Arc<Mutex<Vec<Got>>>;

fn collect(spans: &Spans, req: ExportTraceServiceRequest) {
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for span in ss.spans {
                spans.lock().unwrap().push(Got {
                    service: service.clone(),
                    span,
                });
            }
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Receiver(Spans);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        collect(&self.0, request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// An OTLP/gRPC collector on loopback.
async fn otlp_grpc() -> (SocketAddr, Spans) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let r = Receiver::default();
    let spans = r.0.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(r))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(l)),
    );
    (addr, spans)
}

/// An OTLP/HTTP collector (protobuf bodies on `/v1/traces`) on loopback.
async fn otlp_http() -> (SocketAddr, Spans) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let spans = Spans::default();
    let s = spans.clone();
    tokio::spawn(async move {
        loop {
            let (io, _) = l.accept().await.unwrap();
            let s = s.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let s = s.clone();
                    async move {
                        let ok = req.uri().path() == "/v1/traces"
                            && req.headers()["content-type"] == "application/x-protobuf";
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        if ok {
                            collect(&s, ExportTraceServiceRequest::decode(body).unwrap());
                        }
                        let status = if ok {
                            StatusCode::OK
                        } else {
                            StatusCode::BAD_REQUEST
                        };
                        let mut r = Response::new(Full::new(Bytes::new()));
                        *r.status_mut() = status;
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(io), svc)
                    .await;
            });
        }
    });
    (addr, spans)
}

/// productpage: calls `reviews:9080` through its sidecar (`proxy`), copying
/// the trace headers as Istio asks apps to, and answers with what it got.
async fn productpage_app(proxy: SocketAddr) -> SocketAddr {
    const FORWARD: [&str; 9] = [
        "x-request-id",
        "traceparent",
        "tracestate",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "x-b3-flags",
    ];
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (io, _) = l.accept().await.unwrap();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| async move {
                    let mut headers = Vec::new();
                    for h in FORWARD {
                        if let Some(v) = req.headers().get(h) {
                            headers.push((h, v.to_str().unwrap().to_owned()));
                        }
                    }
                    let pairs: Vec<(&str, &str)> =
                        headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let r = H1::connect(proxy)
                        .await
                        .get("http://reviews:9080/reviews/0", &pairs)
                        .await;
                    let mut resp = Response::new(Full::new(Bytes::from(r.body)));
                    *resp.status_mut() = r.status;
                    Ok::<_, Infallible>(resp)
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(io), svc)
                    .await;
            });
        }
    });
    addr
}

fn tracing(collector: SocketAddr, sampling: f64, http: bool) -> TelemetryConfig {
    TelemetryConfig {
        tracing: Some(TracingConfig {
            sampling,
            exporter: Some(OtlpExporter {
                provider: "otel".into(),
                address: collector.to_string(),
                http_path: http.then(|| "/v1/traces".to_owned()),
            }),
            custom_tags: [("team".to_owned(), TagSource::Literal("books".into()))].into(),
            mode: Default::default(),
        }),
        ..TelemetryConfig::default()
    }
}

/// A sidecar for `service` (workload labels app/version) with `inbound` port
/// 9080 to `app` (if any) and an outbound route to `to` (if any).
async fn sidecar(
    service: &str,
    app: Option<SocketAddr>,
    to: Option<(&str, &str, SocketAddr)>,
    telemetry: TelemetryConfig,
) -> TestProxy {
    let labels = [
        ("app".to_owned(), service.to_owned()),
        ("version".to_owned(), "v1".to_owned()),
    ]
    .into();
    let mut opts = ProxyOptions::local(format!("{service}-v1.default"));
    opts.workload = mesh_proxy::telemetry::Workload::new(service, "default", service, &labels);
    let p = start_proxy(opts).await;
    configure(&p, app, to, telemetry, "1");
    p
}

fn configure(
    p: &TestProxy,
    app: Option<SocketAddr>,
    to: Option<(&str, &str, SocketAddr)>,
    telemetry: TelemetryConfig,
    v: &str,
) {
    let inbound = app
        .map(|a| InboundPort {
            port: 9080,
            app_port: a.port(),
            protocol: Protocol::Http,
            ..Default::default()
        })
        .into_iter()
        .collect();
    let c = &p.config;
    apply(
        c,
        "listeners",
        v,
        &Listeners {
            inbound,
            telemetry,
            ..Default::default()
        },
    );
    let (clusters, endpoints, rc) = match to {
        Some((host, name, addr)) => (
            vec![cluster(name, 9080, Protocol::Http)],
            vec![members(name, &[addr])],
            routes(vec![vhost(
                host,
                9080,
                vec![route("default", vec![], forward(&[(name, 1)]))],
            )]),
        ),
        None => (vec![], vec![], routes(vec![])),
    };
    apply(c, "clusters", v, &clusters);
    apply(c, "endpoints", v, &endpoints);
    apply(c, "routes", v, &rc);
}

/// The mesh of the module doc, every sidecar exporting to `collector`.
struct Mesh {
    client: TestProxy,
    productpage: TestProxy,
    reviews: TestProxy,
}

async fn mesh(collector: SocketAddr, sampling: f64) -> Mesh {
    let t = || tracing(collector, sampling, false);
    let reviews = sidecar("reviews", Some(echo_app("v1", None).await), None, t()).await;
    // productpage's sidecar first (its app needs the outbound address).
    let productpage = sidecar(
        "productpage",
        None,
        Some(("reviews", REVIEWS, reviews.inbound)),
        t(),
    )
    .await;
    let app = productpage_app(productpage.outbound).await;
    configure(
        &productpage,
        Some(app),
        Some(("reviews", REVIEWS, reviews.inbound)),
        t(),
        "2",
    );
    let client = sidecar(
        "client",
        None,
        Some(("productpage", PRODUCTPAGE, productpage.inbound)),
        t(),
    )
    .await;
    Mesh {
        client,
        productpage,
        reviews,
    }
}

async fn call(m: &Mesh, headers: &[(&str, &str)]) {
    let r = H1::connect(m.client.outbound)
        .await
        .get("http://productpage:9080/productpage", headers)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.body.starts_with("name=v1"), "reviews answered: {r:?}");
}

/// The spans once there are at least `n`.
async fn spans(s: &Spans, n: usize) -> Vec<Got> {
    for _ in 0..250 {
        if s.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.lock().unwrap().clone()
}

/// The proxy's metrics once they contain `needle` (the exporter counts a
/// batch when the collector has answered).
async fn scrape_until(admin: SocketAddr, needle: &str) -> String {
    let mut scrape = String::new();
    for _ in 0..250 {
        scrape = fetch(admin, "GET", "/stats/prometheus").await.body;
        if scrape.contains(needle) {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{needle} not in\n{scrape}");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks one trace of four spans linked client → server → client → server,
/// and returns them in that order.
fn chain(got: &[Got]) -> Vec<Got> {
    assert_eq!(got.len(), 4, "{got:#?}");
    let trace = &got[0].span.trace_id;
    assert!(
        got.iter().all(|g| &g.span.trace_id == trace),
        "one trace: {got:#?}"
    );
    let root: Vec<&Got> = got
        .iter()
        .filter(|g| !got.iter().any(|p| p.span.span_id == g.span.parent_span_id))
        .collect();
    assert_eq!(
        root.len(),
        1,
        "one span has no parent in the trace: {got:#?}"
    );
    let mut order = vec![root[0].clone()];
    while let Some(child) = got
        .iter()
        .find(|g| g.span.parent_span_id == order[order.len() - 1].span.span_id)
    {
        order.push(child.clone());
    }
    assert_eq!(order.len(), 4, "a chain of parent links: {got:#?}");
    let kinds: Vec<i32> = order.iter().map(|g| g.span.kind).collect();
    let (c, s) = (SpanKind::Client as i32, SpanKind::Server as i32);
    assert_eq!(kinds, [c, s, c, s]);
    let services: Vec<&str> = order.iter().map(|g| g.service.as_str()).collect();
    assert_eq!(
        services,
        [
            "client.default",
            "productpage.default",
            "productpage.default",
            "reviews.default"
        ]
    );
    order
}

#[tokio::test]
async fn one_trace_across_three_sidecars_with_parent_links() {
    let (collector, got) = otlp_grpc().await;
    let m = mesh(collector, 100.0).await;
    call(&m, &[("x-request-id", "req-42")]).await;
    let order = chain(&spans(&got, 4).await);
    assert!(order[0].span.parent_span_id.is_empty(), "a new trace");
    let client = &order[0];
    assert_eq!(client.attr("http.method").as_deref(), Some("GET"));
    assert_eq!(
        client.attr("http.url").as_deref(),
        Some("http://productpage:9080/productpage")
    );
    assert_eq!(client.attr("http.status_code").as_deref(), Some("200"));
    assert_eq!(
        client.attr("upstream_cluster").as_deref(),
        Some(PRODUCTPAGE)
    );
    assert_eq!(
        client.attr("istio.canonical_service").as_deref(),
        Some("client")
    );
    assert_eq!(client.attr("node_id").as_deref(), Some("client-v1.default"));
    assert_eq!(client.attr("response_flags").as_deref(), Some("-"));
    assert_eq!(client.attr("team").as_deref(), Some("books"), "custom tag");
    assert_eq!(order[2].attr("upstream_cluster").as_deref(), Some(REVIEWS));
    assert_eq!(
        order[3].attr("upstream_cluster").as_deref(),
        Some("inbound|9080||")
    );
    for g in &order {
        assert_eq!(
            g.attr("guid:x-request-id").as_deref(),
            Some("req-42"),
            "{g:?}"
        );
        assert!(g.span.end_time_unix_nano >= g.span.start_time_unix_nano);
    }
    // A server span lies within its client span.
    assert!(order[1].span.start_time_unix_nano >= order[0].span.start_time_unix_nano);
    let scrape = scrape_until(m.reviews.admin, "meshctl_tracing_spans_exported_total 1").await;
    assert!(
        scrape.contains("meshctl_tracing_spans_dropped_total 0"),
        "{scrape}"
    );
}

#[tokio::test]
async fn zero_percent_exports_none_and_upstream_decisions_win() {
    let (collector, got) = otlp_grpc().await;
    let m = mesh(collector, 0.0).await;
    for _ in 0..5 {
        call(&m, &[]).await;
    }
    // The client decides to sample: the 0% sidecars after it follow.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    call(
        &m,
        &[("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))],
    )
    .await;
    let order = chain(&spans(&got, 4).await);
    assert_eq!(
        hex(&order[0].span.trace_id),
        trace,
        "the trace is continued"
    );
    assert_eq!(hex(&order[0].span.parent_span_id), "00f067aa0ba902b7");
    for p in [&m.client, &m.productpage, &m.reviews] {
        configure_sampling(p, collector, 100.0);
    }
    // 100% sampling, but upstream said no.
    call(&m, &[("x-b3-sampled", "0")]).await;
    call(
        &m,
        &[("traceparent", &format!("00-{trace}-00f067aa0ba902b7-00"))],
    )
    .await;
    // Nothing else reached the collector: one sampled request, four spans.
    call(
        &m,
        &[("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))],
    )
    .await;
    let all = spans(&got, 8).await;
    assert_eq!(all.len(), 8, "{all:#?}");
    scrape_until(m.reviews.admin, "meshctl_tracing_spans_exported_total 2").await;
}

fn configure_sampling(p: &TestProxy, collector: SocketAddr, sampling: f64) {
    let mut raw = p.config.raw().listeners;
    raw.telemetry = tracing(collector, sampling, false);
    apply(&p.config, "listeners", "9", &raw);
}

#[tokio::test]
async fn b3_single_and_multi_headers_are_continued() {
    let (collector, got) = otlp_grpc().await;
    let m = mesh(collector, 0.0).await;
    let trace = "a3ce929d0e0e4736a3ce929d0e0e4736";
    let parent = "1111111111111111";
    call(&m, &[("b3", &format!("{trace}-{parent}-1"))]).await;
    let order = chain(&spans(&got, 4).await);
    assert_eq!(hex(&order[0].span.trace_id), trace);
    assert_eq!(hex(&order[0].span.parent_span_id), parent);
    got.lock().unwrap().clear();

    // 64-bit B3 trace ids are kept as the low half.
    call(
        &m,
        &[
            ("x-b3-traceid", "0e0e4736a3ce929d"),
            ("x-b3-spanid", parent),
            ("x-b3-sampled", "1"),
        ],
    )
    .await;
    let order = chain(&spans(&got, 4).await);
    assert_eq!(
        hex(&order[0].span.trace_id),
        format!("{}0e0e4736a3ce929d", "0".repeat(16))
    );
    assert_eq!(hex(&order[0].span.parent_span_id), parent);
}

#[tokio::test]
async fn otlp_http_protobuf() {
    let (collector, got) = otlp_http().await;
    let reviews = sidecar(
        "reviews",
        Some(echo_app("v1", None).await),
        None,
        tracing(collector, 100.0, true),
    )
    .await;
    let r = H1::connect(reviews.inbound)
        .await
        .get("http://reviews:9080/x", &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let got = spans(&got, 1).await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].service, "reviews.default");
    assert_eq!(got[0].span.kind, SpanKind::Server as i32);
    assert_eq!(got[0].attr("http.status_code").as_deref(), Some("200"));
}
