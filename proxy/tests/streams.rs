//! End-to-end: HTTP/2 (h2c) streaming with trailers, CONNECT tunnels, route
//! timeouts on tokio's paused clock, graceful shutdown.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::*;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mesh_api::proxy::{Forward, Listeners, Protocol, RouteAction, WeightedCluster};
use mesh_proxy::{Proxy, ProxyOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, oneshot};

/// A request body fed chunk by chunk from a channel.
struct ChanBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChanBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|c| c.map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

/// A client proxy routing `host:port` to `cluster` (of `protocol`) at `endpoint`.
async fn client_for(
    host: &str,
    port: u16,
    protocol: Protocol,
    endpoint: std::net::SocketAddr,
    action: Option<RouteAction>,
) -> TestProxy {
    let p = start_proxy(ProxyOptions::local("client")).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    apply(c, "clusters", "1", &vec![cluster("up", port, protocol)]);
    apply(c, "endpoints", "1", &vec![members("up", &[endpoint])]);
    let action = action.unwrap_or_else(|| forward(&[("up", 1)]));
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost(host, port, vec![route("r", vec![], action)])]),
    );
    p
}

#[tokio::test]
async fn h2c_streaming_with_trailers() {
    let app = echo_app("grpc", None).await;
    let server = server_proxy("server", 50051, app, Protocol::Grpc).await;
    let client = client_for("echo", 50051, Protocol::Grpc, server.inbound, None).await;

    let tcp = TcpStream::connect(client.outbound).await.unwrap();
    let (mut send, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let body = ChanBody(rx);
    let req = Request::post("http://echo:50051/echo")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(body)
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    // Each chunk comes back before the next is sent: nothing buffers whole bodies.
    for chunk in ["one", "two", "three"] {
        tx.send(Bytes::from(chunk)).await.unwrap();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), Bytes::from(chunk));
    }
    drop(tx);
    let trailers = loop {
        let f = body.frame().await.unwrap().unwrap();
        if f.is_trailers() {
            break f.into_trailers().unwrap();
        }
    };
    assert_eq!(trailers.get("grpc-status").unwrap(), "0");
}

#[tokio::test]
async fn h2c_authority_reaches_the_app() {
    let app = echo_app("h2", None).await;
    let server = server_proxy("server", 8080, app, Protocol::Http2).await;
    let client = client_for("web", 8080, Protocol::Http2, server.inbound, None).await;
    // An HTTP/1.1 client; the sidecars speak h2c between them and to the app.
    let mut c = H1::connect(client.outbound).await;
    for _ in 0..3 {
        let r = c.get("http://web:8080/p", &[]).await;
        assert_eq!(r.body, "name=h2 method=GET path=/p host=web:8080", "{r:?}");
    }
}

#[tokio::test]
async fn connect_tunnel_to_tcp_app() {
    let app = tcp_echo().await;
    let server = server_proxy("db", 3306, app, Protocol::Tcp).await;
    let client = client_for("mysql", 3306, Protocol::Tcp, server.inbound, None).await;

    let tcp = TcpStream::connect(client.outbound).await.unwrap();
    let (mut send, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn.with_upgrades());
    let req = Request::builder()
        .method(Method::CONNECT)
        .uri("mysql:3306")
        .header("host", "mysql:3306")
        .body(Empty::new())
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut io = TokioIo::new(hyper::upgrade::on(resp).await.unwrap());
    for msg in [&b"hello"[..], b"over the mesh"] {
        io.write_all(msg).await.unwrap();
        let mut buf = vec![0; msg.len()];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, msg);
    }

    // CONNECT to an authority nothing routes: 404 NR.
    let tcp = TcpStream::connect(client.outbound).await.unwrap();
    let (mut send, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn.with_upgrades());
    let req = Request::builder()
        .method(Method::CONNECT)
        .uri("redis:6379")
        .body(Empty::new())
        .unwrap();
    let r = Reply::read(send.send_request(req).await.unwrap()).await;
    assert_eq!((r.status, r.flag()), (StatusCode::NOT_FOUND, "NR"));
}

