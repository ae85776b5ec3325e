//! The simulated mesh: lightweight proxies speaking the real discovery protocol
//! (gRPC: Hello with a ready app, then an ACK for every push), many streams
//! multiplexed over a few HTTP/2 connections (hyper's client, so that one
//! connection's streams share it). They read each push's type, version and nonce,
//! count its payload's bytes as they stream past without keeping them (a tonic
//! client would hold a buffer as large as the largest push per stream: gigabytes
//! for ten thousand streams), and ACK it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{Ack, Hello, ProxyMessage, ServicePort};
use mesh_api::proxy::PUSH_ORDER;
use prost::Message as _;
use tokio::sync::mpsc;

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

/// One HTTP/2 connection to the control plane, reopened when it fails.
#[derive(Debug, Clone)]
pub struct Connection {
    address: String,
    sender: Arc<tokio::sync::Mutex<Option<SendRequest<ReqBody>>>>,
}

type ReqBody = StreamBody<ReceiverStream>;

/// The request body: gRPC frames from a channel.
#[derive(Debug)]
pub struct ReceiverStream(mpsc::Receiver<Bytes>);

impl futures_util::Stream for ReceiverStream {
    type Item = Result<Frame<Bytes>, std::convert::Infallible>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }
}

impl Connection {
    pub fn new(address: &str) -> Self {
        Connection {
            address: address.to_owned(),
            sender: Arc::default(),
        }
    }

    /// A sender on the open connection, or on a new one.
    async fn sender(&self) -> Result<SendRequest<ReqBody>, String> {
        let mut guard = self.sender.lock().await;
        if let Some(s) = guard.as_ref().filter(|s| !s.is_closed()) {
            return Ok(s.clone());
        }
        let tcp = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .initial_connection_window_size(4 << 20)
            .initial_stream_window_size(1 << 20)
            .handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        *guard = Some(sender.clone());
        Ok(sender)
    }
}

/// Opens nothing yet: `connections` lazily (re)connecting HTTP/2 connections.
pub fn connections(address: &str, connections: usize) -> Vec<Connection> {
    (0..connections.max(1))
        .map(|_| Connection::new(address))
        .collect()
}

/// Run one proxy forever: connect, Hello, ACK every push; on any error back off
/// as the real sidecar does (100 ms doubling to 5 s) and reconnect.
pub async fn run_proxy(idx: usize, spec: ProxySpec, conn: Connection, sim: Arc<Sim>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if session(idx, &spec, &conn, &sim).await.is_ok() {
            backoff = Duration::from_millis(100);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// A message in gRPC framing.
fn frame(msg: &ProxyMessage) -> Bytes {
    let body = msg.encode_to_vec();
    let mut out = Vec::with_capacity(5 + body.len());
    out.push(0);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.into()
}

fn hello(spec: &ProxySpec) -> Hello {
    Hello {
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
        // As the real sidecar: large payloads come compressed (the simulated
        // proxy counts their bytes on the wire and does not decompress them).
        accept_encodings: vec!["gzip".into()],
        // As the real sidecar: route changes come as deltas against the routes
        // the proxy acknowledged last (counted, not applied, like whole pushes).
        accept_deltas: vec![mesh_api::proxy::TYPE_ROUTES.into()],
    }
}

async fn session(idx: usize, spec: &ProxySpec, conn: &Connection, sim: &Sim) -> Result<(), String> {
    let mut sender = conn.sender().await?;
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let _ = tx
        .send(frame(&ProxyMessage {
            message: Some(Message::Hello(hello(spec))),
        }))
        .await;
    let req = http::Request::builder()
        .method(http::Method::POST)
        .uri(format!(
            "http://{}/meshctl.discovery.v1.Discovery/Stream",
            conn.address
        ))
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header("te", "trailers")
        .body(StreamBody::new(ReceiverStream(rx)))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    if resp.status() != http::StatusCode::OK {
        return Err(format!("HTTP {}", resp.status()));
    }
    sim.connected(idx);
    let mut body = resp.into_body();
    let mut reader = PushReader::default();
    while let Some(next) = body.frame().await {
        let next = next.map_err(|e| e.to_string())?;
        let Ok(data) = next.into_data() else {
            // Trailers: the stream ended.
            return Ok(());
        };
        for push in reader.feed(&data) {
            let ack = Ack {
                type_url: push.type_url.clone(),
                version: push.version,
                nonce: push.nonce,
                error: String::new(),
            };
            let msg = ProxyMessage {
                message: Some(Message::Ack(ack)),
            };
            if tx.send(frame(&msg)).await.is_err() {
                return Err("request stream closed".into());
            }
            sim.received(idx, &push.type_url, push.payload_len);
        }
    }
    Ok(())
}

/// What a proxy needs of a push to ACK it.
#[derive(Debug, Default)]
struct PushMeta {
    type_url: String,
    version: String,
    nonce: String,
    payload_len: usize,
}

/// Reads gRPC-framed `Push` messages from chunks, keeping only the fields before
/// the payload (type, version, nonce come first on the wire) and counting the
/// payload's bytes.
#[derive(Debug, Default)]
struct PushReader {
    /// Bytes of the current frame's 5-byte prefix and message head.
    head: Vec<u8>,
    /// The current message's length, once its prefix is read.
    len: Option<usize>,
    /// Bytes of the current message consumed so far.
    read: usize,
}

/// How much of a message's head is kept: more than type, version and nonce take.
const HEAD: usize = 512;

impl PushReader {
    fn feed(&mut self, mut data: &[u8]) -> Vec<PushMeta> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let Some(len) = self.len else {
                let need = 5 - self.head.len();
                let take = need.min(data.len());
                self.head.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.head.len() == 5 {
                    let len = u32::from_be_bytes([
                        self.head[1],
                        self.head[2],
                        self.head[3],
                        self.head[4],
                    ]);
                    self.len = Some(len as usize);
                    self.head.clear();
                    self.read = 0;
                }
                continue;
            };
            let take = (len - self.read).min(data.len());
            let keep = HEAD.saturating_sub(self.head.len()).min(take);
            self.head.extend_from_slice(&data[..keep]);
            self.read += take;
            data = &data[take..];
            if self.read == len {
                out.push(parse_head(&self.head, len));
                self.head.clear();
                self.len = None;
            }
        }
        // A message of length 0 has no bytes to wait for.
        if self.len == Some(0) {
            out.push(PushMeta::default());
            self.len = None;
        }
        out
    }
}

