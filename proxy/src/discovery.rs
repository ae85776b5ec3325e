//! The proxy's side of the discovery protocol: connect to the control plane,
//! introduce the workload, apply each push and answer it (ACK, or NACK with the
//! reason), and when the control plane goes away keep serving with the last good
//! config while reconnecting with capped exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{Ack, CertificateReport, Hello, ProxyMessage, Readiness};
use tokio::sync::mpsc;
use tonic::transport::Channel;

use crate::identity::IdentityHandle;

/// Where pushed config goes.
pub trait ConfigSink: Send + Sync + 'static {
    /// Apply one pushed type. An error keeps the previous config; its message is
    /// sent back as the NACK's reason.
    fn apply(&self, type_url: &str, version: &str, payload: &[u8]) -> Result<(), String>;

    /// Apply a delta push: `payload` turns the running config of `base_version`
    /// into `version`. Sinks that take only whole configs refuse it.
    fn apply_delta(
        &self,
        type_url: &str,
        _base_version: &str,
        _version: &str,
        _payload: &[u8],
    ) -> Result<(), String> {
        Err(format!("this proxy applies no {type_url} deltas"))
    }

    /// The types this sink applies as deltas (told to the control plane).
    fn accepts_deltas(&self) -> Vec<String> {
        Vec::new()
    }

    /// The version of a type the proxy runs now (empty if none), for NACKs.
    fn version(&self, type_url: &str) -> String;

    /// The stream to the control plane opened (`true`) or ended (`false`).
    fn connected(&self, _connected: bool) {}
}

#[derive(Debug, Clone)]
pub struct DiscoveryOptions {
    /// `http://127.0.0.1:15010`.
    pub address: String,
    pub hello: Hello,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The workload identity: its certificate is reported to the control plane,
    /// which may ask for a renewal (CA rotation). Disabled: nothing reported.
    pub identity: IdentityHandle,
    /// Where the open stream's channel is published, for the certificate
    /// requests to share its connection.
    pub channel: ControlChannel,
}

/// The discovery stream's gRPC channel while the stream is open. Certificate
/// requests go over it ([`crate::identity::GrpcSigner`]), so a sidecar holds
/// one connection to the control plane rather than opening one per
/// certificate, and a CA rotation's burst of renewals costs the control plane
/// no TCP or HTTP/2 handshakes.
#[derive(Debug, Clone, Default)]
pub struct ControlChannel(Arc<std::sync::Mutex<Option<Channel>>>);

impl ControlChannel {
    /// The open stream's channel, if there is one now.
    pub fn get(&self) -> Option<Channel> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, channel: Option<Channel>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = channel;
    }
}

/// Publishes a session's channel until the session ends, however it ends.
struct Published<'a>(&'a ControlChannel);

impl<'a> Published<'a> {
    fn new(slot: &'a ControlChannel, channel: Channel) -> Self {
        slot.set(Some(channel));
        Self(slot)
    }
}

impl Drop for Published<'_> {
    fn drop(&mut self) {
        self.0.set(None);
    }
}

