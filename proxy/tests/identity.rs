//! A sidecar with an identity, through its admin listener: not ready until it has
//! a certificate, then `/certs` shows the public parts (never the key).

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::Stream;
use http::StatusCode;
use mesh_api::discovery::discovery_server::{Discovery, DiscoveryServer};
use mesh_api::discovery::{CertificateRequest, CertificateResponse, Hello, ProxyMessage, Push};
use mesh_api::proxy::{ProxyConfig, SecretDump};
use mesh_proxy::discovery::{ControlChannel, DiscoveryOptions};
use mesh_proxy::identity::{
    CertSigner, GrpcSigner, IdentityHandle, IdentityOptions, SignFuture, run_client,
};
use mesh_proxy::{ConfigStore, ProxyOptions};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, IsCa, Issuer, KeyPair,
    SanType,
};
use tonic::{Request, Response, Status, Streaming};

use common::{fetch, start_proxy};

const ID: &str = "spiffe://cluster.local/ns/default/sa/reviews";

/// Signs every CSR for `ID`, as the control plane would for a valid token.
struct FakeCa {
    key: KeyPair,
    params: CertificateParams,
    pem: String,
}

impl FakeCa {
    fn new() -> Self {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).expect("root").pem();
        Self { key, params, pem }
    }
}

impl CertSigner for FakeCa {
    fn sign(&self, request: CertificateRequest) -> SignFuture {
        let csr = CertificateSigningRequestParams::from_pem(&request.csr_pem).expect("csr");
        let mut leaf = CertificateParams::new(Vec::<String>::new()).expect("params");
        leaf.subject_alt_names = vec![SanType::URI(ID.try_into().expect("uri"))];
        let cert = leaf
            .signed_by(
                &csr.public_key,
                &Issuer::from_params(&self.params, &self.key),
            )
            .expect("sign");
        let answer = CertificateResponse {
            cert_chain_pem: vec![cert.pem()],
            trust_bundle_pem: vec![self.pem.clone()],
        };
        Box::pin(async move { Ok(answer) })
    }
}

#[tokio::test]
async fn ready_only_with_a_certificate_and_certs_shows_no_key() {
    let identity = IdentityHandle::new();
    let mut opts = ProxyOptions::local("reviews-v1-0001.default");
    opts.identity = identity.clone();
    let p = start_proxy(opts).await;
    p.config
        .apply_all("1", &ProxyConfig::default())
        .expect("config");

    let r = fetch(p.admin, "GET", "/ready").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("a workload certificate"), "{}", r.body);
    let warming: SecretDump =
        serde_json::from_str(&fetch(p.admin, "GET", "/certs").await.body).expect("json");
    assert_eq!(warming.state, "WARMING");

    let dir = tempfile::tempdir().expect("tmp");
    let token = dir.path().join("t.token");
    std::fs::write(&token, "secret-token").expect("token");
    tokio::spawn(run_client(
        IdentityOptions::new("reviews-v1-0001.default".into(), token),
        Arc::new(FakeCa::new()),
        identity.clone(),
        std::future::pending(),
    ));
    let mut rotations = identity.rotations();
    tokio::time::timeout(Duration::from_secs(10), rotations.changed())
        .await
        .expect("a certificate in time")
        .expect("handle alive");

    let r = fetch(p.admin, "GET", "/ready").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ready\n"));
    let body = fetch(p.admin, "GET", "/certs").await.body;
    assert!(!body.contains("PRIVATE KEY") && !body.contains("secret-token"));
    let dump: SecretDump = serde_json::from_str(&body).expect("json");
    assert_eq!(dump.state, "ACTIVE");
    assert_eq!(dump.proxy_id, "reviews-v1-0001.default");
    assert_eq!(dump.cert_chain[0].spiffe_id.as_deref(), Some(ID));
    assert_eq!(dump.trust_bundle.len(), 1);
    assert!(dump.renew_at_unix.is_some());
    let config_dump = fetch(p.admin, "GET", "/config_dump").await.body;
    assert!(!config_dump.contains("PRIVATE KEY"));
}