/// The string fields of a push from the head of its message, and its payload's
/// length (everything after them).
fn parse_head(head: &[u8], len: usize) -> PushMeta {
    let mut meta = PushMeta::default();
    let mut buf = head;
    while !buf.is_empty() {
        let Ok(key) = prost::encoding::decode_varint(&mut buf) else {
            break;
        };
        let Ok(field_len) = prost::encoding::decode_varint(&mut buf) else {
            break;
        };
        let field_len = field_len as usize;
        if key >> 3 == 4 || key & 7 != 2 {
            // The payload: all that is left of the message.
            meta.payload_len = len - (head.len() - buf.len()).min(len);
            break;
        }
        let Some(value) = buf.get(..field_len) else {
            break;
        };
        let text = String::from_utf8_lossy(value).into_owned();
        match key >> 3 {
            1 => meta.type_url = text,
            2 => meta.version = text,
            3 => meta.nonce = text,
            _ => {}
        }
        buf = &buf[field_len..];
    }
    meta
}

#[cfg(test)]
mod tests {
    use mesh_api::discovery::Push;
    use prost::Message;

    use super::PushReader;

    #[test]
    fn reads_pushes_split_anywhere() {
        let pushes: Vec<Push> = (0..3)
            .map(|i| Push {
                type_url: "routes".into(),
                version: format!("v{i}"),
                nonce: format!("{i}"),
                payload: vec![b'x'; 1000 * i].into(),
                encoding: String::new(),
                base_version: String::new(),
            })
            .collect();
        let mut wire = Vec::new();
        for p in &pushes {
            let body = p.encode_to_vec();
            wire.push(0);
            wire.extend_from_slice(&(body.len() as u32).to_be_bytes());
            wire.extend_from_slice(&body);
        }
        for chunk in [1, 7, 100, wire.len()] {
            let mut r = PushReader::default();
            let got: Vec<_> = wire.chunks(chunk).flat_map(|c| r.feed(c)).collect();
            assert_eq!(got.len(), 3, "chunk {chunk}");
            for (g, p) in got.iter().zip(&pushes) {
                assert_eq!(
                    (&g.version, &g.nonce, g.payload_len),
                    (&p.version, &p.nonce, p.payload.len())
                );
            }
        }
    }
}
