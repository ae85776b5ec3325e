//! gRPC end to end with tonic on both ends: a bidirectional stream through a
//! client sidecar and a server sidecar, Istio's default retry policy turning a
//! server's `UNAVAILABLE` into success, and an injected gRPC abort.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use futures_util::{Stream, StreamExt};
use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::discovery_server::{Discovery, DiscoveryServer};
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{Hello, ProxyMessage, Push};
use mesh_api::proxy::{Fault, FaultAbort, Forward, Listeners, Protocol, RetryPolicy, RouteAction};
use mesh_proxy::ProxyOptions;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};

/// A test service on the discovery protocol: answers each Hello with a Push
/// whose nonce is the Hello's proxy id; a first Hello of `fail-N` makes the
/// first N calls fail with UNAVAILABLE.
#[derive(Clone, Default)]
struct Echo {
    calls: Arc<AtomicUsize>,
}

type PushStream = Pin<Box<dyn Stream<Item = Result<Push, Status>> + Send>>;

#[tonic::async_trait]
impl Discovery for Echo {
    type StreamStream = PushStream;

    async fn stream(
        &self,
        req: Request<Streaming<ProxyMessage>>,
    ) -> Result<Response<PushStream>, Status> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut inbound = req.into_inner();
        let first = inbound.message().await?;
        let id = |m: &ProxyMessage| match &m.message {
            Some(Message::Hello(h)) => h.proxy_id.clone(),
            _ => String::new(),
        };
        let first_id = first.as_ref().map(id).unwrap_or_default();
        if let Some(n) = first_id
            .strip_prefix("fail-")
            .and_then(|n| n.parse::<usize>().ok())
            && call < n
        {
            return Err(Status::unavailable("not yet"));
        }
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            let mut next = first;
            while let Some(m) = next {
                let push = Push {
                    type_url: "echo".into(),
                    nonce: id(&m),
                    ..Push::default()
                };
                if tx.send(Ok(push)).await.is_err() {
                    return;
                }
                next = inbound.message().await.ok().flatten();
            }
        });
        let out =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
            );
        Ok(Response::new(Box::pin(out)))
    }

    async fn create_certificate(
        &self,
        _: Request<mesh_api::discovery::CertificateRequest>,
    ) -> Result<Response<mesh_api::discovery::CertificateResponse>, Status> {
        Err(Status::unimplemented("this test service signs nothing"))
    }
}

async fn grpc_app() -> (SocketAddr, Arc<AtomicUsize>) {
    let echo = Echo::default();
    let calls = echo.calls.clone();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let incoming = futures_util::stream::unfold(l, |l| async move {
        let r = l.accept().await.map(|(s, _)| s);
        Some((r, l))
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DiscoveryServer::new(echo))
            .serve_with_incoming(incoming),
    );
    (addr, calls)
}

/// A client sidecar routing `echo:50051` (gRPC) to `server` with `action`.
async fn client(server: SocketAddr, action: RouteAction) -> TestProxy {
    let p = start_proxy(ProxyOptions::local("client")).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    apply(
        c,
        "clusters",
        "1",
        &vec![cluster("up", 50051, Protocol::Grpc)],
    );
    apply(c, "endpoints", "1", &vec![members("up", &[server])]);
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost("echo", 50051, vec![route("r", vec![], action)])]),
    );
    p
}

/// A tonic channel through the sidecar's outbound listener, addressed to `echo:50051`.
async fn channel(outbound: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{outbound}"))
        .unwrap()
        .origin("http://echo:50051".parse().unwrap())
        .connect()
        .await
        .unwrap()
}

fn hello(id: &str) -> ProxyMessage {
    ProxyMessage {
        message: Some(Message::Hello(Hello {
            proxy_id: id.into(),
            ..Hello::default()
        })),
    }
}

