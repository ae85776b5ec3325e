//! TLS origination to services outside the mesh (DestinationRule SIMPLE and
//! MUTUAL): the app sends plain HTTP to `api.external.test` through its
//! sidecar, which speaks TLS to a real TLS server on loopback (tokio-rustls,
//! its own test CA) that records every handshake it completes.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::ca::Ca;
use common::{H1, TestProxy, apply, forward, route, routes, start_proxy, vhost};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_api::proxy::{
    Cluster, ClusterEndpoints, ClusterTls, Endpoint, Listeners, Protocol, TcpRoute, TcpService,
    TlsOrigination, WeightedCluster,
};
use mesh_proxy::ProxyOptions;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HOST: &str = "api.external.test";
const CLUSTER: &str = "outbound|80||api.external.test";

/// What the external server saw.
#[derive(Default)]
struct Seen {
    handshakes: AtomicUsize,
    sni: Mutex<Vec<Option<String>>>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server for `api.external.test` with a certificate from `ca`, offering
/// `alpn`; with `client_ca`, it requires a client certificate from that CA.
/// It answers `sni=.. alpn=.. version=.. host=.. client=<CN or ->`.
async fn tls_server(ca: &Ca, alpn: &[&[u8]], client_ca: Option<&Ca>) -> (SocketAddr, Arc<Seen>) {
    let (cert, key) = ca.leaf("api server", &[HOST]);
    let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(cca) => {
            let mut roots = RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_slice(cca.pem().as_bytes()).unwrap())
                .unwrap();
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(v)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let seen = s2.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let (_, conn) = tls.get_ref();
                let sni = conn.server_name().map(str::to_owned);
                let alpn = conn
                    .alpn_protocol()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .unwrap_or_else(|| "-".into());
                let client = conn
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| {
                        let (_, x) = x509_parser::parse_x509_certificate(c).ok()?;
                        let cn = x.subject().iter_common_name().next()?;
                        cn.as_str().ok().map(str::to_owned)
                    })
                    .unwrap_or_else(|| "-".into());
                seen.handshakes.fetch_add(1, Ordering::SeqCst);
                seen.sni.lock().unwrap().push(sni.clone());
                let svc = service_fn(move |req: Request<Incoming>| {
                    let host = req
                        .headers()
                        .get("host")
                        .and_then(|h| h.to_str().ok())
                        .map(str::to_owned)
                        .or_else(|| req.uri().authority().map(|a| a.to_string()))
                        .unwrap_or_default();
                    let body = format!(
                        "sni={} alpn={alpn} version={:?} host={host} client={client} path={}",
                        sni.as_deref().unwrap_or("-"),
                        req.version(),
                        req.uri().path()
                    );
                    async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body)))) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// Files on the sidecar's host: the CA, and a client certificate and key.
struct Files {
    _dir: tempfile::TempDir,
    ca: String,
    cert: String,
    key: String,
}

fn files(server_ca: &Ca, client_ca: &Ca) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let (cert, key) = client_ca.leaf("egress client", &["client.test"]);
    Files {
        ca: write("ca.pem", server_ca.pem()),
        cert: write("client.pem", &cert),
        key: write("client-key.pem", &key),
        _dir: dir,
    }
}

fn origination(ca: Option<&str>) -> TlsOrigination {
    TlsOrigination {
        origin: "DestinationRule default/external-api trafficPolicy.tls".into(),
        ca_certificates: ca.map(str::to_owned),
        sni: HOST.into(),
        ..TlsOrigination::default()
    }
}

