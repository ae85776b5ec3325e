//! Real handshakes over loopback with tokio-rustls.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::*;
use crate::identity::testca::TestCa;

const SERVER: &str = "spiffe://cluster.local/ns/shop/sa/reviews";
const CLIENT: &str = "spiffe://cluster.local/ns/shop/sa/productpage";

/// What the server saw of its one connection.
#[derive(Debug)]
struct Accepted {
    peer: Option<String>,
    alpn: Option<Vec<u8>>,
    kind: Option<rustls::HandshakeKind>,
}

async fn serve_once(
    config: Arc<rustls::ServerConfig>,
) -> (SocketAddr, JoinHandle<std::io::Result<Accepted>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = TlsAcceptor::from(config).accept(tcp).await?;
        let (_, conn) = tls.get_ref();
        let accepted = Accepted {
            peer: peer_spiffe_id(conn),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            kind: conn.handshake_kind(),
        };
        let mut buf = [0u8; 5];
        tls.read_exact(&mut buf).await?;
        tls.write_all(b"pong\n").await?;
        tls.shutdown().await?;
        Ok(accepted)
    });
    (addr, task)
}

async fn call(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> std::io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    let mut tls = TlsConnector::from(config).connect(name, tcp).await?;
    tls.write_all(b"ping\n").await?;
    let mut out = String::new();
    tls.read_to_string(&mut out).await?;
    Ok(out)
}

fn client(id: &crate::identity::Identity, expect: &str) -> Arc<rustls::ClientConfig> {
    Arc::new(client_config(id, &[expect.to_owned()], &[ALPN_ISTIO, ALPN_H2]).expect("client"))
}

#[tokio::test]
async fn the_expected_identity_passes_both_ways() {
    let ca = TestCa::new("Mesh Root");
    let server = ca.identity(SERVER);
    let (addr, accepted) = serve_once(Arc::new(server_config(&server).expect("server"))).await;
    let answer = call(addr, client(&ca.identity(CLIENT), SERVER))
        .await
        .expect("handshake");
    assert_eq!(answer, "pong\n");
    let seen = accepted.await.expect("task").expect("server side");
    assert_eq!(
        seen.peer.as_deref(),
        Some(CLIENT),
        "the server learns the client's identity"
    );
    assert_eq!(
        seen.alpn.as_deref(),
        Some(ALPN_ISTIO),
        "the mesh ALPN is negotiated"
    );
}

