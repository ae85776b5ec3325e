//! Mutual TLS between real sidecars: a client sidecar originates mTLS to the
//! server sidecar's inbound listener (what a wiretap between them sees is TLS),
//! STRICT refuses plaintext, PERMISSIVE accepts both, and a peer from another
//! CA or with another identity is refused.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::*;
use http::StatusCode;
use mesh_api::proxy::{Endpoint, InboundMtls, InboundPort, Listeners, Protocol, ProxyConfig};
use mesh_proxy::ProxyOptions;
use mesh_proxy::identity::{Identity, IdentityHandle};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Ca {
    key: KeyPair,
    params: CertificateParams,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { key, params, pem }
    }

    /// A workload identity `spiffe://cluster.local/<path>` signed by this CA.
    fn handle(&self, path: &str) -> IdentityHandle {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::default();
        p.subject_alt_names = vec![SanType::URI(
            format!("spiffe://cluster.local/{path}")
                .as_str()
                .try_into()
                .unwrap(),
        )];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = p
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        let id = Identity::from_pem(&[cert.pem()], std::slice::from_ref(&self.pem), &key).unwrap();
        let h = IdentityHandle::new();
        h.set(id);
        h
    }
}

/// A TCP relay that records what goes from the client side to the server side.
async fn wiretap(to: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<u8>>>) {
    let (addr, seen, _) = wiretap_counting(to).await;
    (addr, seen)
}

type Counter = Arc<std::sync::atomic::AtomicUsize>;

/// A wiretap that also counts the connections it relays.
async fn wiretap_counting(to: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<u8>>>, Counter) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let conns = Counter::default();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let s2 = seen.clone();
    let c2 = conns.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut down, _)) = l.accept().await else {
                return;
            };
            c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let seen = s2.clone();
            tokio::spawn(async move {
                let Ok(mut up) = TcpStream::connect(to).await else {
                    return;
                };
                let (mut dr, mut dw) = down.split();
                let (mut ur, mut uw) = up.split();
                let c2s = async {
                    let mut buf = [0u8; 4096];
                    loop {
                        match dr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                seen.lock().unwrap().extend_from_slice(&buf[..n]);
                                if uw.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                };
                let s2c = tokio::io::copy(&mut ur, &mut dw);
                let _ = tokio::join!(c2s, s2c);
            });
        }
    });
    (addr, seen, conns)
}

/// The server sidecar for `app` with `mode` on port 9080.
async fn server(app: SocketAddr, identity: IdentityHandle, mode: InboundMtls) -> TestProxy {
    let mut opts = ProxyOptions::local("reviews");
    opts.identity = identity;
    let p = start_proxy(opts).await;
    let cfg = ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port: 9080,
                app_port: app.port(),
                protocol: Protocol::Http,
                mtls: mode,
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    p.config.apply_all("1", &cfg).unwrap();
    p
}

/// A client sidecar routing `reviews:9080` to `endpoint`, expecting the peer
/// identity `peer` (none: plaintext).
async fn client(identity: IdentityHandle, endpoint: SocketAddr, peer: Option<&str>) -> TestProxy {
    client_with(identity, endpoint, peer, Default::default()).await
}

async fn client_with(
    identity: IdentityHandle,
    endpoint: SocketAddr,
    peer: Option<&str>,
    limits: mesh_api::proxy::ConnectionLimits,
) -> TestProxy {
    let mut opts = ProxyOptions::local("client");
    opts.identity = identity;
    let p = start_proxy(opts).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    let mut cl = cluster("reviews", 9080, Protocol::Http);
    cl.limits = limits;
    apply(c, "clusters", "1", &vec![cl]);
    let eps = vec![mesh_api::proxy::ClusterEndpoints {
        cluster: "reviews".into(),
        endpoints: vec![Endpoint {
            address: endpoint.to_string(),
            proxy_id: "reviews".into(),
            weight: 1,
            identity: peer.map(str::to_owned),
            ..Default::default()
        }],
    }];
    apply(c, "endpoints", "1", &eps);
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost(
            "reviews",
            9080,
            vec![route("r", vec![], forward(&[("reviews", 1)]))],
        )]),
    );
    p
}

