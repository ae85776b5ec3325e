//! Egress end to end through the real `meshctl`: a ServiceEntry for
//! `api.external.test` (STATIC, a TLS server on loopback with its own CA) and a
//! DestinationRule SIMPLE with that CA's file; an app's plain HTTP through its
//! sidecar reaches the server over TLS, on one kept-alive connection.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use common::mesh::Mesh;
use http_body_util::{BodyExt, Empty, Full};

/// A TLS server for `api.external.test` (certificate from a CA of its own,
/// written to `ca_file`) answering `{"version":"external","sni":..}`; counts
/// completed handshakes.
async fn tls_server(ca_file: &std::path::Path) -> (u16, Arc<AtomicUsize>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls_pki_types::pem::PemObject;
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    std::fs::write(ca_file, ca.self_signed(&ca_key).expect("ca").pem()).expect("write ca");
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["api.external.test".to_owned()])
        .expect("params")
        .signed_by(&key, &Issuer::from_params(&ca, &ca_key))
        .expect("leaf");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls_pki_types::PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
            .expect("key pem"),
    )
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let sni = tls.get_ref().1.server_name().unwrap_or("-").to_owned();
                let svc = hyper::service::service_fn(move |_req| {
                    let body = format!(r#"{{"version":"external","sni":"{sni}"}}"#);
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (port, handshakes)
}

/// `n` GETs of `url` through the sidecar at `proxy` on one keep-alive
/// connection: the answers' bodies (or statuses).
async fn calls(proxy: &str, url: &str, n: usize) -> Vec<String> {
    let stream = tokio::net::TcpStream::connect(proxy)
        .await
        .expect("connect to sidecar");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let uri: http::Uri = url.parse().expect("url");
    let mut out = Vec::new();
    for _ in 0..n {
        let req = http::Request::get(uri.clone())
            .header(http::header::HOST, uri.authority().expect("host").as_str())
            .body(Empty::<Bytes>::new())
            .expect("request");
        sender.ready().await.expect("connection ready");
        let resp = sender.send_request(req).await.expect("response");
        let status = resp.status();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        out.push(if status.is_success() {
            String::from_utf8_lossy(&body).into_owned()
        } else {
            format!("status {}", status.as_u16())
        });
    }
    out
}

#[test]
fn service_entry_with_simple_tls_origination() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut mesh = Mesh::new();
    let ca_file = mesh.home.path().join("external-ca.pem");
    let (port, handshakes) = rt.block_on(tls_server(&ca_file));
    mesh.ok(&["install", "-y"]);
    mesh.run("client", "v1", &[]);
    let config = mesh.home.path().join("egress.yaml");
    std::fs::write(
        &config,
        format!(
            "apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: external-api, namespace: default}}
spec:
  hosts: [api.external.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - {{number: 80, name: http, protocol: HTTP, targetPort: {port}}}
  endpoints:
  - address: 127.0.0.1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: external-api, namespace: default}}
spec:
  host: api.external.test
  trafficPolicy:
    portLevelSettings:
    - port: {{number: 80}}
      tls:
        mode: SIMPLE
        caCertificates: {}
",
            ca_file.display()
        ),
    )
    .expect("write config");
    mesh.ok(&["apply", "-f", &config.display().to_string()]);
    let mut proxy = String::new();
    mesh.wait_for("the client synced with the egress config", |m| {
        let Some(w) = m.json(&["get", "workloads"]).as_array().and_then(|w| {
            w.iter()
                .find(|w| w["service"] == "client" && w["appReady"] == true)
                .cloned()
        }) else {
            return false;
        };
        proxy = w["outboundAddress"].as_str().unwrap_or_default().to_owned();
        m.all_synced(1)
            && m.ok(&[
                "proxy-config",
                "clusters",
                w["proxyId"].as_str().unwrap_or(""),
            ])
            .contains("SIMPLE sni=api.external.test")
    });
    let answers = rt.block_on(calls(&proxy, "http://api.external.test/status", 5));
    assert_eq!(
        answers,
        vec![r#"{"version":"external","sni":"api.external.test"}"#.to_owned(); 5]
    );
    assert_eq!(
        handshakes.load(Ordering::SeqCst),
        1,
        "five requests on one kept-alive TLS connection"
    );
}