#[tokio::test]
async fn a_server_with_another_spiffe_id_is_refused() {
    let ca = TestCa::new("Mesh Root");
    let impostor = ca.identity("spiffe://cluster.local/ns/shop/sa/ratings");
    let (addr, accepted) = serve_once(Arc::new(server_config(&impostor).expect("server"))).await;
    let err = call(addr, client(&ca.identity(CLIENT), SERVER))
        .await
        .expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("sa/ratings") && msg.contains("sa/reviews"),
        "says what it got and wanted: {msg}"
    );
    assert!(
        accepted.await.expect("task").is_err(),
        "server sees the alert"
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_both_ways() {
    let mesh = TestCa::new("Mesh Root");
    let other = TestCa::new("Other Root");
    // A server from another CA, to a mesh client.
    let (addr, accepted) = serve_once(Arc::new(
        server_config(&other.identity(SERVER)).expect("server"),
    ))
    .await;
    let err = call(addr, client(&mesh.identity(CLIENT), SERVER))
        .await
        .expect_err("unknown issuer");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    let _ = accepted.await;
    // A client from another CA, to a mesh server: the server refuses it.
    let (addr, accepted) = serve_once(Arc::new(
        server_config(&mesh.identity(SERVER)).expect("server"),
    ))
    .await;
    // It trusts the mesh root, so only the server's check is in play.
    let mut foreign = other.identity(CLIENT);
    foreign.trust_bundle = mesh.identity(SERVER).trust_bundle.clone();
    let foreign_client = client_config(&foreign, &[SERVER.into()], &[ALPN_ISTIO]).expect("client");
    let _ = call(addr, Arc::new(foreign_client)).await;
    let err = accepted.await.expect("task").expect_err("server refuses");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
}

#[tokio::test]
async fn plaintext_and_certificate_less_clients_are_refused() {
    let ca = TestCa::new("Mesh Root");
    let config = Arc::new(server_config(&ca.identity(SERVER)).expect("server"));
    let (addr, accepted) = serve_once(config.clone()).await;
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: reviews\r\n\r\n")
        .await
        .expect("write");
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    assert!(!out.starts_with(b"HTTP/"), "no HTTP answer to plaintext");
    assert!(accepted.await.expect("task").is_err());

    // TLS, but no client certificate: mutual TLS is required.
    let (addr, accepted) = serve_once(config).await;
    let roots = ca.identity(CLIENT).trust_bundle.clone();
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r).expect("root");
    }
    let anonymous = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(SpiffeVerifier::new(
            store.roots,
            vec![SERVER.into()],
            provider().signature_verification_algorithms,
        )))
        .with_no_client_auth();
    let _ = call(addr, Arc::new(anonymous)).await;
    let err = accepted.await.expect("task").expect_err("refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn configs_follow_the_rotating_identity() {
    let ca = TestCa::new("Mesh Root");
    let handle = crate::identity::IdentityHandle::new();
    let configs = TlsConfigs::new(handle.clone());
    assert!(
        configs.server().expect("ok").is_none(),
        "nothing before the first cert"
    );
    handle.set(ca.identity(SERVER));
    let first = configs.server().expect("ok").expect("built");
    let again = configs.server().expect("ok").expect("built");
    assert!(Arc::ptr_eq(&first, &again), "built once per identity");
    let c1 = configs.client(SERVER).expect("ok").expect("client");
    assert!(Arc::ptr_eq(
        &c1,
        &configs.client(SERVER).expect("ok").expect("client")
    ));

    handle.set(ca.identity(SERVER));
    let serial = handle.current().expect("cert").serial.clone();
    let rotated = configs.server().expect("ok").expect("built");
    assert!(!Arc::ptr_eq(&first, &rotated), "rebuilt on rotation");
    // The handshake presents the new certificate.
    let (addr, accepted) = serve_once(rotated).await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let client_cfg = client(&ca.identity(CLIENT), SERVER);
    let tls = TlsConnector::from(client_cfg)
        .connect(ServerName::IpAddress(addr.ip().into()), tcp)
        .await
        .expect("handshake");
    let presented = tls.get_ref().1.peer_certificates().expect("certs")[0].clone();
    let info = mesh_api::proxy::CertInfo::from_der(&presented).expect("x509");
    assert_eq!(info.serial, serial);
    drop(tls);
    let _ = accepted.await;
}

/// A second connection between the same two sidecars resumes the first's TLS
/// session (no certificate exchange or signatures), and the server still knows
/// the client's identity: it is kept with the session.
#[tokio::test]
async fn a_second_connection_resumes_and_keeps_the_peer_identity() {
    let ca = TestCa::new("Mesh Root");
    let server = Arc::new(server_config(&ca.identity(SERVER)).expect("server"));
    let client = client(&ca.identity(CLIENT), SERVER);
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let (addr, accepted) = serve_once(server.clone()).await;
        let answer = call(addr, client.clone()).await.expect("handshake");
        assert_eq!(answer, "pong\n");
        let seen = accepted.await.expect("task").expect("server side");
        assert_eq!(seen.peer.as_deref(), Some(CLIENT));
        kinds.push(seen.kind);
    }
    assert_eq!(
        kinds,
        [
            Some(rustls::HandshakeKind::Full),
            Some(rustls::HandshakeKind::Resumed)
        ]
    );
}
