//! Istio's gRPC message counters end to end: a tonic client streams N messages
//! through a client sidecar and a server sidecar to a tonic server, which
//! answers with a stream of M; both sidecars report
//! `istio_request_messages_total` N and `istio_response_messages_total` M for
//! the edge, with the request metrics' labels, and the scrapes pass promtool.
//! Plain HTTP requests get no message counters; a Telemetry override turns one off.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;

use common::prom::*;
use common::*;
use futures_util::{Stream, StreamExt};
use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::discovery_server::{Discovery, DiscoveryServer};
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{Hello, ProxyMessage, Push};
use mesh_api::proxy::{
    InboundPort, Listeners, MetricToggle, Protocol, ProxyConfig, TelemetryConfig, TrafficMode,
};
use mesh_proxy::ProxyOptions;
use mesh_proxy::telemetry::Workload;
use tokio::net::TcpListener;
use tonic::transport::Endpoint;
use tonic::{Request, Response, Status, Streaming};

const ECHO: &str = "outbound|50051||echo.default.svc.cluster.local";

/// Reads the whole request stream, then answers with as many pushes as the
/// first Hello's proxy id says (`reply-M`), each with a payload of that many
/// bytes times 1,000 so that messages span several DATA frames.
#[derive(Clone, Default)]
struct Collect;

type PushStream = Pin<Box<dyn Stream<Item = Result<Push, Status>> + Send>>;

#[tonic::async_trait]
impl Discovery for Collect {
    type StreamStream = PushStream;

    async fn stream(
        &self,
        req: Request<Streaming<ProxyMessage>>,
    ) -> Result<Response<PushStream>, Status> {
        let mut inbound = req.into_inner();
        let mut replies = 0usize;
        while let Some(m) = inbound.message().await? {
            if let Some(Message::Hello(h)) = &m.message
                && let Some(n) = h.proxy_id.strip_prefix("reply-")
            {
                replies = n.parse().unwrap();
            }
        }
        let pushes = (0..replies).map(|i| {
            Ok(Push {
                type_url: "collect".into(),
                nonce: i.to_string(),
                version: "x".repeat(i * 1000),
                ..Push::default()
            })
        });
        Ok(Response::new(Box::pin(futures_util::stream::iter(pushes))))
    }

    async fn create_certificate(
        &self,
        _: Request<mesh_api::discovery::CertificateRequest>,
    ) -> Result<Response<mesh_api::discovery::CertificateResponse>, Status> {
        Err(Status::unimplemented("this test service signs nothing"))
    }
}

async fn grpc_app() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let incoming =
        futures_util::stream::unfold(
            l,
            |l| async move { Some((l.accept().await.map(|(s, _)| s), l)) },
        );
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DiscoveryServer::new(Collect))
            .serve_with_incoming(incoming),
    );
    addr
}

fn workload(service: &str) -> Workload {
    let labels = HashMap::from([
        ("app".to_owned(), service.to_owned()),
        ("version".to_owned(), "v1".to_owned()),
    ]);
    Workload::new(service, "default", service, &labels)
}

/// The echo workload's sidecar in front of `app`, with these metrics disabled.
async fn server(app: SocketAddr, disabled: Vec<MetricToggle>) -> TestProxy {
    let mut opts = ProxyOptions::local("echo-v1.default");
    opts.workload = workload("echo");
    let p = start_proxy(opts).await;
    let mut telemetry = TelemetryConfig::default();
    telemetry.metrics.disabled = disabled;
    let cfg = ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port: 50051,
                app_port: app.port(),
                protocol: Protocol::Grpc,
                ..Default::default()
            }],
            telemetry,
            ..Default::default()
        },
        ..Default::default()
    };
    p.config.apply_all("1", &cfg).unwrap();
    p
}

/// The caller's sidecar, routing `echo:50051` to `server`.
async fn client(server: &TestProxy) -> TestProxy {
    let mut opts = ProxyOptions::local("caller-v1.default");
    opts.workload = workload("caller");
    let p = start_proxy(opts).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    apply(
        c,
        "clusters",
        "1",
        &vec![cluster(ECHO, 50051, Protocol::Grpc)],
    );
    apply(c, "endpoints", "1", &vec![members(ECHO, &[server.inbound])]);
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost(
            "echo",
            50051,
            vec![route("r", vec![], forward(&[(ECHO, 1)]))],
        )]),
    );
    p
}

