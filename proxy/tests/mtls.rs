//! Mutual TLS between real sidecars: a client sidecar originates mTLS to the
//! server sidecar's inbound listener (what a wiretap between them sees is TLS),
//! STRICT refuses plaintext, PERMISSIVE accepts both, and a peer from another
//! CA or with another identity is refused.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::ca::{Ca, mesh_client, mesh_client_with, mesh_server};
use common::*;
use http::StatusCode;
use mesh_api::proxy::InboundMtls;
use mesh_proxy::identity::IdentityHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

/// A STRICT server sidecar for `app` behind a counting wiretap, and a client
/// sidecar with `limits` that reaches it through the tap: (client, server, the
/// connections the tap has relayed).
async fn tapped_mesh(
    app: SocketAddr,
    limits: mesh_api::proxy::ConnectionLimits,
) -> (TestProxy, TestProxy, Counter) {
    let ca = Ca::new("mesh root");
    let srv = mesh_server(app, ca.handle("ns/default/sa/reviews"), InboundMtls::Strict).await;
    let (tap, _, conns) = wiretap_counting(srv.inbound).await;
    let cli = mesh_client_with(
        ca.handle("ns/default/sa/client"),
        tap,
        Some("ns/default/sa/reviews"),
        limits,
    )
    .await;
    (cli, srv, conns)
}