/// A control plane on the discovery protocol that counts the TCP connections
/// it accepts: streams stay open and get no push; CSRs are signed by a
/// [`FakeCa`].
#[derive(Clone)]
struct CountingControlPlane {
    ca: Arc<FakeCa>,
}

type PushStream = Pin<Box<dyn Stream<Item = Result<Push, Status>> + Send>>;

#[tonic::async_trait]
impl Discovery for CountingControlPlane {
    type StreamStream = PushStream;

    async fn stream(
        &self,
        req: Request<Streaming<ProxyMessage>>,
    ) -> Result<Response<PushStream>, Status> {
        let mut inbound = req.into_inner();
        tokio::spawn(async move { while let Ok(Some(_)) = inbound.message().await {} });
        Ok(Response::new(Box::pin(futures_util::stream::pending())))
    }

    async fn create_certificate(
        &self,
        req: Request<CertificateRequest>,
    ) -> Result<Response<CertificateResponse>, Status> {
        self.ca
            .sign(req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::internal)
    }
}

/// Starts a [`CountingControlPlane`]: its `http://` address and the count of
/// connections accepted.
async fn counting_control_plane() -> (String, Arc<AtomicUsize>) {
    let accepted = Arc::new(AtomicUsize::new(0));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("address");
    let counter = accepted.clone();
    let incoming = futures_util::stream::unfold(l, move |l| {
        let counter = counter.clone();
        async move {
            let r = l.accept().await.map(|(s, _)| s);
            counter.fetch_add(1, Ordering::SeqCst);
            Some((r, l))
        }
    });
    let cp = CountingControlPlane {
        ca: Arc::new(FakeCa::new()),
    };
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DiscoveryServer::new(cp))
            .serve_with_incoming(incoming),
    );
    (format!("http://{addr}"), accepted)
}

fn csr_request() -> CertificateRequest {
    let key = KeyPair::generate().expect("key");
    let csr = CertificateParams::new(Vec::<String>::new())
        .expect("params")
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem");
    CertificateRequest {
        proxy_id: "reviews-v1-0001.default".into(),
        csr_pem: csr,
        token: "secret-token".into(),
        ttl_seconds: 0,
    }
}

#[tokio::test]
async fn certificate_requests_share_the_discovery_streams_connection() {
    let (address, accepted) = counting_control_plane().await;
    let channel = ControlChannel::default();
    let hello = Hello {
        proxy_id: "reviews-v1-0001.default".into(),
        ..Hello::default()
    };
    let sink: Arc<dyn mesh_proxy::discovery::ConfigSink> = Arc::new(ConfigStore::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let client = tokio::spawn(mesh_proxy::discovery::run(
        DiscoveryOptions {
            channel: channel.clone(),
            ..DiscoveryOptions::new(address.clone(), hello)
        },
        sink,
        async move {
            let _ = stopped.await;
        },
    ));
    tokio::time::timeout(Duration::from_secs(10), async {
        while channel.get().is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the discovery stream connects");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the stream's connection"
    );

    let signer = GrpcSigner {
        address: address.clone(),
        shared: channel.clone(),
    };
    for _ in 0..3 {
        let answer = signer.sign(csr_request()).await.expect("signed");
        assert_eq!(answer.cert_chain_pem.len(), 1);
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "renewals go over the discovery stream's connection"
    );

    // Without an open stream (a sidecar's first certificate, or while it
    // reconnects) a request opens a connection of its own.
    let alone = GrpcSigner::new(address);
    alone.sign(csr_request()).await.expect("signed");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    // The stream's end takes its channel away.
    let _ = stop.send(());
    client.await.expect("discovery client");
    assert!(channel.get().is_none(), "no channel once the stream ended");
}
