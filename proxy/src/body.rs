//! The one body type of every listener: an upstream's (or downstream's) streaming
//! body passed through untouched (trailers included), a small local body, or a
//! request body read from a [`Spool`] so that it can be sent again on a retry;
//! and [`RequestBody`], a downstream request's body as the data path gets it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

use crate::telemetry::MessageTap;

/// The error of a [`ProxyBody`]: the peer's, or a spooled body's.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body: streamed from a peer, generated locally, or read from a spool.
#[derive(Debug)]
pub enum ProxyBody {
    /// Streamed from a peer, frame by frame.
    Upstream(crate::upstream::UpstreamBody),
    /// A downstream request's body, streamed frame by frame.
    Downstream(RequestBody),
    /// A locally generated body, sent once.
    Local(Option<Bytes>),
    /// A request body read from its spool (see [`Spool`]).
    Spooled(Spooled),
    /// A response body whose request is recorded in the metrics when it ends.
    Metered(Box<crate::telemetry::Metered>),
}

impl ProxyBody {
    /// A local body with this content.
    pub fn local(b: impl Into<Bytes>) -> Self {
        let b = b.into();
        if b.is_empty() {
            ProxyBody::Local(None)
        } else {
            ProxyBody::Local(Some(b))
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        ProxyBody::Local(None)
    }

    /// Collects the whole body (for tests and small admin payloads).
    pub async fn collect_bytes(self) -> Result<Bytes, BoxError> {
        Ok(self.collect().await?.to_bytes())
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ProxyBody::Upstream(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            ProxyBody::Downstream(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            ProxyBody::Local(b) => Poll::Ready(b.take().map(|d| Ok(Frame::data(d)))),
            ProxyBody::Spooled(s) => s.poll(cx),
            ProxyBody::Metered(m) => m.poll(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Upstream(b) => b.is_end_stream(),
            ProxyBody::Downstream(b) => b.is_end_stream(),
            ProxyBody::Local(b) => b.is_none(),
            ProxyBody::Spooled(_) => false,
            ProxyBody::Metered(m) => m.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Upstream(b) => b.size_hint(),
            ProxyBody::Downstream(b) => b.size_hint(),
            ProxyBody::Local(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ProxyBody::Spooled(_) => SizeHint::default(),
            ProxyBody::Metered(m) => m.size_hint(),
        }
    }
}

/// A downstream request's body: hyper's, passed through untouched. A gRPC
/// request's messages are counted as they pass (no copy, no buffering); any
/// other request only pays the check that there is no counter.
#[derive(Debug)]
pub struct RequestBody {
    inner: Incoming,
    messages: Option<Box<MessageTap>>,
}

impl RequestBody {
    /// `inner`, its messages counted by `messages` when given.
    pub(crate) fn new(inner: Incoming, messages: Option<Box<MessageTap>>) -> Self {
        Self { inner, messages }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(tap) = &mut this.messages
            && let Poll::Ready(Some(Ok(frame))) = &r
            && let Some(data) = frame.data_ref()
        {
            tap.feed(data);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A streamed request body read from downstream by its own task and kept (up to
/// a limit) while it is sent to the first try: once it is complete, a failed
/// try can be retried with the same bytes, as Envoy buffers for retries. Past
/// the limit nothing is kept for retries and frames are dropped once read.
#[derive(Debug)]
pub(crate) struct Spool {
    state: Mutex<SpoolState>,
    /// Wakes readers when frames arrive or the body ends.
    arrived: Arc<Notify>,
    /// Wakes the pump when a reader consumed frames (backpressure).
    consumed: Notify,
    limit: usize,
}

#[derive(Debug, Default)]
struct SpoolState {
    frames: VecDeque<Bytes>,
    /// Absolute index of `frames[0]`.
    first: usize,
    /// Bytes kept and not yet dropped.
    kept: usize,
    complete: bool,
    failed: bool,
    overflow: bool,
}

impl Spool {
    /// Starts reading `body` into a new spool.
    pub(crate) fn start(body: RequestBody, limit: usize) -> Arc<Self> {
        let spool = Arc::new(Spool {
            state: Mutex::new(SpoolState::default()),
            arrived: Arc::new(Notify::new()),
            consumed: Notify::new(),
            limit,
        });
        tokio::spawn(pump(body, spool.clone()));
        spool
    }

    fn state(&self) -> MutexGuard<'_, SpoolState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether another try can read the whole body from the start.
    pub(crate) fn replayable(&self) -> bool {
        let s = self.state();
        s.complete && !s.failed && !s.overflow
    }

    /// Waits until the body ended, failed or outgrew the limit: what decides
    /// whether it can be replayed (Envoy likewise retries once the downstream
    /// request is complete).
    pub(crate) async fn settled(&self) {
        loop {
            let arrived = self.arrived.notified();
            {
                let s = self.state();
                if s.complete || s.failed || s.overflow {
                    return;
                }
            }
            arrived.await;
        }
    }

    /// A reader from the first frame.
    pub(crate) fn reader(self: &Arc<Self>) -> Spooled {
        Spooled {
            spool: self.clone(),
            next: 0,
            wait: None,
        }
    }
}

async fn pump(mut body: RequestBody, spool: Arc<Spool>) {
    loop {
        // Nobody can read any more: stop.
        if Arc::strong_count(&spool) == 1 {
            return;
        }
        let frame = body.frame().await;
        let consumed = spool.consumed.notified();
        let (done, backlog) = {
            let mut s = spool.state();
            match frame {
                None => {
                    s.complete = true;
                    (true, false)
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "downstream request body failed");
                    s.failed = true;
                    (true, false)
                }
                // Request trailers (rare; gRPC sends none) are not forwarded.
                Some(Ok(f)) => match f.into_data() {
                    Ok(data) => {
                        s.kept += data.len();
                        if s.kept > spool.limit {
                            s.overflow = true;
                        }
                        s.frames.push_back(data);
                        (false, s.overflow && s.kept > spool.limit)
                    }
                    Err(_) => (false, false),
                },
            }
        };
        spool.arrived.notify_waiters();
        if done {
            return;
        }
        if backlog {
            // Past the limit: wait for the reader before reading more.
            consumed.await;
        }
    }
}

/// One try's view of a spooled body.
#[derive(Debug)]
pub struct Spooled {
    spool: Arc<Spool>,
    /// Absolute index of the next frame to yield.
    next: usize,
    wait: Option<Pin<Box<OwnedNotified>>>,
}

impl Spooled {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if self.wait.is_none() {
                let mut n = Box::pin(self.spool.arrived.clone().notified_owned());
                n.as_mut().enable();
                self.wait = Some(n);
            }
            {
                let mut s = self.spool.state();
                if self.next < s.first {
                    return Poll::Ready(Some(Err("spooled body frames were dropped".into())));
                }
                if let Some(d) = s.frames.get(self.next - s.first).cloned() {
                    self.next += 1;
                    if s.overflow {
                        // No retry can use them: drop what was read.
                        while s.first < self.next {
                            if let Some(f) = s.frames.pop_front() {
                                s.kept -= f.len();
                            }
                            s.first += 1;
                        }
                        drop(s);
                        self.spool.consumed.notify_waiters();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                if s.complete {
                    return Poll::Ready(None);
                }
                if s.failed {
                    return Poll::Ready(Some(Err("downstream request body failed".into())));
                }
            }
            let Some(w) = self.wait.as_mut() else {
                continue;
            };
            match w.as_mut().poll(cx) {
                Poll::Ready(()) => self.wait = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