#[tokio::test]
async fn strict_mtls_between_sidecars() {
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let srv = server(app, ca.handle("ns/default/sa/reviews"), InboundMtls::Strict).await;
    let (tap, seen) = wiretap(srv.inbound).await;
    let cli = client(
        ca.handle("ns/default/sa/client"),
        tap,
        Some("ns/default/sa/reviews"),
    )
    .await;

    let mut h = H1::connect(cli.outbound).await;
    for _ in 0..3 {
        let r = h.get("http://reviews:9080/books", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.starts_with("name=reviews"), "{}", r.body);
    }
    let wire = seen.lock().unwrap().clone();
    assert_eq!(
        wire.first(),
        Some(&0x16),
        "the hop starts with a TLS handshake record"
    );
    assert!(
        !wire.windows(6).any(|w| w == b"/books"),
        "the request path never crosses the wire in the clear"
    );

    // Plaintext straight to the STRICT inbound listener is refused.
    let mut s = TcpStream::connect(srv.inbound).await.unwrap();
    let _ = s
        .write_all(b"GET /books HTTP/1.1\r\nHost: reviews:9080\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    assert_eq!(
        s.read(&mut buf).await.unwrap_or(0),
        0,
        "connection closed without an answer"
    );
}

#[tokio::test]
async fn permissive_accepts_both() {
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let srv = server(
        app,
        ca.handle("ns/default/sa/reviews"),
        InboundMtls::Permissive,
    )
    .await;
    let mtls = client(
        ca.handle("ns/default/sa/client"),
        srv.inbound,
        Some("ns/default/sa/reviews"),
    )
    .await;
    let plain = client(IdentityHandle::disabled(), srv.inbound, None).await;
    for c in [&mtls, &plain] {
        let r = H1::connect(c.outbound)
            .await
            .get("http://reviews:9080/x", &[])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}

#[tokio::test]
async fn other_ca_or_other_identity_is_refused() {
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let srv = server(app, ca.handle("ns/default/sa/reviews"), InboundMtls::Strict).await;
    // A client whose certificate comes from another CA.
    let rogue = Ca::new("rogue root");
    let c = client(
        rogue.handle("ns/default/sa/client"),
        srv.inbound,
        Some("ns/default/sa/reviews"),
    )
    .await;
    let r = H1::connect(c.outbound)
        .await
        .get("http://reviews:9080/x", &[])
        .await;
    assert_eq!(
        (r.status, r.flag()),
        (StatusCode::SERVICE_UNAVAILABLE, "UF")
    );
    // A client that expects another identity than the server has.
    let c = client(
        ca.handle("ns/default/sa/client"),
        srv.inbound,
        Some("ns/default/sa/ratings"),
    )
    .await;
    let r = H1::connect(c.outbound)
        .await
        .get("http://reviews:9080/x", &[])
        .await;
    assert_eq!(
        (r.status, r.flag()),
        (StatusCode::SERVICE_UNAVAILABLE, "UF")
    );
}

#[tokio::test]
async fn max_requests_per_connection_replaces_the_mesh_connection() {
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let srv = server(app, ca.handle("ns/default/sa/reviews"), InboundMtls::Strict).await;
    let (tap, _, conns) = wiretap_counting(srv.inbound).await;
    let limits = mesh_api::proxy::ConnectionLimits {
        max_requests_per_connection: Some(2),
        ..Default::default()
    };
    let cli = client_with(
        ca.handle("ns/default/sa/client"),
        tap,
        Some("ns/default/sa/reviews"),
        limits,
    )
    .await;
    let mut h = H1::connect(cli.outbound).await;
    for _ in 0..6 {
        assert_eq!(
            h.get("http://reviews:9080/x", &[]).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        conns.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "six requests, two per mutual-TLS connection"
    );
}
