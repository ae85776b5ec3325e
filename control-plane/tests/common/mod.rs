//! What the control plane's integration tests share: a real control plane on
//! loopback ports in a temporary mesh home.
#![allow(dead_code)]

use std::time::Duration;

use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{Ack, Hello, ProxyMessage, Push};
use mesh_api::proxy::{ProxyConfig, RouteConfig};
use mesh_control_plane::api::{ApplyRequest, ApplyResponse};
use mesh_control_plane::ca::CaSettings;
use mesh_control_plane::client::AdminClient;
use mesh_control_plane::server::{self, ProxyStatus, ServerOptions, StateFile, SyncStatus};
use tokio::sync::mpsc;

/// Starts a control plane in `home` with the default CA settings; returns its
/// state file and a sender that stops it.
pub async fn start(home: &std::path::Path) -> (StateFile, tokio::sync::oneshot::Sender<()>) {
    start_with(home, CaSettings::default()).await
}

/// [`start`] with these CA settings.
pub async fn start_with(
    home: &std::path::Path,
    ca: CaSettings,
) -> (StateFile, tokio::sync::oneshot::Sender<()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let opts = ServerOptions {
        home: home.to_owned(),
        discovery: "127.0.0.1:0".parse().expect("addr"),
        admin: "127.0.0.1:0".parse().expect("addr"),
        ca,
        scrape_targets: None,
        mesh_config: Default::default(),
    };
    tokio::spawn(server::run(opts, async move {
        let _ = stopped.await;
    }));
    for _ in 0..200 {
        if let Some(s) = StateFile::read(home) {
            return (s, stop);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("control plane did not write its state file");
}

/// Polls `/v1/proxy-status` every 10 ms, at most `tries` times, until `f` holds
/// for it: that status, or the last one seen.
pub async fn poll_status(
    admin: &AdminClient,
    tries: u32,
    f: impl Fn(&[ProxyStatus]) -> bool,
) -> Result<Vec<ProxyStatus>, Vec<ProxyStatus>> {
    let mut last = Vec::new();
    for _ in 0..tries {
        last = admin
            .get::<Vec<ProxyStatus>>("/v1/proxy-status")
            .await
            .expect("status");
        if f(&last) {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(last)
}

/// Waits until `n` proxies are SYNCED on every type, with the version they
/// ACKed the one they were sent, at the store's revision `rev` or later: every
/// push of that round has then been received and ACKed.
pub async fn synced(admin: &AdminClient, n: usize, rev: u64) {
    let all_synced = |s: &[ProxyStatus]| {
        s.len() == n
            && s.iter().all(|p| {
                p.revision >= rev
                    && p.types.iter().all(|t| {
                        t.status == SyncStatus::Synced && t.acked_version == t.sent_version
                    })
            })
    };
    if let Err(last) = poll_status(admin, 500, all_synced).await {
        panic!("proxies never synced at revision {rev}: {last:#?}");
    }
}

/// Applies the YAML documents through the admin API, as `meshctl apply`
/// does; returns the store's new revision.
pub async fn apply(admin: &AdminClient, yaml: &str) -> u64 {
    let manifests = mesh_api::yaml::parse_documents(yaml)
        .expect("yaml")
        .iter()
        .map(|n| {
            mesh_api::Resource::from_node(n)
                .expect("resource")
                .to_json()
        })
        .collect();
    let r: ApplyResponse = admin
        .post(
            "/v1/apply",
            &ApplyRequest {
                manifests,
                dry_run: false,
            },
        )
        .await
        .expect("apply");
    r.revision
}

/// The routes the control plane compiles for `id` now (`/v1/proxy-config`).
pub async fn compiled_routes(admin: &AdminClient, id: &str) -> RouteConfig {
    let c: ProxyConfig = admin
        .get(&format!("/v1/proxy-config?proxy={id}"))
        .await
        .expect("proxy-config");
    c.routes
}

/// A simulated proxy's discovery stream: connects to `discovery`, says `hello`
/// and returns the sender for its ACKs and the stream of pushes.
pub async fn open_stream(
    discovery: &str,
    hello: Hello,
) -> (mpsc::Sender<ProxyMessage>, tonic::Streaming<Push>) {
    let mut client = DiscoveryClient::connect(format!("http://{discovery}"))
        .await
        .expect("connect");
    let (tx, mut rx) = mpsc::channel::<ProxyMessage>(8);
    tx.send(ProxyMessage {
        message: Some(Message::Hello(hello)),
    })
    .await
    .expect("send hello");
    let pushes = client
        .stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
        .await
        .expect("stream")
        .into_inner();
    (tx, pushes)
}

/// Sends `ack` on a stream from [`open_stream`]; false once the stream is gone.
pub async fn send_ack(tx: &mpsc::Sender<ProxyMessage>, ack: Ack) -> bool {
    tx.send(ProxyMessage {
        message: Some(Message::Ack(ack)),
    })
    .await
    .is_ok()
}