fn with_retry(attempts: u32) -> RouteAction {
    RouteAction::Forward(Forward {
        clusters: vec![mesh_api::proxy::WeightedCluster {
            cluster: "up".into(),
            weight: 1,
            ..Default::default()
        }],
        retry: Some(RetryPolicy {
            attempts,
            per_try_timeout: None,
            retry_on: mesh_api::proxy::ISTIO_DEFAULT_RETRY_ON
                .map(str::to_owned)
                .to_vec(),
            retriable_status_codes: vec![503],
            backoff: None,
            other_hosts: true,
        }),
        ..Forward::default()
    })
}

#[tokio::test]
async fn bidirectional_stream_through_two_sidecars() {
    let (app, _) = grpc_app().await;
    let server = server_proxy("server", 50051, app, Protocol::Grpc).await;
    let c = client(server.inbound, forward(&[("up", 1)])).await;
    let mut grpc = DiscoveryClient::new(channel(c.outbound).await);
    let (tx, rx) = mpsc::channel(4);
    let outbound =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
    tx.send(hello("one")).await.unwrap();
    let mut replies = grpc.stream(outbound).await.unwrap().into_inner();
    // Each message is answered before the next is sent: both directions stream.
    assert_eq!(replies.next().await.unwrap().unwrap().nonce, "one");
    tx.send(hello("two")).await.unwrap();
    assert_eq!(replies.next().await.unwrap().unwrap().nonce, "two");
    tx.send(hello("three")).await.unwrap();
    assert_eq!(replies.next().await.unwrap().unwrap().nonce, "three");
    drop(tx);
    assert!(
        replies.next().await.is_none(),
        "the stream ends when the client ends it"
    );
}

#[tokio::test]
async fn default_retries_turn_unavailable_into_success() {
    let (app, calls) = grpc_app().await;
    let server = server_proxy("server", 50051, app, Protocol::Grpc).await;
    let c = client(server.inbound, with_retry(2)).await;
    let mut grpc = DiscoveryClient::new(channel(c.outbound).await);
    let req = futures_util::stream::iter([hello("fail-2")]);
    let mut replies = grpc
        .stream(req)
        .await
        .expect("retried into success")
        .into_inner();
    assert_eq!(replies.next().await.unwrap().unwrap().nonce, "fail-2");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two failed tries and one that worked"
    );
}

#[tokio::test]
async fn without_retries_unavailable_reaches_the_client() {
    let (app, calls) = grpc_app().await;
    let server = server_proxy("server", 50051, app, Protocol::Grpc).await;
    let c = client(server.inbound, with_retry(0)).await;
    let mut grpc = DiscoveryClient::new(channel(c.outbound).await);
    let req = futures_util::stream::iter([hello("fail-2")]);
    let err = grpc.stream(req).await.expect_err("an error");
    assert_eq!(err.code(), tonic::Code::Unavailable);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn injected_grpc_abort() {
    let (app, calls) = grpc_app().await;
    let server = server_proxy("server", 50051, app, Protocol::Grpc).await;
    let p = start_proxy(ProxyOptions::local("client")).await;
    apply(&p.config, "listeners", "1", &Listeners::default());
    apply(
        &p.config,
        "clusters",
        "1",
        &vec![cluster("up", 50051, Protocol::Grpc)],
    );
    apply(
        &p.config,
        "endpoints",
        "1",
        &vec![members("up", &[server.inbound])],
    );
    let mut r = route("r", vec![], forward(&[("up", 1)]));
    r.fault = Some(Fault {
        delay: None,
        abort: Some(FaultAbort {
            http_status: None,
            grpc_status: Some(8),
            percent: 100.0,
        }),
    });
    apply(
        &p.config,
        "routes",
        "1",
        &routes(vec![vhost("echo", 50051, vec![r])]),
    );
    let mut grpc = DiscoveryClient::new(channel(p.outbound).await);
    let err = grpc
        .stream(futures_util::stream::iter([hello("x")]))
        .await
        .expect_err("an error");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    assert_eq!(err.message(), "fault filter abort");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}
