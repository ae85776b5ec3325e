//! The CA over the discovery connection: a gRPC client plays a proxy asking for
//! certificates, with and without the right bootstrap token.

mod common;

use std::time::Duration;

use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{CertificateReport, CertificateRequest, Hello, ProxyMessage};
use mesh_api::proxy::{CaStatus, CertInfo};
use mesh_control_plane::ca::rotation::RotateRequest;
use mesh_control_plane::ca::{CaSettings, tokens};
use mesh_control_plane::client::AdminClient;
use mesh_control_plane::server::StateFile;

async fn start(home: &std::path::Path) -> (StateFile, tokio::sync::oneshot::Sender<()>) {
    common::start_with(
        home,
        CaSettings {
            trust_domain: "example.org".into(),
            workload_ttl: Duration::from_secs(300),
        },
    )
    .await
}

fn csr() -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    rcgen::CertificateParams::new(vec!["anything.example.com".to_owned()])
        .expect("params")
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem")
}

#[tokio::test]
async fn only_the_right_token_gets_a_certificate_and_only_its_own_identity() {
    let home = tempfile::tempdir().expect("tmp");
    let (state, _stop) = start(home.path()).await;
    let cart = tokens::create(home.path(), "cart-v1-1.shop", "shop", "cart").expect("token");
    tokens::create(home.path(), "pay-v1-2.shop", "shop", "payments").expect("token");
    let cart_token = std::fs::read_to_string(&cart).expect("read");
    let mut client = DiscoveryClient::connect(format!("http://{}", state.discovery_address))
        .await
        .expect("connect");
    let ask = |proxy_id: &str, token: &str| CertificateRequest {
        proxy_id: proxy_id.into(),
        csr_pem: csr(),
        ttl_seconds: 0,
        token: token.into(),
    };

    let ok = client
        .create_certificate(ask("cart-v1-1.shop", &cart_token))
        .await
        .expect("signed")
        .into_inner();
    let leaf = &CertInfo::from_pem(&ok.cert_chain_pem[0]).expect("cert")[0];
    assert_eq!(
        leaf.spiffe_id.as_deref(),
        Some("spiffe://example.org/ns/shop/sa/cart")
    );
    assert_eq!(
        leaf.not_after_unix - leaf.not_before_unix,
        300 + 60,
        "5m + 1m backdate"
    );
    let root = &CertInfo::from_pem(&ok.trust_bundle_pem[0]).expect("root")[0];
    assert_eq!(leaf.issuer, root.subject);

    for (id, token, why) in [
        ("cart-v1-1.shop", "", "no bootstrap token"),
        ("cart-v1-1.shop", "0123", "does not match"),
        ("pay-v1-2.shop", cart_token.as_str(), "does not match"),
        (
            "ghost-v1-3.shop",
            cart_token.as_str(),
            "no bootstrap token was issued",
        ),
    ] {
        let status = client
            .create_certificate(ask(id, token))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{id}");
        assert!(status.message().contains(why), "{id}: {}", status.message());
        assert!(!status.message().contains(&cart_token));
    }

    let admin = AdminClient::new(state.admin_address.parse().expect("addr"));
    let ca: CaStatus = admin.get("/v1/ca").await.expect("ca status");
    assert_eq!(ca.trust_domain, "example.org");
    assert_eq!(ca.csrs_signed, 1);
    assert_eq!(ca.proxies.len(), 1);
    assert_eq!(ca.proxies[0].serial, leaf.serial);
    let metrics = metrics_text(&admin).await;
    assert!(
        metrics.contains("citadel_server_success_cert_issuance_count 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("citadel_server_authentication_failure_count 4"),
        "{metrics}"
    );
    assert!(metrics.contains("citadel_server_csr_count 5"), "{metrics}");
}

async fn metrics_text(admin: &AdminClient) -> String {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let resp = client
        .get(
            format!("http://{}/metrics", admin.addr())
                .parse()
                .expect("uri"),
        )
        .await
        .expect("metrics");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}

#[tokio::test]
async fn a_hello_must_match_the_identity_of_its_token() {
    use mesh_api::discovery::proxy_message::Message;
    use mesh_api::discovery::{Hello, ProxyMessage};
    let home = tempfile::tempdir().expect("tmp");
    let (state, _stop) = start(home.path()).await;
    tokens::create(home.path(), "cart-v1-1.shop", "shop", "cart").expect("token");
    let mut client = DiscoveryClient::connect(format!("http://{}", state.discovery_address))
        .await
        .expect("connect");
    let hello = |sa: &str| {
        let msg = ProxyMessage {
            message: Some(Message::Hello(Hello {
                proxy_id: "cart-v1-1.shop".into(),
                service: "cart".into(),
                namespace: "shop".into(),
                service_account: sa.into(),
                ..Default::default()
            })),
        };
        futures_util::stream::iter([msg])
    };
    let refused = client
        .stream(hello("admin"))
        .await
        .expect_err("another service account");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(
        refused.message().contains("\"cart\""),
        "{}",
        refused.message()
    );
    client
        .stream(hello("cart"))
        .await
        .expect("its own identity is welcome");
}

/// A proxy's certificate as it would report it on its stream.
fn report(signed: &mesh_api::discovery::CertificateResponse) -> ProxyMessage {
    let ders = |pems: &[String]| -> Vec<Vec<u8>> {
        pems.iter()
            .flat_map(|p| mesh_api::proxy::certs_from_pem(p).expect("pem"))
            .collect()
    };
    ProxyMessage {
        message: Some(Message::Certificate(CertificateReport {
            cert_chain_der: ders(&signed.cert_chain_pem),
            trust_bundle_der: ders(&signed.trust_bundle_pem),
            rotations: 1,
        })),
    }
}

#[tokio::test]
async fn reported_certificates_drive_the_rotation_and_laggards_are_asked_to_renew() {
    let home = tempfile::tempdir().expect("tmp");
    let (state, _stop) = start(home.path()).await;
    let token = tokens::create(home.path(), "cart-v1-1.shop", "shop", "cart").expect("token");
    let token = std::fs::read_to_string(&token).expect("read");
    let mut client = DiscoveryClient::connect(format!("http://{}", state.discovery_address))
        .await
        .expect("connect");
    let ask = || CertificateRequest {
        proxy_id: "cart-v1-1.shop".into(),
        csr_pem: csr(),
        ttl_seconds: 0,
        token: token.clone(),
    };
    let first = client
        .create_certificate(ask())
        .await
        .expect("signed")
        .into_inner();
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    tx.send(ProxyMessage {
        message: Some(Message::Hello(Hello {
            proxy_id: "cart-v1-1.shop".into(),
            service: "cart".into(),
            namespace: "shop".into(),
            service_account: "cart".into(),
            ..Default::default()
        })),
    })
    .await
    .expect("hello");
    tx.send(report(&first)).await.expect("report");
    let mut pushes = client
        .stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
        .await
        .expect("stream")
        .into_inner();
    let admin = AdminClient::new(state.admin_address.parse().expect("addr"));
    let status = |admin: AdminClient| async move {
        admin.get::<CaStatus>("/v1/ca").await.expect("ca status")
    };
    let mut ca = status(admin.clone()).await;
    for _ in 0..100 {
        if ca.proxies.first().is_some_and(|p| p.origin == "reported") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        ca = status(admin.clone()).await;
    }
    let p = &ca.proxies[0];
    assert_eq!(
        (p.origin.as_str(), p.connected, p.current),
        ("reported", true, true),
        "{p:?}"
    );
    assert_eq!(p.root_sha256, ca.roots[0].fingerprint_sha256);

    let rotate = |phase: &str| RotateRequest {
        phase: phase.into(),
        ..Default::default()
    };
    let after: CaStatus = admin
        .post("/v1/ca/rotate", &rotate("add-root"))
        .await
        .expect("add-root");
    assert_eq!(after.roots.len(), 2, "old and new root trusted");
    let r = after.rotation.expect("in progress");
    assert_eq!(
        (r.phase.as_str(), r.done, r.laggards.as_slice()),
        ("add-root", 0, &["cart-v1-1.shop".to_owned()][..])
    );
    // The proxy is asked to renew now (config pushes may come first).
    loop {
        let push = tokio::time::timeout(Duration::from_secs(5), pushes.message())
            .await
            .expect("a push in time")
            .expect("stream")
            .expect("open");
        if push.type_url == mesh_api::proxy::TYPE_RENEW_CERTIFICATE {
            break;
        }
    }
    let err = admin
        .post::<_, CaStatus>("/v1/ca/rotate", &rotate("reissue"))
        .await
        .expect_err("the proxy has not renewed")
        .to_string();
    assert!(
        err.contains("cart-v1-1.shop") && err.contains("trust bundle with the new root"),
        "{err}"
    );

    let renewed = client
        .create_certificate(ask())
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(renewed.trust_bundle_pem.len(), 2);
    tx.send(report(&renewed)).await.expect("report");
    let mut done = 0;
    for _ in 0..100 {
        done = status(admin.clone()).await.rotation.map_or(0, |r| r.done);
        if done == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(done, 1);
    admin
        .post::<_, CaStatus>("/v1/ca/rotate", &rotate("reissue"))
        .await
        .expect("reissue once every proxy is there");
}