#[tokio::test]
async fn strict_mtls_between_sidecars() {
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let srv = mesh_server(app, ca.handle("ns/default/sa/reviews"), InboundMtls::Strict).await;
    let (tap, seen) = wiretap(srv.inbound).await;
    let cli = mesh_client(
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
    let srv = mesh_server(
        app,
        ca.handle("ns/default/sa/reviews"),
        InboundMtls::Permissive,
    )
    .await;
    let mtls = mesh_client(
        ca.handle("ns/default/sa/client"),
        srv.inbound,
        Some("ns/default/sa/reviews"),
    )
    .await;
    let plain = mesh_client(IdentityHandle::disabled(), srv.inbound, None).await;
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
    let srv = mesh_server(app, ca.handle("ns/default/sa/reviews"), InboundMtls::Strict).await;
    // A client whose certificate comes from another CA.
    let rogue = Ca::new("rogue root");
    let c = mesh_client(
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
    let c = mesh_client(
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
    let limits = mesh_api::proxy::ConnectionLimits {
        max_requests_per_connection: Some(2),
        ..Default::default()
    };
    let (cli, _srv, conns) = tapped_mesh(echo_app("reviews", None).await, limits).await;
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

/// Large bodies cross a mutual-TLS pair over HTTP/1.1 both ways, whole and
/// in order: a 4 MiB upload with a content-length, echoed back in chunks; the
/// pooled connection between the sidecars then carries the next request.
#[tokio::test]
async fn large_bodies_stream_both_ways_through_a_mutual_tls_pair() {
    use http_body_util::{BodyExt, Full};
    let (cli, _srv, conns) = tapped_mesh(echo_app("reviews", None).await, Default::default()).await;
    let s = TcpStream::connect(cli.outbound).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(s))
        .await
        .unwrap();
    tokio::spawn(conn);
    let upload: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    for _ in 0..2 {
        let req = http::Request::post("http://reviews:9080/echo")
            .header("host", "reviews:9080")
            .body(Full::new(bytes::Bytes::from(upload.clone())))
            .unwrap();
        send.ready().await.unwrap();
        // The app streams its answer as it reads: the sidecars must keep
        // sending the upload while the answer comes, or both sides wait.
        let exchange = async {
            let resp = send.send_request(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.into_body().collect().await.unwrap().to_bytes()
        };
        let body = tokio::time::timeout(std::time::Duration::from_secs(120), exchange)
            .await
            .expect("the exchange completes");
        assert_eq!(body.len(), upload.len());
        assert!(body == upload, "the echoed body differs from the upload");
    }
    assert_eq!(
        conns.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "both exchanges on one pooled connection"
    );
}

/// A root rotation as the control plane drives it, seen by two sidecars with a
/// pooled mutual-TLS connection: a renewal keeps the connection, every phase
/// keeps requests succeeding, and once the old root is gone from the bundles
/// the connection is replaced (a new handshake with the new chain) and a peer
/// from the old root is refused.
#[tokio::test]
async fn root_rotation_keeps_requests_flowing_and_replaces_old_connections() {
    let old = Ca::new("old root");
    let new = Ca::new("new root");
    let (srv_path, cli_path) = ("ns/default/sa/reviews", "ns/default/sa/client");
    let app = echo_app("reviews", None).await;
    let srv_id = old.handle(srv_path);
    let srv = mesh_server(app, srv_id.clone(), InboundMtls::Strict).await;
    let (tap, _, conns) = wiretap_counting(srv.inbound).await;
    let cli_id = old.handle(cli_path);
    let cli = mesh_client(cli_id.clone(), tap, Some(srv_path)).await;
    let mut h = H1::connect(cli.outbound).await;
    let count = || conns.load(std::sync::atomic::Ordering::SeqCst);
    let mut ok = async |what: &str| {
        for _ in 0..3 {
            let r = h.get("http://reviews:9080/x", &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
        }
    };
    ok("before").await;
    assert_eq!(count(), 1);

    // A renewal (same root, same bundle) keeps the pooled connection.
    cli_id.set(old.identity(cli_path, &[&old]));
    srv_id.set(old.identity(srv_path, &[&old]));
    ok("after a renewal").await;
    assert_eq!(count(), 1, "renewal does not break the pooled connection");

    // add-root: both trust both roots; the old root still signs.
    srv_id.set(old.identity(srv_path, &[&old, &new]));
    ok("server has the new bundle").await;
    cli_id.set(old.identity(cli_path, &[&old, &new]));
    ok("add-root").await;
    // reissue: one side at a time gets a certificate from the new root.
    srv_id.set(new.identity(srv_path, &[&old, &new]));
    ok("server reissued").await;
    cli_id.set(new.identity(cli_path, &[&old, &new]));
    ok("reissue").await;
    // remove-old: only the new root is trusted.
    srv_id.set(new.identity(srv_path, &[&new]));
    ok("server dropped the old root").await;
    let before = count();
    cli_id.set(new.identity(cli_path, &[&new]));
    ok("remove-old").await;
    assert_eq!(
        count(),
        before + 1,
        "the client's bundle changed: its pooled connection is replaced by a new handshake"
    );
    ok("on the new connection").await;
    assert_eq!(count(), before + 1, "and that one is kept");

    // A peer still holding a certificate from the old root is refused now.
    let stale = mesh_client(old.handle(cli_path), srv.inbound, Some(srv_path)).await;
    let r = H1::connect(stale.outbound)
        .await
        .get("http://reviews:9080/x", &[])
        .await;
    assert_eq!(
        (r.status, r.flag()),
        (StatusCode::SERVICE_UNAVAILABLE, "UF")
    );
}

/// `concurrent` requests held open by the app at once, then `then` more one
/// after another, from a client sidecar with `limits` to a STRICT server
/// sidecar: how many connections crossed between the sidecars.
async fn mesh_connections(
    limits: mesh_api::proxy::ConnectionLimits,
    concurrent: usize,
    then: usize,
) -> usize {
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::channel(concurrent);
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = Gate {
        arrived: arrived_tx,
        release: release.clone(),
    };
    let (cli, _srv, conns) = tapped_mesh(echo_app("reviews", Some(gate)).await, limits).await;
    let mut held = Vec::new();
    for _ in 0..concurrent {
        let mut h = H1::connect(cli.outbound).await;
        held.push(tokio::spawn(async move {
            h.get("http://reviews:9080/gate", &[]).await
        }));
    }
    for _ in 0..concurrent {
        arrived.recv().await.unwrap();
    }
    release.notify_waiters();
    for r in held {
        let r = r.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body, "reviews released");
    }
    let mut h = H1::connect(cli.outbound).await;
    for _ in 0..then {
        let r = h.get("http://reviews:9080/books", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("host=reviews:9080"), "{}", r.body);
    }
    conns.load(std::sync::atomic::Ordering::SeqCst)
}

/// Istio's default (`h2UpgradePolicy` unset): HTTP/1.1 stays HTTP/1.1 between
/// the sidecars, one request at a time per keep-alive connection, and the
/// connections are reused. `UPGRADE` carries the same requests as streams of
/// one HTTP/2 connection.
#[tokio::test]
async fn http1_stays_http1_between_sidecars_unless_upgraded() {
    let default = mesh_connections(Default::default(), 4, 6).await;
    assert_eq!(
        default, 4,
        "four requests at once took four keep-alive connections, and the six after them reused one"
    );
    let upgraded = mesh_connections(
        mesh_api::proxy::ConnectionLimits {
            h2_upgrade: true,
            ..Default::default()
        },
        4,
        6,
    )
    .await;
    assert_eq!(
        upgraded, 1,
        "h2UpgradePolicy UPGRADE: one multiplexed connection"
    );
}

/// A peer that opens a connection to the inbound listener and says nothing, or
/// starts a TLS handshake and stalls, is dropped 30 s in (paused clock): it
/// does not hold a connection and a task for ever.
#[tokio::test(start_paused = true)]
async fn a_silent_peer_or_a_stalled_handshake_is_dropped() {
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let srv = mesh_server(
        app,
        ca.handle("ns/default/sa/reviews"),
        InboundMtls::Permissive,
    )
    .await;
    // Nothing; then the first bytes of a ClientHello (a record header).
    for sent in [&b""[..], &[0x16, 0x03, 0x01, 0x00][..]] {
        let mut c = TcpStream::connect(srv.inbound).await.unwrap();
        c.write_all(sent).await.unwrap();
        let start = tokio::time::Instant::now();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(std::time::Duration::from_secs(90), c.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(0) | Err(_))), "{sent:?}: {read:?}");
        let waited = start.elapsed().as_secs();
        assert!(
            (30..60).contains(&waited),
            "{sent:?}: closed after {waited} s"
        );
    }
}

/// A peer that accepts the TCP connection and never answers the ClientHello
/// fails the request within the connect timeout (10 s by default; paused
/// clock) instead of holding it.
#[tokio::test(start_paused = true)]
async fn a_peer_that_never_answers_the_handshake_fails_within_the_connect_timeout() {
    let ca = Ca::new("mesh root");
    let mute = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = mute.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = mute.accept().await {
            open.push(s);
        }
    });
    let c = mesh_client(
        ca.handle("ns/default/sa/client"),
        addr,
        Some("ns/default/sa/reviews"),
    )
    .await;
    let start = tokio::time::Instant::now();
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        H1::connect(c.outbound)
            .await
            .get("http://reviews:9080/x", &[]),
    )
    .await
    .expect("answered within 60 s");
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    let waited = start.elapsed().as_secs();
    assert!((10..30).contains(&waited), "answered after {waited} s");
    held.abort();
}