#[tokio::test(start_paused = true)]
async fn route_timeout_is_504_ut() {
    // The app never answers; on the paused clock the 3s timeout fires as soon as
    // everything is idle, without waiting 3 real seconds.
    let app = echo_app("slow", None).await;
    let server = server_proxy("server", 9080, app, Protocol::Http).await;
    let action = RouteAction::Forward(Forward {
        clusters: vec![WeightedCluster {
            cluster: "up".into(),
            weight: 1,
            ..WeightedCluster::default()
        }],
        timeout: Some(mesh_api::common::Duration::from_std(
            std::time::Duration::from_secs(3),
        )),
        ..Default::default()
    });
    let client = client_for("slow", 9080, Protocol::Http, server.inbound, Some(action)).await;
    let mut c = H1::connect(client.outbound).await;
    let r = c.get("http://slow:9080/hang", &[]).await;
    assert_eq!((r.status, r.flag()), (StatusCode::GATEWAY_TIMEOUT, "UT"));
    let r = c.get("http://slow:9080/fine", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn inbound_unknown_port_is_404_nr() {
    let app = echo_app("two", None).await;
    let server = start_proxy(ProxyOptions::local("server")).await;
    let ports = Listeners {
        inbound: vec![
            mesh_api::proxy::InboundPort {
                port: 80,
                app_port: app.port(),
                protocol: Protocol::Http,
                ..Default::default()
            },
            mesh_api::proxy::InboundPort {
                port: 81,
                app_port: app.port(),
                protocol: Protocol::Http,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    apply(&server.config, "listeners", "1", &ports);
    let mut c = H1::connect(server.inbound).await;
    let r = c.get("/x", &[("host", "two:82")]).await;
    assert_eq!((r.status, r.flag()), (StatusCode::NOT_FOUND, "NR"));
    let r = c.get("/x", &[("host", "two")]).await;
    assert_eq!(r.body, "name=two method=GET path=/x host=two");
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let (arrived_tx, mut arrived) = mpsc::channel(1);
    let release = Arc::new(Notify::new());
    let gate = Gate {
        arrived: arrived_tx,
        release: release.clone(),
    };
    let app = echo_app("gated", Some(gate)).await;
    let server = server_proxy("server", 9080, app, Protocol::Http).await;

    let bound = Proxy::new(ProxyOptions::local("client"))
        .bind()
        .await
        .unwrap();
    let outbound = bound.outbound_addr();
    let c = bound.config();
    apply(&c, "listeners", "1", &Listeners::default());
    apply(
        &c,
        "clusters",
        "1",
        &vec![cluster("up", 9080, Protocol::Http)],
    );
    apply(
        &c,
        "endpoints",
        "1",
        &vec![members("up", &[server.inbound])],
    );
    apply(
        &c,
        "routes",
        "1",
        &routes(vec![vhost(
            "gated",
            9080,
            vec![route("r", vec![], forward(&[("up", 1)]))],
        )]),
    );
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let running = tokio::spawn(bound.run(async {
        let _ = stop_rx.await;
    }));

    let mut h = H1::connect(outbound).await;
    let in_flight = tokio::spawn(async move { h.get("http://gated:9080/gate", &[]).await });
    arrived.recv().await.unwrap();
    stop_tx.send(()).unwrap();
    // The listener stops accepting once shutdown starts.
    let refused = loop {
        match TcpStream::connect(outbound).await {
            Err(_) => break true,
            Ok(_) => tokio::task::yield_now().await,
        }
    };
    assert!(refused);
    assert!(!running.is_finished(), "a request is still in flight");
    release.notify_one();
    let r = in_flight.await.unwrap();
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, "gated released")
    );
    running.await.unwrap().unwrap();
}

/// A WebSocket-style app: answers an upgrade with 101, then echoes raw bytes
/// on the upgraded connection.
async fn upgrade_app() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    |mut req: Request<hyper::body::Incoming>| async move {
                        let on = hyper::upgrade::on(&mut req);
                        tokio::spawn(async move {
                            let mut io = TokioIo::new(on.await.unwrap());
                            let mut buf = [0u8; 1024];
                            loop {
                                match io.read(&mut buf).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(n) => io.write_all(&buf[..n]).await.unwrap(),
                                }
                            }
                        });
                        let resp = http::Response::builder()
                            .status(StatusCode::SWITCHING_PROTOCOLS)
                            .header("upgrade", "websocket")
                            .header("connection", "upgrade")
                            .header("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
                            .body(Empty::<Bytes>::new())
                            .unwrap();
                        Ok::<_, std::convert::Infallible>(resp)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn websocket_upgrade_through_two_sidecars() {
    let app = upgrade_app().await;
    let server = server_proxy("server", 8080, app, Protocol::Http).await;
    let client = client_for("chat", 8080, Protocol::Http, server.inbound, None).await;
    let mut s = TcpStream::connect(client.outbound).await.unwrap();
    s.write_all(
        b"GET http://chat:8080/ws HTTP/1.1\r\nHost: chat:8080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1);
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    // The upgraded connection carries bytes both ways.
    for msg in [&b"hello"[..], b"world, again"] {
        s.write_all(msg).await.unwrap();
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(got, msg);
    }
}