/// A client sidecar routing `api.external.test:80` to `server`, an endpoint
/// outside the mesh, with `tls`/`origination` on the cluster.
async fn client(
    server: SocketAddr,
    protocol: Protocol,
    tls: ClusterTls,
    origination: Option<TlsOrigination>,
) -> TestProxy {
    let p = start_proxy(ProxyOptions::local("client")).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    let cl = Cluster {
        name: CLUSTER.into(),
        service: HOST.into(),
        port: 80,
        protocol,
        tls,
        origination,
        ..Cluster::default()
    };
    apply(c, "clusters", "1", &vec![cl]);
    apply(c, "endpoints", "1", &vec![external(CLUSTER, server)]);
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost(
            HOST,
            80,
            vec![route("default", vec![], forward(&[(CLUSTER, 100)]))],
        )]),
    );
    p
}

fn external(cluster: &str, addr: SocketAddr) -> ClusterEndpoints {
    ClusterEndpoints {
        cluster: cluster.into(),
        endpoints: vec![Endpoint {
            address: addr.to_string(),
            proxy_id: "ServiceEntry default/external-api".into(),
            weight: 1,
            external: true,
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn simple_originates_tls_with_sni_and_keeps_the_connection() {
    let ca = Ca::new("external ca");
    let (server, seen) = tls_server(&ca, &[b"h2", b"http/1.1"], None).await;
    let f = files(&ca, &ca);
    let p = client(
        server,
        Protocol::Http,
        ClusterTls::Simple,
        Some(origination(Some(&f.ca))),
    )
    .await;
    let mut app = H1::connect(p.outbound).await;
    for i in 0..3 {
        let r = app.get(&format!("http://{HOST}/item/{i}"), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        // HTTP ports offer only http/1.1, whatever the server prefers.
        assert_eq!(
            r.body,
            format!(
                "sni={HOST} alpn=http/1.1 version=HTTP/1.1 host={HOST} client=- path=/item/{i}"
            )
        );
    }
    // A second app connection shares the sidecar's pooled TLS connection.
    let mut other = H1::connect(p.outbound).await;
    assert_eq!(
        other.get(&format!("http://{HOST}/"), &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        seen.handshakes.load(Ordering::SeqCst),
        1,
        "one TLS connection, kept alive"
    );
    // A new push of the same settings keeps the pooled connection.
    let cl = Cluster {
        name: CLUSTER.into(),
        service: HOST.into(),
        port: 80,
        tls: ClusterTls::Simple,
        origination: Some(origination(Some(&f.ca))),
        ..Cluster::default()
    };
    apply(&p.config, "clusters", "2", &vec![cl]);
    apply(
        &p.config,
        "endpoints",
        "2",
        &vec![external(CLUSTER, server)],
    );
    assert_eq!(
        app.get(&format!("http://{HOST}/again"), &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        seen.handshakes.load(Ordering::SeqCst),
        1,
        "kept across a push"
    );
    assert_eq!(*seen.sni.lock().unwrap(), [Some(HOST.to_owned())]);
}

#[tokio::test]
async fn server_certificate_from_another_ca_fails_with_uf() {
    let ca = Ca::new("external ca");
    let other = Ca::new("someone else");
    let (server, seen) = tls_server(&other, &[b"http/1.1"], None).await;
    let f = files(&ca, &ca);
    let p = client(
        server,
        Protocol::Http,
        ClusterTls::Simple,
        Some(origination(Some(&f.ca))),
    )
    .await;
    let r = H1::connect(p.outbound)
        .await
        .get(&format!("http://{HOST}/"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.flag(), "UF");
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn subject_alt_names_must_match_the_server_certificate() {
    let ca = Ca::new("external ca");
    let (server, _) = tls_server(&ca, &[b"http/1.1"], None).await;
    let f = files(&ca, &ca);
    let mut o = origination(Some(&f.ca));
    o.subject_alt_names = vec!["billing.external.test".into()];
    let p = client(server, Protocol::Http, ClusterTls::Simple, Some(o.clone())).await;
    let r = H1::connect(p.outbound)
        .await
        .get(&format!("http://{HOST}/"), &[])
        .await;
    assert_eq!(
        (r.status, r.flag()),
        (StatusCode::SERVICE_UNAVAILABLE, "UF")
    );
    // The name the certificate has is accepted, whatever the SNI.
    o.subject_alt_names = vec!["billing.external.test".into(), HOST.into()];
    o.sni = "edge.external.test".into();
    let p = client(server, Protocol::Http, ClusterTls::Simple, Some(o)).await;
    let r = H1::connect(p.outbound)
        .await
        .get(&format!("http://{HOST}/"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.body.starts_with("sni=edge.external.test "), "{}", r.body);
}

#[tokio::test]
async fn mutual_presents_the_client_certificate_from_files() {
    let ca = Ca::new("external ca");
    let client_ca = Ca::new("client ca");
    let (server, seen) = tls_server(&ca, &[b"http/1.1"], Some(&client_ca)).await;
    let f = files(&ca, &client_ca);
    let mut o = origination(Some(&f.ca));
    o.client_certificate = Some(f.cert.clone());
    o.private_key = Some(f.key.clone());
    let p = client(server, Protocol::Http, ClusterTls::Mutual, Some(o)).await;
    let r = H1::connect(p.outbound)
        .await
        .get(&format!("http://{HOST}/"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.body.contains(" client=egress client "), "{}", r.body);
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 1);
    // Without a client certificate (SIMPLE) the server refuses the connection.
    let p = client(
        server,
        Protocol::Http,
        ClusterTls::Simple,
        Some(origination(Some(&f.ca))),
    )
    .await;
    let r = H1::connect(p.outbound)
        .await
        .get(&format!("http://{HOST}/"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{r:?}");
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn http2_ports_negotiate_h2_on_one_connection() {
    let ca = Ca::new("external ca");
    let (server, seen) = tls_server(&ca, &[b"h2", b"http/1.1"], None).await;
    let f = files(&ca, &ca);
    let p = client(
        server,
        Protocol::Http2,
        ClusterTls::Simple,
        Some(origination(Some(&f.ca))),
    )
    .await;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let outbound = p.outbound;
        tasks.push(tokio::spawn(async move {
            H1::connect(outbound)
                .await
                .get(&format!("http://{HOST}/h2/{i}"), &[])
                .await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(
            r.body
                .contains("alpn=h2 version=HTTP/2.0 host=api.external.test"),
            "{}",
            r.body
        );
    }
    assert_eq!(
        seen.handshakes.load(Ordering::SeqCst),
        1,
        "one multiplexed connection"
    );
}

#[tokio::test]
async fn unusable_settings_are_rejected_naming_the_field_and_file() {
    let p = start_proxy(ProxyOptions::local("client")).await;
    let reject = |o: TlsOrigination, tls: ClusterTls| {
        let cl = Cluster {
            name: CLUSTER.into(),
            service: HOST.into(),
            port: 80,
            tls,
            origination: Some(o),
            ..Cluster::default()
        };
        p.config
            .apply("clusters", "1", &serde_json::to_vec(&vec![cl]).unwrap())
            .unwrap_err()
            .to_string()
    };
    let e = reject(origination(Some("/nonexistent/ca.pem")), ClusterTls::Simple);
    assert!(
        e.contains(
            "DestinationRule default/external-api trafficPolicy.tls.caCertificates: cannot read \"/nonexistent/ca.pem\""
        ),
        "{e}"
    );
    let e = reject(origination(None), ClusterTls::Simple);
    assert!(
        e.contains("caCertificates: required to verify the server")
            && e.contains("insecureSkipVerify"),
        "{e}"
    );
    let mut o = origination(None);
    o.credential_name = Some("client-credential".into());
    let e = reject(o, ClusterTls::Mutual);
    assert!(
        e.contains("credentialName \"client-credential\": Kubernetes secrets are not available"),
        "{e}"
    );
    let ca = Ca::new("external ca");
    let f = files(&ca, &ca);
    let mut o = origination(Some(&f.ca));
    o.client_certificate = Some(f.ca.clone());
    o.private_key = Some(f.ca.clone());
    let e = reject(o, ClusterTls::Mutual);
    assert!(e.contains("trafficPolicy.tls.privateKey: "), "{e}");
    assert!(e.contains("holds no PEM private key"), "{e}");
}

#[tokio::test]
async fn insecure_skip_verify_accepts_any_server() {
    let other = Ca::new("someone else");
    let (server, _) = tls_server(&other, &[b"http/1.1"], None).await;
    let mut o = origination(None);
    o.insecure_skip_verify = true;
    let p = client(server, Protocol::Http, ClusterTls::Simple, Some(o)).await;
    let r = H1::connect(p.outbound)
        .await
        .get(&format!("http://{HOST}/"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

/// A sidecar with one external TCP service `api.external.test:443` whose
/// endpoint is `addr`, with the cluster's `tls`/`origination`.
async fn tcp_client(
    addr: SocketAddr,
    tls: ClusterTls,
    origination: Option<TlsOrigination>,
) -> TestProxy {
    let p = start_proxy(ProxyOptions::local("client")).await;
    let c = &p.config;
    let name = "outbound|443||api.external.test";
    apply(c, "listeners", "1", &Listeners::default());
    let cl = Cluster {
        name: name.into(),
        service: HOST.into(),
        port: 443,
        protocol: Protocol::Tcp,
        tls,
        origination,
        ..Cluster::default()
    };
    apply(c, "clusters", "1", &vec![cl]);
    apply(c, "endpoints", "1", &vec![external(name, addr)]);
    let tcp = TcpService {
        name: format!("{HOST}:443"),
        domains: vec![HOST.into(), format!("{HOST}:443")],
        port: 443,
        routes: vec![TcpRoute {
            name: "default".into(),
            sni_hosts: vec![],
            clusters: vec![WeightedCluster {
                cluster: name.into(),
                weight: 100,
                ..WeightedCluster::default()
            }],
            origin: None,
        }],
    };
    apply(
        c,
        "routes",
        "1",
        &mesh_api::proxy::RouteConfig {
            tcp_services: vec![tcp],
            ..Default::default()
        },
    );
    p
}

/// `CONNECT api.external.test:443` through the sidecar: the tunnel once open.
async fn tunnel(p: &TestProxy) -> TcpStream {
    let mut s = TcpStream::connect(p.outbound).await.unwrap();
    s.write_all(format!("CONNECT {HOST}:443 HTTP/1.1\r\nHost: {HOST}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s
}

/// An external TCP port (the app's own TLS, passed through): CONNECT is
/// tunnelled straight to the endpoint, with no sidecar hop.
#[tokio::test]
async fn connect_to_an_external_tcp_port_reaches_the_address_itself() {
    let echo = common::tcp_echo().await;
    let p = tcp_client(echo, ClusterTls::Auto, None).await;
    let mut s = tunnel(&p).await;
    s.write_all(b"raw bytes").await.unwrap();
    let mut got = [0u8; 9];
    s.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"raw bytes");
}

/// A TCP port with SIMPLE: the app's plaintext bytes leave the sidecar in TLS.
#[tokio::test]
async fn tcp_tunnels_get_tls_when_the_cluster_originates_it() {
    let ca = Ca::new("external ca");
    let (server, seen) = tls_server(&ca, &[b"http/1.1"], None).await;
    let f = files(&ca, &ca);
    let p = tcp_client(server, ClusterTls::Simple, Some(origination(Some(&f.ca)))).await;
    let mut s = tunnel(&p).await;
    let req = format!("GET /raw HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // No ALPN on a TCP tunnel: the app's bytes are not known to be HTTP.
    let body = format!("sni={HOST} alpn=- version=HTTP/1.1 host={HOST} client=- path=/raw");
    assert!(answer.ends_with(&body), "{answer}");
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 1);
}