fn hello(id: String) -> ProxyMessage {
    ProxyMessage {
        message: Some(Message::Hello(Hello {
            proxy_id: id,
            ..Hello::default()
        })),
    }
}

/// One call through `client`: `n` messages up (the first asks for `m` back,
/// the others carry growing payloads), returns how many came back.
async fn call(client: &TestProxy, n: usize, m: usize) -> usize {
    let channel = Endpoint::from_shared(format!("http://{}", client.outbound))
        .unwrap()
        .origin("http://echo:50051".parse().unwrap())
        .connect()
        .await
        .unwrap();
    let mut grpc = DiscoveryClient::new(channel);
    let up = (0..n).map(move |i| match i {
        0 => hello(format!("reply-{m}")),
        // Empty, tiny and 40 KB messages: split and packed in DATA frames.
        _ => hello("y".repeat((i % 3) * 20_000)),
    });
    let replies = grpc
        .stream(futures_util::stream::iter(up))
        .await
        .unwrap()
        .into_inner();
    let got: Vec<Push> = replies.map(Result::unwrap).collect().await;
    got.len()
}

const N: usize = 7;
const M: usize = 5;

fn edge(reporter: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("reporter", reporter),
        ("source_workload", "caller-v1"),
        ("source_app", "caller"),
        ("destination_workload", "echo-v1"),
        ("destination_app", "echo"),
        ("destination_service", "echo.default.svc.cluster.local"),
        ("destination_service_name", "echo"),
        ("request_protocol", "grpc"),
        ("response_code", "200"),
        ("grpc_response_status", "0"),
        ("response_flags", "-"),
    ]
}

#[tokio::test]
async fn both_sidecars_count_the_messages_of_a_streaming_call() {
    let server = server(grpc_app().await, vec![]).await;
    let client = client(&server).await;
    assert_eq!(call(&client, N, M).await, M);
    // A plain HTTP request through the same client: no message counters.
    let mut h = H1::connect(client.outbound).await;
    h.get("http://nowhere/", &[]).await;

    for (who, admin, reporter) in [
        ("client", client.admin, "source"),
        ("server", server.admin, "destination"),
    ] {
        let want = edge(reporter);
        let s = scrape_until(admin, "istio_response_messages_total", &want, M as f64).await;
        assert_eq!(sum(&s, "istio_requests_total", &want), 1.0, "{who}");
        assert_eq!(
            sum(&s, "istio_request_messages_total", &want),
            N as f64,
            "{who}: istio_request_messages_total{want:?}"
        );
        assert_eq!(
            sum(&s, "istio_response_messages_total", &want),
            M as f64,
            "{who}: istio_response_messages_total{want:?}"
        );
        let http = [("request_protocol", "http")];
        assert_eq!(
            sum(&s, "istio_requests_total", &http),
            f64::from(u8::from(who == "client")),
            "{who}: the HTTP request is reported"
        );
        assert!(
            s.iter()
                .filter(|(n, _, _)| n.starts_with("istio_re") && n.ends_with("messages_total"))
                .all(|(_, l, _)| l.get("request_protocol").map(String::as_str) == Some("grpc")),
            "{who}: message counters only for gRPC"
        );
        promtool_check(&scrape(admin).await);
    }

    // A second call adds to the same series.
    assert_eq!(call(&client, 2, 0).await, 0);
    let want = edge("destination");
    let s = scrape_until(server.admin, "istio_requests_total", &want, 2.0).await;
    assert_eq!(
        sum(&s, "istio_request_messages_total", &want),
        (N + 2) as f64
    );
    assert_eq!(sum(&s, "istio_response_messages_total", &want), M as f64);
}

#[tokio::test]
async fn a_telemetry_override_turns_a_message_counter_off() {
    let off = MetricToggle {
        metric: "GRPC_RESPONSE_MESSAGES".into(),
        mode: TrafficMode::Server,
    };
    let server = server(grpc_app().await, vec![off]).await;
    let client = client(&server).await;
    assert_eq!(call(&client, 3, 2).await, 2);
    let want = edge("destination");
    let s = scrape_until(server.admin, "istio_requests_total", &want, 1.0).await;
    assert_eq!(sum(&s, "istio_request_messages_total", &want), 3.0);
    assert!(
        !s.iter()
            .any(|(n, _, _)| n == "istio_response_messages_total"),
        "disabled on the server side"
    );
    let want = edge("source");
    let s = scrape_until(client.admin, "istio_response_messages_total", &want, 2.0).await;
    assert_eq!(sum(&s, "istio_response_messages_total", &want), 2.0);
}
