//! One request's measurement: started when the listener receives it, labelled
//! when the answer is known, recorded when the answer's body ends (or is
//! dropped), so durations and response sizes cover the whole response.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, Method, Request, Response, StatusCode};
use hyper::body::{Body, Frame, Incoming, SizeHint};

use super::grpc::{FrameCounter, MessageTap};
use super::labels::{Edge, Protocol, Reporter, RequestLabels, SecurityPolicy, TcpLabels};
use super::metrics::{Measured, Metrics, RequestFamilies, TcpFamilies};
use super::observe::{Downstream, Observed, RtTelemetry};
use super::peer::{PEER, Workload};
use super::upsert::Upserted;
use crate::body::{BoxError, ProxyBody, RequestBody};
use crate::stats::{Flag, Side};

/// The cluster an outbound request was sent to, put in the response's
/// extensions by the data path so that the destination service is known.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamCluster(pub Arc<crate::cluster::RtCluster>);

impl UpstreamCluster {
    /// Tags an answer with the cluster it came from.
    pub(crate) fn tag(cluster: &Arc<crate::cluster::RtCluster>, resp: &mut Response<ProxyBody>) {
        resp.extensions_mut()
            .insert(UpstreamCluster(cluster.clone()));
    }
}

/// Mutual TLS facts about the downstream connection, from the listener that
/// terminated it.
#[derive(Debug, Clone)]
pub struct PeerSecurity {
    /// The connection's policy.
    pub policy: SecurityPolicy,
    /// The peer certificate's SPIFFE ID, if any.
    pub principal: Option<Arc<str>>,
}

/// The bits of the gRPC message counters in the disabled masks
/// (`GRPC_REQUEST_MESSAGES`, `GRPC_RESPONSE_MESSAGES`; see `observe::metric_bit`).
const REQUEST_MESSAGES: u8 = 32;
const RESPONSE_MESSAGES: u8 = 64;

/// A request being measured.
#[derive(Debug)]
pub(crate) struct Call {
    side: Side,
    start: Instant,
    request_bytes: u64,
    /// The request body's size when known up front (the access log's `BYTES_RECEIVED`).
    request_body: u64,
    protocol: Protocol,
    connect: bool,
    /// Inbound: the caller (from the exchange header), else unknown.
    source: Option<Arc<Workload>>,
    security: PeerSecurity,
    /// Access log and span, when on.
    observed: Option<Box<Observed>>,
    /// Request metrics this direction does not record (Telemetry overrides).
    disabled: u8,
    /// Request labels removed (Telemetry `tagOverrides` REMOVE).
    removed: u32,
    /// Request labels added or replaced (`UPSERT`), evaluated on arrival.
    upsert: Option<Box<Upserted>>,
    /// gRPC messages read from downstream so far (gRPC requests, when recorded).
    request_messages: Option<Arc<AtomicU64>>,
}

/// Roughly what the headers weigh on the wire (name, `: `, value, CRLF).
fn header_bytes(h: &HeaderMap) -> u64 {
    h.iter()
        .map(|(k, v)| (k.as_str().len() + v.len() + 4) as u64)
        .sum()
}

/// `grpc-status`, parsed once.
pub(crate) static GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

fn grpc_status(h: &HeaderMap) -> Option<u16> {
    h.get(&GRPC_STATUS)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse().ok())
}

impl Call {
    /// Starts measuring; on the outbound side adds this workload's exchange
    /// header, on the inbound side takes the caller's out of the request.
    /// `conn`: the downstream connection and its mutual TLS.
    pub(crate) fn start<B: Body>(
        m: &Metrics,
        side: Side,
        req: &mut Request<B>,
        tel: &RtTelemetry,
        proxy_id: &str,
        conn: (Downstream, PeerSecurity),
    ) -> Self {
        let (down, security) = conn;
        let observed = Observed::start(tel, m, proxy_id, side, req, down);
        let upsert = tel
            .upserts
            .as_ref()
            .and_then(|u| u.start(side != Side::Inbound, req));
        let disabled = if side == Side::Inbound {
            tel.disabled_server
        } else {
            tel.disabled_client
        };
        let headers = req.headers_mut();
        let source = match side {
            Side::Inbound => headers.remove(&PEER).and_then(|v| m.peers.get(&v)),
            _ => {
                match &m.me_header {
                    Some(v) => headers.insert(PEER.clone(), v.clone()),
                    None => headers.remove(&PEER),
                };
                None
            }
        };
        let grpc = headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
        let body = req.body().size_hint().exact().unwrap_or(0);
        Self {
            side,
            start: Instant::now(),
            request_bytes: header_bytes(req.headers()) + body,
            request_body: body,
            protocol: if grpc { Protocol::Grpc } else { Protocol::Http },
            connect: req.method() == Method::CONNECT,
            source,
            security,
            observed,
            disabled,
            removed: tel.removed_tags,
            upsert,
            request_messages: None,
        }
    }

