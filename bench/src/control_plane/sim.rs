//! The simulated mesh: lightweight proxies speaking the real discovery protocol
//! (Hello with a ready app, then an ACK for every push), many streams multiplexed
//! over a few HTTP/2 connections. They do not decode the JSON payloads; they count
//! them and record when each type arrived.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{Ack, Hello, ProxyMessage, ServicePort};
use mesh_api::proxy::PUSH_ORDER;
use tokio::sync::mpsc;
use tonic::transport::Channel;

/// The service port every simulated workload serves.
pub const SERVICE_PORT: u32 = 8080;

/// Who one simulated proxy is.
#[derive(Debug, Clone)]
pub struct ProxySpec {
    pub proxy_id: String,
    pub service: String,
    pub namespace: String,
    pub version: &'static str,
    pub inbound_port: u32,
}

/// What one proxy has seen.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The types received since the stream (re)connected, as bits of PUSH_ORDER.
    pub types: u8,
    /// Streams opened (1 + reconnects).
    pub sessions: u32,
    /// The first routes push ACKed after the last [`Sim::mark`].
    pub routes_after_mark: Option<Instant>,
    /// Payload bytes received since the last mark.
    pub bytes_since_mark: u64,
}

/// Every proxy's record, shared by the stream tasks and the measuring code.
#[derive(Debug)]
pub struct Sim {
    seen: Mutex<Vec<Seen>>,
    /// Nanoseconds after `epoch` of the last push received by anyone.
    last_push_ns: AtomicU64,
    epoch: Instant,
}

/// All proxies have every type, and no push arrived for a while.
const ALL_TYPES: u8 = (1 << PUSH_ORDER.len()) - 1;

fn type_bit(type_url: &str) -> u8 {
    PUSH_ORDER
        .iter()
        .position(|t| *t == type_url)
        .map_or(0, |i| 1 << i)
}

impl Sim {
    pub fn new(proxies: usize) -> Arc<Self> {
        Arc::new(Sim {
            seen: Mutex::new(vec![Seen::default(); proxies]),
            last_push_ns: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Seen>> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start a measurement: forget routes pushes and bytes seen so far.
    pub fn mark(&self) {
        for s in self.lock().iter_mut() {
            s.routes_after_mark = None;
            s.bytes_since_mark = 0;
        }
    }

    /// How many proxies ACKed a routes push since the mark, and their times.
    pub fn routes_since_mark(&self) -> Vec<Instant> {
        self.lock()
            .iter()
            .filter_map(|s| s.routes_after_mark)
            .collect()
    }

    /// Payload bytes received by all proxies since the mark.
    pub fn bytes_since_mark(&self) -> u64 {
        self.lock().iter().map(|s| s.bytes_since_mark).sum()
    }

    /// How many proxies have every config type on their current stream.
    pub fn complete(&self) -> usize {
        self.lock().iter().filter(|s| s.types == ALL_TYPES).count()
    }

    /// How many streams each proxy has opened so far.
    pub fn sessions(&self) -> Vec<u32> {
        self.lock().iter().map(|s| s.sessions).collect()
    }

    /// Whether every proxy opened a new stream since `before` ([`Sim::sessions`]).
    pub fn all_reconnected(&self, before: &[u32]) -> bool {
        self.lock().iter().zip(before).all(|(s, b)| s.sessions > *b)
    }

    /// When the last push (to anyone) arrived.
    pub fn last_push(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.last_push_ns.load(Ordering::Relaxed))
    }

    fn connected(&self, idx: usize) {
        if let Some(s) = self.lock().get_mut(idx) {
            s.types = 0;
            s.sessions += 1;
        }
    }

    fn received(&self, idx: usize, type_url: &str, bytes: usize) {
        let now = Instant::now();
        let bit = type_bit(type_url);
        if let Some(s) = self.lock().get_mut(idx) {
            s.types |= bit;
            s.bytes_since_mark += bytes as u64;
            if type_url == mesh_api::proxy::TYPE_ROUTES && s.routes_after_mark.is_none() {
                s.routes_after_mark = Some(now);
            }
        }
        let ns = now.duration_since(self.epoch).as_nanos() as u64;
        self.last_push_ns.fetch_max(ns, Ordering::Relaxed);
    }
}

/// Opens `connections` HTTP/2 connections (lazily; tonic reconnects them).
pub fn channels(address: &str, connections: usize) -> anyhow::Result<Vec<Channel>> {
    (0..connections.max(1))
        .map(|_| {
            Ok(
                tonic::transport::Endpoint::from_shared(format!("http://{address}"))?
                    .tcp_nodelay(true)
                    .connect_timeout(Duration::from_secs(2))
                    .initial_connection_window_size(Some(64 << 20))
                    .initial_stream_window_size(Some(4 << 20))
                    .connect_lazy(),
            )
        })
        .collect()
}

/// Run one proxy forever: connect, Hello, ACK every push; on any error back off
/// as the real sidecar does (100 ms doubling to 5 s) and reconnect.
pub async fn run_proxy(idx: usize, spec: ProxySpec, channel: Channel, sim: Arc<Sim>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if session(idx, &spec, channel.clone(), &sim).await.is_ok() {
            backoff = Duration::from_millis(100);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn session(
    idx: usize,
    spec: &ProxySpec,
    channel: Channel,
    sim: &Sim,
) -> Result<(), tonic::Status> {
    let mut client = DiscoveryClient::new(channel).max_decoding_message_size(256 << 20);
    let (tx, mut rx) = mpsc::channel::<ProxyMessage>(8);
    let hello = Hello {
        proxy_id: spec.proxy_id.clone(),
        service: spec.service.clone(),
        namespace: spec.namespace.clone(),
        service_account: spec.service.clone(),
        labels: [
            ("app".to_owned(), spec.service.clone()),
            ("version".to_owned(), spec.version.to_owned()),
        ]
        .into_iter()
        .collect(),
        inbound_address: format!("127.0.0.1:{}", spec.inbound_port),
        ports: vec![ServicePort {
            port: SERVICE_PORT,
            app_port: SERVICE_PORT,
            protocol: "http".into(),
            name: "http".into(),
        }],
        admin_address: String::new(),
        proxy_version: "mesh-bench".into(),
        outbound_address: String::new(),
        app_ready: true,
    };
    let _ = tx
        .send(ProxyMessage {
            message: Some(Message::Hello(hello)),
        })
        .await;
    let outbound = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut inbound = client.stream(outbound).await?.into_inner();
    sim.connected(idx);
    while let Some(push) = inbound.message().await? {
        let ack = Ack {
            type_url: push.type_url.clone(),
            version: push.version.clone(),
            nonce: push.nonce.clone(),
            error: String::new(),
        };
        if tx
            .send(ProxyMessage {
                message: Some(Message::Ack(ack)),
            })
            .await
            .is_err()
        {
            break;
        }
        sim.received(idx, &push.type_url, push.payload.len());
    }
    Ok(())
}
