//! TCP services end to end: `CONNECT` through the client sidecar, VirtualService
//! `tcp` weights across subsets, and `tls` routes that pass TLS through by SNI,
//! with real TCP apps behind real server sidecars.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use common::*;
use mesh_api::proxy::{Listeners, Protocol, RouteConfig, TcpRoute, TcpService, WeightedCluster};
use mesh_proxy::ProxyOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP app that says its name on connect, then echoes.
async fn named_echo(name: &'static str) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _ = s.write_all(format!("{name}\n").as_bytes()).await;
                let mut buf = [0u8; 4096];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

fn weighted(to: &[(&str, u32)]) -> Vec<WeightedCluster> {
    to.iter()
        .map(|(c, w)| WeightedCluster {
            cluster: (*c).into(),
            weight: *w,
            ..WeightedCluster::default()
        })
        .collect()
}

fn tcp_route(name: &str, sni: &[&str], to: &[(&str, u32)]) -> TcpRoute {
    TcpRoute {
        name: name.into(),
        sni_hosts: sni.iter().map(|s| (*s).to_string()).collect(),
        clusters: weighted(to),
        origin: None,
    }
}

/// A client sidecar with clusters `a` and `b` (each one server sidecar in front
/// of a named echo app) and one TCP service `host:port` with `routes`.
async fn mesh(host: &str, port: u16, routes: Vec<TcpRoute>) -> TestProxy {
    let a = server_proxy("a", port, named_echo("a").await, Protocol::Tcp).await;
    let b = server_proxy("b", port, named_echo("b").await, Protocol::Tcp).await;
    let p = start_proxy(ProxyOptions::local("client")).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    apply(
        c,
        "clusters",
        "1",
        &vec![
            cluster("a", port, Protocol::Tcp),
            cluster("b", port, Protocol::Tcp),
        ],
    );
    apply(
        c,
        "endpoints",
        "1",
        &vec![members("a", &[a.inbound]), members("b", &[b.inbound])],
    );
    let rc = RouteConfig {
        tcp_services: vec![TcpService {
            name: format!("{host}:{port}"),
            domains: vec![host.into(), format!("{host}:{port}")],
            port,
            routes,
        }],
        ..RouteConfig::default()
    };
    apply(c, "routes", "1", &rc);
    p
}

/// Opens a tunnel with CONNECT through the sidecar; the raw stream after `200`.
async fn tunnel(outbound: SocketAddr, authority: &str) -> TcpStream {
    let mut s = TcpStream::connect(outbound).await.unwrap();
    s.write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "tunnel closed early");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    s
}

async fn read_line(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while s.read(&mut byte).await.unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap()
}

#[tokio::test]
async fn tcp_routes_split_connections_by_weight() {
    let client = mesh(
        "db",
        3306,
        vec![tcp_route("split", &[], &[("a", 75), ("b", 25)])],
    )
    .await;
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..40 {
        let mut s = tunnel(client.outbound, "db:3306").await;
        let who = read_line(&mut s).await;
        // Bytes go both ways untouched.
        s.write_all(b"ping\n").await.unwrap();
        assert_eq!(read_line(&mut s).await, "ping");
        *counts.entry(who).or_insert(0) += 1;
    }
    assert_eq!(
        counts,
        [("a".to_string(), 30), ("b".to_string(), 10)].into()
    );
}

#[tokio::test]
async fn tls_routes_pass_tls_through_by_server_name() {
    let client = mesh(
        "secure",
        443,
        vec![
            tcp_route("a", &["a.example.com"], &[("a", 1)]),
            tcp_route("b", &["*.b.example.com"], &[("b", 1)]),
        ],
    )
    .await;
    for (sni, want) in [
        ("a.example.com", "a"),
        ("x.b.example.com", "b"),
        ("A.EXAMPLE.COM", "a"),
    ] {
        let mut s = tunnel(client.outbound, "secure:443").await;
        let hello = client_hello(sni);
        s.write_all(&hello).await.unwrap();
        assert_eq!(read_line(&mut s).await, want, "SNI {sni}");
        // The ClientHello reached the app byte for byte: no termination.
        let mut echoed = vec![0u8; hello.len()];
        s.read_exact(&mut echoed).await.unwrap();
        assert_eq!(echoed, hello);
    }
    // No route for an unknown name: the tunnel is closed.
    let mut s = tunnel(client.outbound, "secure:443").await;
    s.write_all(&client_hello("other.example.com"))
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).await.unwrap_or(0), 0);
}

/// A minimal TLS 1.3 ClientHello with a server name.
fn client_hello(sni: &str) -> Vec<u8> {
    let n = sni.len() as u16;
    let mut ext = Vec::new();
    ext.extend_from_slice(&0u16.to_be_bytes());
    ext.extend_from_slice(&(n + 5).to_be_bytes());
    ext.extend_from_slice(&(n + 3).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&n.to_be_bytes());
    ext.extend_from_slice(sni.as_bytes());
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7u8; 32]);
    body.push(0);
    body.extend_from_slice(&2u16.to_be_bytes());
    body.extend_from_slice(&[0x13, 0x01]);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let l = body.len();
    let mut hs = vec![1, (l >> 16) as u8, (l >> 8) as u8, l as u8];
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}
