//! A sidecar with an identity, through its admin listener: not ready until it has
//! a certificate, then `/certs` shows the public parts (never the key).

mod common;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use mesh_api::discovery::{CertificateRequest, CertificateResponse};
use mesh_api::proxy::{ProxyConfig, SecretDump};
use mesh_proxy::ProxyOptions;
use mesh_proxy::identity::{CertSigner, IdentityHandle, IdentityOptions, SignFuture, run_client};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, IsCa, Issuer, KeyPair,
    SanType,
};

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
