//! The CA over the discovery connection: a gRPC client plays a proxy asking for
//! certificates, with and without the right bootstrap token.

mod common;

use std::time::Duration;

use mesh_api::discovery::CertificateRequest;
use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::proxy::{CaStatus, CertInfo};
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