    /// The request's body for the data path: a gRPC request's is counted as
    /// it streams (`istio_request_messages_total`), any other passes as is.
    pub(crate) fn tap(&mut self, req: Request<Incoming>) -> Request<RequestBody> {
        if self.protocol != Protocol::Grpc || self.disabled & REQUEST_MESSAGES != 0 {
            return req.map(|b| RequestBody::new(b, None));
        }
        let total = Arc::new(AtomicU64::new(0));
        self.request_messages = Some(total.clone());
        req.map(|b| RequestBody::new(b, Some(Box::new(MessageTap::new(total)))))
    }

    fn edge(&self, m: &Metrics, resp: &mut Response<ProxyBody>) -> Edge {
        match self.side {
            Side::Inbound => {
                if let Some(v) = &m.me_header {
                    resp.headers_mut().insert(PEER.clone(), v.clone());
                }
                Edge {
                    reporter: Reporter::Destination,
                    source: self.source.clone().unwrap_or_else(|| m.unknown.clone()),
                    source_principal: self.security.principal.clone(),
                    destination: m.me.clone(),
                    destination_principal: None,
                    service: m.my_service.clone(),
                    security: self.security.policy,
                }
            }
            _ => {
                let peer = resp.headers_mut().remove(&PEER);
                let service = resp
                    .extensions()
                    .get::<UpstreamCluster>()
                    .map_or_else(|| m.unknown_service.clone(), |c| m.service(&c.0.name));
                Edge {
                    reporter: Reporter::Source,
                    source: m.me.clone(),
                    source_principal: None,
                    destination: peer
                        .and_then(|v| m.peers.get(&v))
                        .unwrap_or_else(|| m.unknown.clone()),
                    destination_principal: None,
                    service,
                    security: self.security.policy,
                }
            }
        }
    }

    /// Labels the answer; records it now if it has no body, else when its body ends.
    pub(crate) fn finish(
        mut self,
        m: &Metrics,
        mut resp: Response<ProxyBody>,
        flag: Flag,
    ) -> Response<ProxyBody> {
        let edge = self.edge(m, &mut resp);
        if let Some(o) = &mut self.observed {
            o.answered(self.side, &resp, flag, self.request_body);
        }
        if self.connect
            && resp.status() == StatusCode::OK
            && let Some(tunnel) = resp.extensions().get::<TunnelMeter>()
        {
            let labels = TcpLabels { edge, flag };
            if self.disabled & 16 == 0 {
                m.tcp.opened.get_or_create(&labels).inc();
                tunnel.attach(m.tcp.clone(), labels);
            }
            return resp;
        }
        let labels = RequestLabels {
            edge,
            protocol: self.protocol,
            code: resp.status().as_u16(),
            grpc_status: grpc_status(resp.headers()),
            flag,
            hidden: 0,
            extra: None,
        };
        let mut labels = labels;
        if self.removed != 0 {
            labels.hide(self.removed);
        }
        let pending = Pending {
            families: m.http.clone(),
            labels,
            start: self.start,
            request_bytes: self.request_bytes,
            response_bytes: header_bytes(resp.headers()),
            body_bytes: 0,
            observed: self.observed,
            disabled: self.disabled,
            upsert: self.upsert,
            request_messages: self.request_messages,
            response_messages: (self.protocol == Protocol::Grpc
                && self.disabled & RESPONSE_MESSAGES == 0)
                .then(FrameCounter::default),
        };
        if resp.body().is_end_stream() {
            pending.record();
            return resp;
        }
        resp.map(|inner| {
            ProxyBody::Metered(Box::new(Metered {
                inner,
                pending: Some(pending),
            }))
        })
    }
}

