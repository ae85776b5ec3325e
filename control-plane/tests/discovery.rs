//! The control plane over real loopback sockets: a gRPC client plays a proxy.

mod common;

use common::{poll_status, start};

use std::time::Duration;

use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{Ack, Hello, ProxyMessage, ServicePort};
use mesh_control_plane::api::{ApplyRequest, ApplyResponse, ErrorResponse};
use mesh_control_plane::client::{AdminClient, ClientError};
use mesh_control_plane::server::{ProxyStatus, SyncStatus};
use tokio::sync::mpsc;

fn hello(id: &str) -> Hello {
    Hello {
        proxy_id: id.into(),
        service: "reviews".into(),
        namespace: "default".into(),
        service_account: "bookinfo-reviews".into(),
        labels: [
            ("app".to_string(), "reviews".to_string()),
            ("version".into(), "v1".into()),
        ]
        .into(),
        inbound_address: "127.0.0.1:1".into(),
        ports: vec![ServicePort {
            port: 9080,
            app_port: 9081,
            protocol: "http".into(),
            name: "http".into(),
        }],
        admin_address: "127.0.0.1:2".into(),
        proxy_version: "test".into(),
        outbound_address: "127.0.0.1:3".into(),
        app_ready: true,
        accept_encodings: Vec::new(),
        accept_deltas: Vec::new(),
    }
}

async fn wait_for<F: Fn(&[ProxyStatus]) -> bool>(admin: &AdminClient, f: F) -> Vec<ProxyStatus> {
    poll_status(admin, 300, f)
        .await
        .unwrap_or_else(|last| panic!("condition never held; last status: {last:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_every_type_and_tracks_acks_and_nacks() {
    let home = tempfile::tempdir().expect("tempdir");
    let (state, _stop) = start(home.path()).await;
    let admin = AdminClient::new(state.admin_address.parse().expect("addr"));

    let mut client = DiscoveryClient::connect(format!("http://{}", state.discovery_address))
        .await
        .expect("connect");
    let (tx, mut rx) = mpsc::channel::<ProxyMessage>(8);
    tx.send(ProxyMessage {
        message: Some(Message::Hello(hello("reviews-v1.default"))),
    })
    .await
    .expect("send hello");
    let mut pushes = client
        .stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
        .await
        .expect("stream")
        .into_inner();

    // The four types arrive in push order, each with a version and a nonce.
    let mut got = Vec::new();
    for _ in 0..4 {
        let p = tokio::time::timeout(Duration::from_secs(5), pushes.message())
            .await
            .expect("push in time")
            .expect("stream ok")
            .expect("a push");
        assert!(!p.version.is_empty() && !p.nonce.is_empty());
        got.push(p);
    }
    let types: Vec<&str> = got.iter().map(|p| p.type_url.as_str()).collect();
    assert_eq!(types, mesh_api::proxy::PUSH_ORDER);

    // Before any answer: STALE.
    let s = wait_for(&admin, |s| s.len() == 1).await;
    assert!(
        s[0].types.iter().all(|t| t.status == SyncStatus::Stale),
        "{s:#?}"
    );

    // ACK three, NACK routes.
    for p in &got {
        let error = if p.type_url == "routes" {
            "route to nowhere".to_string()
        } else {
            String::new()
        };
        let version = if error.is_empty() {
            p.version.clone()
        } else {
            String::new()
        };
        tx.send(ProxyMessage {
            message: Some(Message::Ack(Ack {
                type_url: p.type_url.clone(),
                version,
                nonce: p.nonce.clone(),
                error,
            })),
        })
        .await
        .expect("send ack");
    }
    let s = wait_for(&admin, |s| {
        s[0].types.iter().all(|t| t.status != SyncStatus::Stale)
    })
    .await;
    for t in &s[0].types {
        if t.type_url == "routes" {
            assert_eq!(t.status, SyncStatus::Error);
            assert_eq!(t.error.as_deref(), Some("route to nowhere"));
        } else {
            assert_eq!(t.status, SyncStatus::Synced, "{t:?}");
            assert_eq!(t.acked_version, t.sent_version);
        }
    }

    // /metrics: one push per type, one NACK (routes), four answers timed, one proxy.
    let metrics = metrics_text(&admin).await;
    for line in [
        "meshctl_pushes_total{type=\"listeners\"} 1",
        "meshctl_pushes_total{type=\"routes\"} 1",
        "meshctl_push_rejects_total{type=\"routes\"} 1",
        "meshctl_push_rejects_total{type=\"clusters\"} 0",
        "meshctl_push_ack_duration_seconds_count{type=\"routes\"} 1",
        "meshctl_push_ack_duration_seconds_count{type=\"endpoints\"} 1",
        "meshctl_connected_proxies 1",
        "# TYPE meshctl_pushes_total counter",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    assert!(metrics.contains("meshctl_store_revision "), "{metrics}");

    // The workload is registered while connected, and leaves when the stream ends.
    let workloads: Vec<serde_json::Value> = admin.get("/v1/workloads").await.expect("workloads");
    assert_eq!(workloads.len(), 1);
    assert_eq!(workloads[0]["proxyId"], "reviews-v1.default");
    drop(tx);
    drop(pushes);
    wait_for(&admin, |s| s.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_applies_are_rejected_whole() {
    let home = tempfile::tempdir().expect("tempdir");
    let (state, _stop) = start(home.path()).await;
    let admin = AdminClient::new(state.admin_address.parse().expect("addr"));
    let good = serde_json::json!({
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "reviews"},
        "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}
    });
    let bad = serde_json::json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "broken"},
        "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}, "weight": -1}]}]}
    });
    let err = admin
        .post::<_, ApplyResponse>(
            "/v1/apply",
            &ApplyRequest {
                manifests: vec![good.clone(), bad],
                dry_run: false,
            },
        )
        .await
        .expect_err("rejected");
    let ClientError::Rejected(ErrorResponse { problems, .. }) = err else {
        panic!("expected a rejection, got {err}");
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].resource, "VirtualService default/broken");
    let stored: Vec<serde_json::Value> = admin.get("/v1/resources").await.expect("list");
    assert!(stored.is_empty(), "nothing applied: {stored:#?}");

    let ok: ApplyResponse = admin
        .post(
            "/v1/apply",
            &ApplyRequest {
                manifests: vec![good],
                dry_run: false,
            },
        )
        .await
        .expect("applied");
    assert_eq!(ok.revision, 1);
    assert_eq!(ok.changes[0].resource, "DestinationRule default/reviews");
}

async fn metrics_text(admin: &AdminClient) -> String {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri = format!("http://{}/metrics", admin.addr())
        .parse()
        .expect("uri");
    let resp = client.get(uri).await.expect("metrics");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}