impl DiscoveryOptions {
    pub fn new(address: String, hello: Hello) -> Self {
        Self {
            address,
            hello,
            identity: IdentityHandle::disabled(),
            channel: ControlChannel::default(),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// The next wait after a failed attempt: doubled, capped.
pub fn next_backoff(current: Duration, max: Duration) -> Duration {
    (current * 2).min(max)
}

/// Run until `shutdown` resolves. Never returns an error: a control plane that is
/// unreachable is retried forever, as a sidecar must.
pub async fn run(
    opts: DiscoveryOptions,
    sink: Arc<dyn ConfigSink>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut backoff = opts.initial_backoff;
    loop {
        let attempt = session(&opts, sink.as_ref());
        let outcome = tokio::select! {
            _ = &mut shutdown => return,
            r = attempt => r,
        };
        sink.connected(false);
        match outcome {
            Ok(()) => {
                tracing::warn!(address = %opts.address, "control plane closed the stream; serving the last config and reconnecting");
                backoff = opts.initial_backoff;
            }
            Err(e) => {
                tracing::warn!(address = %opts.address, error = %e, retry_in_ms = backoff.as_millis() as u64, "control plane unreachable; serving the last config");
            }
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = next_backoff(backoff, opts.max_backoff);
    }
}

/// How often the app's readiness is checked: often while it starts, then rarely.
const PROBE_STARTING: Duration = Duration::from_millis(100);
const PROBE_RUNNING: Duration = Duration::from_secs(2);
/// Failed probes at [`PROBE_STARTING`] (5 s) before an app that is not ready is
/// probed at [`PROBE_RUNNING`] only: one that never listens is not probed ten
/// times a second forever.
const STARTING_PROBES: u32 = 50;

/// The wait before the next probe, after `failed` probes in a row found the
/// app not ready (0: it is ready).
fn probe_wait(failed: u32) -> Duration {
    if failed == 0 || failed >= STARTING_PROBES {
        PROBE_RUNNING
    } else {
        PROBE_STARTING
    }
}

/// Whether the app accepts connections on every one of its ports (a TCP probe,
/// as Kubernetes does it). A workload with no ports is ready.
pub async fn app_ready(ports: &[u16]) -> bool {
    for port in ports {
        let connect = tokio::net::TcpStream::connect(("127.0.0.1", *port));
        match tokio::time::timeout(Duration::from_millis(500), connect).await {
            Ok(Ok(_)) => {}
            _ => return false,
        }
    }
    true
}

/// Probe the app and report each change of readiness on the stream. Ends when
/// the stream does.
async fn report_readiness(ports: Vec<u16>, mut ready: bool, tx: mpsc::Sender<ProxyMessage>) {
    let mut failed = u32::from(!ready);
    loop {
        tokio::time::sleep(probe_wait(failed)).await;
        let now = app_ready(&ports).await;
        failed = if now { 0 } else { failed.saturating_add(1) };
        if now != ready {
            ready = now;
            tracing::info!(ready, "app readiness changed");
            let msg = ProxyMessage {
                message: Some(Message::Readiness(Readiness { app_ready: ready })),
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    }
}

/// The current certificate and trust bundle, public parts only.
fn certificate_report(identity: &IdentityHandle) -> Option<ProxyMessage> {
    let id = identity.current()?;
    Some(ProxyMessage {
        message: Some(Message::Certificate(CertificateReport {
            cert_chain_der: id.cert_chain.iter().map(|c| c.to_vec()).collect(),
            trust_bundle_der: id.trust_bundle.iter().map(|c| c.to_vec()).collect(),
            rotations: identity.rotation_count(),
        })),
    })
}

/// Report the certificate now (if there is one) and after every rotation. Ends
/// when the stream does.
async fn report_certificates(identity: IdentityHandle, tx: mpsc::Sender<ProxyMessage>) {
    if !identity.is_enabled() {
        return std::future::pending().await;
    }
    let mut rotations = identity.rotations();
    loop {
        rotations.borrow_and_update();
        if let Some(msg) = certificate_report(&identity)
            && tx.send(msg).await.is_err()
        {
            return;
        }
        if rotations.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// One stream, from connect to its end.
async fn session(opts: &DiscoveryOptions, sink: &dyn ConfigSink) -> Result<(), String> {
    let endpoint = tonic::transport::Endpoint::from_shared(opts.address.clone())
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true);
    let channel = endpoint.connect().await.map_err(|e| chain(&e))?;
    let mut client = DiscoveryClient::new(channel.clone());
    let (tx, mut rx) = mpsc::channel::<ProxyMessage>(16);
    let app_ports: Vec<u16> = opts
        .hello
        .ports
        .iter()
        .filter_map(|p| u16::try_from(p.app_port).ok())
        .collect();
    let mut hello = opts.hello.clone();
    hello.app_ready = app_ready(&app_ports).await;
    hello.accept_encodings = vec![GZIP.to_owned()];
    hello.accept_deltas = sink.accepts_deltas();
    let ready = hello.app_ready;
    tx.send(ProxyMessage {
        message: Some(Message::Hello(hello)),
    })
    .await
    .map_err(|e| e.to_string())?;
    let outbound = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut pushes = client
        .stream(outbound)
        .await
        .map_err(|s| s.message().to_owned())?
        .into_inner();
    tracing::info!(address = %opts.address, "connected to the control plane");
    let _published = Published::new(&opts.channel, channel);
    sink.connected(true);
    let probe = report_readiness(app_ports, ready, tx.clone());
    tokio::pin!(probe);
    let certs = report_certificates(opts.identity.clone(), tx.clone());
    tokio::pin!(certs);
    loop {
        let push = tokio::select! {
            m = pushes.message() => m.map_err(|s| s.message().to_owned())?,
            () = &mut probe => None,
            () = &mut certs => None,
        };
        let Some(push) = push else { break };
        if push.type_url == mesh_api::proxy::TYPE_RENEW_CERTIFICATE {
            tracing::info!("the control plane asks for a new workload certificate (CA rotation)");
            opts.identity.request_renewal();
            continue;
        }
        let applied = decoded(&push).and_then(|payload| {
            if push.base_version.is_empty() {
                sink.apply(&push.type_url, &push.version, &payload)
            } else {
                sink.apply_delta(&push.type_url, &push.base_version, &push.version, &payload)
            }
        });
        let (version, error) = match applied {
            Ok(()) => (push.version.clone(), String::new()),
            Err(e) => {
                tracing::warn!(type_url = %push.type_url, version = %push.version, error = %e, "rejected config (NACK); keeping the previous one");
                (sink.version(&push.type_url), e)
            }
        };
        let ack = Ack {
            type_url: push.type_url,
            version,
            nonce: push.nonce,
            error,
        };
        tx.send(ProxyMessage {
            message: Some(Message::Ack(ack)),
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The payload encoding the client decodes besides plain JSON.
const GZIP: &str = "gzip";
/// The largest decompressed payload accepted.
const MAX_PAYLOAD: u64 = 256 << 20;

/// A push's JSON payload, decompressed when the control plane compressed it.
fn decoded(push: &mesh_api::discovery::Push) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    use std::io::Read as _;
    match push.encoding.as_str() {
        "" => Ok(std::borrow::Cow::Borrowed(&push.payload[..])),
        GZIP => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&push.payload[..])
                .take(MAX_PAYLOAD)
                .read_to_end(&mut out)
                .map_err(|e| format!("cannot decompress the gzip payload: {e}"))?;
            Ok(std::borrow::Cow::Owned(out))
        }
        other => Err(format!(
            "unknown payload encoding {other:?} (this proxy decodes \"\" and {GZIP:?})"
        )),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl ConfigSink for crate::ConfigStore {
    fn apply(&self, type_url: &str, version: &str, payload: &[u8]) -> Result<(), String> {
        crate::ConfigStore::apply(self, type_url, version, payload).map_err(|e| e.to_string())
    }

    fn apply_delta(
        &self,
        type_url: &str,
        base_version: &str,
        version: &str,
        payload: &[u8],
    ) -> Result<(), String> {
        crate::ConfigStore::apply_delta(self, type_url, base_version, version, payload)
            .map_err(|e| e.to_string())
    }

    fn accepts_deltas(&self) -> Vec<String> {
        vec![mesh_api::proxy::TYPE_ROUTES.to_owned()]
    }

    fn version(&self, type_url: &str) -> String {
        self.status(type_url)
            .and_then(|s| s.version)
            .unwrap_or_default()
    }

    fn connected(&self, connected: bool) {
        self.set_connected(connected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readiness_is_a_tcp_probe_of_every_app_port() {
        let open = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let open_port = open.local_addr().expect("addr").port();
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        assert!(app_ready(&[]).await, "no ports: ready");
        assert!(app_ready(&[open_port]).await);
        assert!(!app_ready(&[closed_port]).await);
        assert!(!app_ready(&[open_port, closed_port]).await);
    }

    #[test]
    fn an_app_that_does_not_listen_is_probed_less_after_5_seconds() {
        assert_eq!(probe_wait(0), PROBE_RUNNING, "ready: every 2 s");
        assert_eq!(probe_wait(1), PROBE_STARTING, "starting: every 100 ms");
        assert_eq!(probe_wait(49), PROBE_STARTING);
        assert_eq!(
            probe_wait(50),
            PROBE_RUNNING,
            "after 5 s not ready: every 2 s"
        );
        assert_eq!(probe_wait(u32::MAX), PROBE_RUNNING);
    }

    #[test]
    fn gzip_payloads_are_decompressed_and_unknown_encodings_rejected() {
        use std::io::Write as _;
        let json = br#"{"virtualHosts":[]}"#;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(json).expect("compress");
        let push = |payload: Vec<u8>, encoding: &str| mesh_api::discovery::Push {
            type_url: "routes".into(),
            version: "v".into(),
            nonce: "1".into(),
            payload: payload.into(),
            encoding: encoding.into(),
            base_version: String::new(),
        };
        let gz = push(enc.finish().expect("finish"), "gzip");
        assert_eq!(&*decoded(&gz).expect("gunzip"), json);
        let plain = push(json.to_vec(), "");
        assert_eq!(&*decoded(&plain).expect("plain"), json);
        let err = decoded(&push(json.to_vec(), "zstd")).expect_err("unknown");
        assert!(err.contains("zstd") && err.contains("gzip"), "{err}");
        let err = decoded(&push(json.to_vec(), "gzip")).expect_err("not gzip");
        assert!(err.contains("decompress"), "{err}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let max = Duration::from_secs(5);
        let mut b = Duration::from_millis(100);
        let mut seen = vec![b];
        for _ in 0..8 {
            b = next_backoff(b, max);
            seen.push(b);
        }
        assert_eq!(seen[1], Duration::from_millis(200));
        assert_eq!(seen[5], Duration::from_millis(3200));
        assert_eq!(*seen.last().expect("some"), max);
    }
}