#[derive(Debug)]
struct Pending {
    families: Arc<RequestFamilies>,
    labels: RequestLabels,
    start: Instant,
    request_bytes: u64,
    response_bytes: u64,
    /// Response body bytes only (the access log's `BYTES_SENT`).
    body_bytes: u64,
    observed: Option<Box<Observed>>,
    disabled: u8,
    upsert: Option<Box<Upserted>>,
    request_messages: Option<Arc<AtomicU64>>,
    /// The response's gRPC messages (gRPC requests, when recorded).
    response_messages: Option<FrameCounter>,
}

impl Pending {
    /// Records the metrics `disabled` leaves on, with `labels`.
    fn record_as(&self, labels: &RequestLabels, millis: f64, disabled: u8) {
        let measured = Measured {
            millis,
            request_bytes: self.request_bytes,
            response_bytes: self.response_bytes,
            request_messages: self
                .request_messages
                .as_ref()
                .map(|n| n.load(Ordering::Relaxed)),
            response_messages: self.response_messages.as_ref().map(FrameCounter::count),
        };
        self.families.record(labels, &measured, disabled);
    }

    fn record(self) {
        let millis = self.start.elapsed().as_secs_f64() * 1000.0;
        match &self.upsert {
            None => self.record_as(&self.labels, millis, self.disabled),
            // Each group of metrics with its own labels; the others are
            // left to the other groups.
            Some(u) => {
                for (labels, metrics) in u.label_sets(&self.labels) {
                    self.record_as(&labels, millis, self.disabled | !metrics);
                }
            }
        }
        if let Some(o) = self.observed {
            o.done(self.body_bytes);
        }
    }
}

/// A response body that records its request when it ends.
#[derive(Debug)]
pub struct Metered {
    inner: ProxyBody,
    pending: Option<Pending>,
}

impl Metered {
    fn done(&mut self) {
        if let Some(p) = self.pending.take() {
            p.record();
        }
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        self.done();
    }
}

impl Metered {
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        match &r {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(p) = &mut self.pending {
                    if let Some(d) = frame.data_ref() {
                        p.response_bytes += d.len() as u64;
                        p.body_bytes += d.len() as u64;
                        if let Some(f) = &mut p.response_messages {
                            f.feed(d);
                        }
                    } else if let Some(t) = frame.trailers_ref() {
                        p.response_bytes += header_bytes(t);
                        if let Some(s) = grpc_status(t) {
                            p.labels.grpc_status = Some(s);
                        }
                    }
                }
                if self.inner.is_end_stream() {
                    self.done();
                }
            }
            Poll::Ready(_) => self.done(),
            Poll::Pending => {}
        }
        r
    }

    pub(crate) fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    pub(crate) fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where a CONNECT tunnel reports its bytes when it closes: the data path puts
/// one in the tunnel's response, the listener attaches the labels. A tunnel
/// that ends without reporting (it failed before relaying) counts as closed
/// with no bytes once the last handle is gone.
#[derive(Debug, Clone, Default)]
pub(crate) struct TunnelMeter(Arc<Slot>);

type Attached = (Arc<TcpFamilies>, TcpLabels);

#[derive(Debug, Default)]
struct Slot(Mutex<Option<Attached>>);

impl Slot {
    fn report(&self, received: u64, sent: u64) {
        let Some((f, labels)) = self.0.lock().ok().and_then(|mut s| s.take()) else {
            return;
        };
        f.closed.get_or_create(&labels).inc();
        f.sent.get_or_create(&labels).inc_by(sent);
        f.received.get_or_create(&labels).inc_by(received);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.report(0, 0);
    }
}

impl TunnelMeter {
    fn attach(&self, families: Arc<TcpFamilies>, labels: TcpLabels) {
        if let Ok(mut slot) = self.0.0.lock() {
            *slot = Some((families, labels));
        }
    }

    /// The tunnel closed after `received` bytes from downstream and `sent` to it.
    pub(crate) fn closed(&self, received: u64, sent: u64) {
        self.0.report(received, sent);
    }

    /// Puts this meter in a tunnel's response.
    pub(crate) fn tag(&self, resp: &mut Response<ProxyBody>) {
        resp.extensions_mut().insert(self.clone());
    }
}
