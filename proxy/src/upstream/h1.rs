//! Keep-alive HTTP/1.1 connections to one upstream endpoint: an app, or a peer
//! sidecar over mutual TLS (Istio's default between sidecars, `h2UpgradePolicy`
//! unset or `DO_NOT_UPGRADE`, keeps HTTP/1.1 on the wire).
//!
//! A connection carries one exchange at a time and has no task of its own,
//! nor any channel: the request that leases it writes the request and reads
//! the response head itself ([`Lease::send`], with the codec of
//! [`super::codec`]), then the response body reads the rest as it is polled
//! ([`H1Body`]). Once the exchange is complete (for a small response, as soon
//! as its head is read: the body came with it) the connection goes back to the
//! pool, where the next request takes the most recently used one. Nothing
//! polls an idle connection, so a close by the peer is seen when a request
//! takes it (the request then goes on another connection, unsent) or when the
//! sweeper task looks, which runs while the pool holds connections; stale and
//! old-bundle ones are dropped on the way.

use std::future::poll_fn;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderName, Method, Request, Response, Version};
use hyper::body::{Body, Frame};
use tokio::io::AsyncWrite;
use tokio::time::Instant;
use tokio_util::io::poll_read_buf;

use super::codec::{self, Decoded, Decoder, Framing, H1Error, ResponseHead};
use super::{PoolSettings, UpstreamBody};
use crate::body::ProxyBody;
use crate::transport::Conn;

/// A connection idle this long is not reused: a peer sidecar's server closes an
/// idle keep-alive connection 30 to 60 s after its last request
/// (`server::idle`), and a request must not race that close.
const REUSE_IDLE: Duration = Duration::from_secs(20);

/// Reads take up to this much at a time.
const READ_SIZE: usize = 16 * 1024;

/// Why [`Lease::send`] failed.
#[derive(Debug)]
pub(super) enum SendFailed {
    /// The connection had closed: the request was not sent, and comes back.
    Unsent(Box<Request<ProxyBody>>),
    /// The exchange failed after the request was (perhaps partly) sent.
    Exchange(H1Error),
}

#[derive(Debug)]
pub(super) struct H1Pool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Idle connections, the most recently used last.
    idle: Mutex<Vec<Lease>>,
    /// Idle this long, a connection is closed (`idleTimeout`, at most [`REUSE_IDLE`]).
    stale_after: Duration,
    /// `maxRequestsPerConnection`.
    max_requests: Option<u32>,
    /// Whether a sweeper task is running (changed with `idle` locked).
    sweeping: AtomicBool,
}

/// One connection and what the pool knows of it; held by the request (or
/// response body) using it, or idle in the pool.
#[derive(Debug)]
pub(super) struct Lease {
    io: Conn,
    /// Bytes read and not yet taken: heads are split off it, bodies decoded
    /// from it (without copies).
    rbuf: BytesMut,
    /// What is still to be written.
    out: Out,
    /// Requests sent on it.
    uses: u32,
    /// When the last request was sent: its idle time is at most `now - last_sent`.
    last_sent: Instant,
    /// The trust bundle (`Identity::bundle_id`) its handshake was verified with
    /// (0: plaintext).
    bundle: u64,
    pool: Weak<Inner>,
}

/// Bytes queued for the connection, written in this order: a head (or chunk
/// framing) built here, a body frame's data as it came, and a line end.
#[derive(Debug, Default)]
struct Out {
    head: Vec<u8>,
    /// How much of `head` is written.
    at: usize,
    data: Bytes,
    tail: &'static [u8],
}

impl Out {
    /// Whether a body frame's data may be queued.
    fn data_free(&self) -> bool {
        self.data.is_empty() && self.tail.is_empty()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Vec<Lease>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl H1Pool {
    pub(super) fn new(settings: &PoolSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                idle: Mutex::default(),
                stale_after: settings
                    .idle_timeout
                    .map_or(REUSE_IDLE, |t| t.min(REUSE_IDLE)),
                max_requests: settings.max_requests_per_connection,
                sweeping: AtomicBool::new(false),
            }),
        }
    }

    /// The most recently used idle connection verified with `bundle`, if any.
    /// Stale and old-bundle ones met on the way are dropped (closed); whether
    /// the one taken is still open shows when a request is sent on it.
    pub(super) fn checkout(&self, bundle: u64, now: Instant) -> Option<Lease> {
        let stale_after = self.inner.stale_after;
        let mut idle = self.inner.lock();
        while let Some(c) = idle.pop() {
            if c.bundle == bundle && !c.idle_for(now, stale_after) {
                return Some(c);
            }
        }
        None
    }

    /// A lease on a connection just dialed.
    pub(super) fn lease(&self, io: Conn, bundle: u64, now: Instant) -> Lease {
        Lease {
            io,
            rbuf: BytesMut::new(),
            out: Out::default(),
            uses: 0,
            last_sent: now,
            bundle,
            pool: Arc::downgrade(&self.inner),
        }
    }

    /// Idle connections kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner.lock().len()
    }
}

impl Lease {
    /// Whether `after` has passed since its last request was sent.
    fn idle_for(&self, now: Instant, after: Duration) -> bool {
        now.saturating_duration_since(self.last_sent) >= after
    }

    /// Whether an idle connection can no longer carry a request: the peer
    /// closed it, it failed, or it sent bytes nobody asked for. A read is only
    /// tried if the socket was seen readable, so a quiet connection costs no
    /// system call.
    fn ended(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.rbuf.is_empty() {
            return true;
        }
        self.poll_fill(cx).is_ready()
    }

    /// Reads more into `rbuf`: how many bytes (0 at the close).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        if self.rbuf.capacity() - self.rbuf.len() < READ_SIZE / 4 {
            self.rbuf.reserve(READ_SIZE);
        }
        poll_read_buf(Pin::new(&mut self.io), cx, &mut self.rbuf)
    }

    /// Writes what is queued, then flushes.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        loop {
            let out = &mut self.out;
            let head = &out.head[out.at..];
            let parts = [head, &out.data[..], out.tail];
            let mut slices = [IoSlice::new(&[]); 3];
            let mut n = 0;
            for p in parts.into_iter().filter(|p| !p.is_empty()) {
                slices[n] = IoSlice::new(p);
                n += 1;
            }
            if n == 0 {
                break;
            }
            let mut wrote = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..n]))?;
            if wrote == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            let h = wrote.min(head.len());
            out.at += h;
            wrote -= h;
            let d = wrote.min(out.data.len());
            out.data.advance(d);
            wrote -= d;
            out.tail = &out.tail[wrote.min(out.tail.len())..];
        }
        self.out.head.clear();
        self.out.at = 0;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Sends `req` and reads the response's head. The response body streams
    /// from the connection, which goes back to the pool once the exchange is
    /// complete.
    pub(super) async fn send(
        mut self,
        req: Request<ProxyBody>,
        now: Instant,
    ) -> Result<Response<UpstreamBody>, SendFailed> {
        if poll_fn(|cx| Poll::Ready(self.ended(cx))).await {
            return Err(SendFailed::Unsent(Box::new(req)));
        }
        self.uses += 1;
        self.last_sent = now;
        let (mut parts, body) = req.into_parts();
        let empty = body.is_end_stream();
        let framing = codec::encode_request(
            &mut parts,
            empty,
            body.size_hint().exact(),
            &mut self.out.head,
        );
        let mut sending = Sending {
            trailers: match framing {
                Framing::Chunked => codec::announced_trailers(&parts.headers),
                _ => Vec::new(),
            },
            body: (framing != Framing::Length(0)).then_some(body),
            framing,
            done: false,
            failed: None,
        };
        let method = parts.method;
        let head = poll_fn(|cx| self.poll_exchange(cx, &mut sending, &method))
            .await
            .map_err(SendFailed::Exchange)?;
        // An HTTP/1.0 request asked for no keep-alive.
        let reuse = head.keep_alive && parts.version != Version::HTTP_10;
        Ok(self.respond(head, reuse, sending))
    }

    /// Writes the request (head and body) while watching for the response's
    /// head, which may come before the request is complete.
    fn poll_exchange(
        &mut self,
        cx: &mut Context<'_>,
        s: &mut Sending,
        method: &Method,
    ) -> Poll<Result<ResponseHead, H1Error>> {
        self.poll_send(cx, s)?;
        loop {
            if let Some(head) = codec::parse_response(&mut self.rbuf, method)? {
                return Poll::Ready(Ok(head));
            }
            match ready!(self.poll_fill(cx)) {
                Ok(0) => return Poll::Ready(Err(s.failed.take().unwrap_or(H1Error::Incomplete))),
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(s.failed.take().unwrap_or(e.into()))),
            }
        }
    }

    /// Writes what it can of the request, each body frame with what is
    /// queued before it, until it waits on the body or the socket (or is done).
    fn poll_send(&mut self, cx: &mut Context<'_>, s: &mut Sending) -> Result<(), H1Error> {
        while !s.done {
            let mut waiting = false;
            if self.out.data_free()
                && let Some(body) = &mut s.body
            {
                match Pin::new(body).poll_frame(cx) {
                    Poll::Ready(Some(Ok(frame))) => s.queue(frame, &mut self.out)?,
                    Poll::Ready(Some(Err(e))) => return Err(H1Error::RequestBody(e)),
                    Poll::Ready(None) => s.end(None, &mut self.out)?,
                    Poll::Pending => waiting = true,
                }
            }
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) if s.body.is_none() => s.done = true,
                Poll::Ready(Ok(())) if waiting => break,
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    // The peer may have answered and closed (a 413 before
                    // the whole upload): stop sending, and read that answer.
                    // The error is reported only if there is none.
                    s.body = None;
                    s.done = true;
                    s.failed = Some(e.into());
                }
                Poll::Pending => break,
            }
        }
        Ok(())
    }

    /// The response of `head`: its body already read (the connection then
    /// goes back at once, or is closed if the request is not all sent yet),
    /// or to be read from the connection, which meanwhile sends the rest of
    /// the request (a server may answer before it has read all of it, and
    /// stream its answer as it reads, as an echo does).
    fn respond(mut self, head: ResponseHead, reuse: bool, s: Sending) -> Response<UpstreamBody> {
        let ResponseHead {
            response, framing, ..
        } = head;
        // Reused only once the whole request went out.
        let reuse = reuse && s.failed.is_none();
        let body = match framing {
            Framing::Length(0) => {
                self.finish(reuse && s.done);
                UpstreamBody::full(None)
            }
            Framing::Length(n) if self.rbuf.len() as u64 >= n => {
                let data = self.rbuf.split_to(n as usize).freeze();
                self.finish(reuse && s.done);
                UpstreamBody::full(Some(data))
            }
            framing => UpstreamBody::h1(H1Body {
                decoder: Decoder::new(framing),
                reuse: reuse && framing != Framing::Close,
                sending: (!s.done).then_some(s),
                lease: Some(self),
            }),
        };
        response.map(|()| body)
    }

    /// Its exchange complete: back to the pool if `reuse` and nothing more
    /// was read, else closed.
    fn finish(self, reuse: bool) {
        if reuse && self.rbuf.is_empty() {
            self.release();
        }
    }

    /// Back to the pool, unless it carried all the requests it may or the
    /// pool is gone.
    fn release(self) {
        let Some(pool) = self.pool.upgrade() else {
            return;
        };
        if pool.max_requests.is_some_and(|max| self.uses >= max) {
            return;
        }
        let mut idle = pool.lock();
        if !pool.sweeping.load(Ordering::Relaxed) {
            // A body can be dropped outside the runtime (or as it shuts
            // down): with no sweeper to start, the connection is not kept.
            let Ok(rt) = tokio::runtime::Handle::try_current() else {
                return;
            };
            pool.sweeping.store(true, Ordering::Relaxed);
            rt.spawn(sweep(Arc::downgrade(&pool)));
        }
        idle.push(self);
    }
}

/// A request body on its way: framed by length or in chunks.
#[derive(Debug)]
struct Sending {
    /// What is left of the body (`None` once its end is queued).
    body: Option<ProxyBody>,
    /// `Length(n)`: `n` bytes still to come.
    framing: Framing,
    /// The trailer fields a chunked body may send.
    trailers: Vec<HeaderName>,
    /// Whether all of the request is written (or writing it failed).
    done: bool,
    /// Why writing the request failed, if it did.
    failed: Option<H1Error>,
}

impl Sending {
    /// Queues a body frame.
    fn queue(&mut self, frame: Frame<Bytes>, out: &mut Out) -> Result<(), H1Error> {
        let frame = match frame.into_data() {
            Ok(data) if data.is_empty() => return Ok(()),
            Ok(data) => {
                match &mut self.framing {
                    Framing::Length(rem) => {
                        *rem = rem
                            .checked_sub(data.len() as u64)
                            .ok_or(H1Error::RequestLength("is longer than its content-length"))?;
                    }
                    _ => {
                        codec::encode_chunk_size(data.len(), &mut out.head);
                        out.tail = b"\r\n";
                    }
                }
                out.data = data;
                return Ok(());
            }
            Err(frame) => frame,
        };
        // Trailers end the body.
        self.end(frame.into_trailers().ok(), out)
    }

    /// Queues the end of the body, with its trailers if it has any.
    fn end(&mut self, trailers: Option<http::HeaderMap>, out: &mut Out) -> Result<(), H1Error> {
        self.body = None;
        match self.framing {
            Framing::Length(0) => Ok(()),
            Framing::Length(_) => Err(H1Error::RequestLength("ended before its content-length")),
            _ => {
                codec::encode_chunked_end(trailers.as_ref(), &self.trailers, &mut out.head);
                Ok(())
            }
        }
    }
}

/// A response body read from its leased connection as it is polled, which
/// also sends what is left of the request; the connection goes back to the
/// pool when both are complete (or is closed if the body is dropped before,
/// or the response ends before the request).
#[derive(Debug)]
pub(super) struct H1Body {
    lease: Option<Lease>,
    decoder: Decoder,
    /// The rest of the request, while it is being sent.
    sending: Option<Sending>,
    /// Whether the connection may carry another exchange after this one.
    reuse: bool,
}

impl H1Body {
    pub(super) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, H1Error>>> {
        let Some(lease) = &mut self.lease else {
            return Poll::Ready(None);
        };
        let mut step = Ok(Decoded::More);
        if let Some(s) = &mut self.sending {
            match lease.poll_send(cx, s) {
                Ok(()) if s.done => {
                    self.reuse &= s.failed.is_none();
                    self.sending = None;
                }
                Ok(()) => {}
                Err(e) => step = Err(e),
            }
        }
        let mut eof = false;
        while step.is_ok() {
            step = self.decoder.decode(&mut lease.rbuf, eof);
            match &step {
                Ok(Decoded::More) => match ready!(lease.poll_fill(cx)) {
                    Ok(0) => eof = true,
                    Ok(_) => {}
                    Err(e) => step = Err(e.into()),
                },
                Ok(_) => break,
                Err(_) => {}
            }
        }
        match step {
            Ok(Decoded::Frame(f)) => {
                if self.decoder.is_done() {
                    self.finish();
                }
                Poll::Ready(Some(Ok(f)))
            }
            Ok(_) => {
                self.finish();
                Poll::Ready(None)
            }
            Err(e) => {
                self.lease = None;
                self.sending = None;
                self.decoder = Decoder::Done;
                Poll::Ready(Some(Err(e)))
            }
        }
    }

    /// The response read: the connection goes back if the request is all
    /// sent too.
    fn finish(&mut self) {
        if let Some(l) = self.lease.take() {
            l.finish(self.reuse && self.sending.is_none());
        }
    }

    pub(super) fn is_end_stream(&self) -> bool {
        self.decoder.is_done()
    }

    pub(super) fn size_hint(&self) -> hyper::body::SizeHint {
        self.decoder.size_hint()
    }
}

impl Drop for H1Body {
    fn drop(&mut self) {
        // Read to its last data but its end not yet taken: when that end is
        // buffered, the exchange is complete. Otherwise the body was cut
        // short, and the connection closes with it.
        if let Some(l) = &mut self.lease
            && matches!(self.decoder.decode(&mut l.rbuf, false), Ok(Decoded::End))
        {
            self.finish();
        }
    }
}

/// Closes stale connections, and those the peer closed, while the pool has
/// any (and exists).
async fn sweep(pool: Weak<Inner>) {
    loop {
        let every = match pool.upgrade() {
            Some(p) => p.stale_after,
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(pool) = pool.upgrade() else { return };
        let now = Instant::now();
        let mut idle = pool.lock();
        let mut quiet = Context::from_waker(Waker::noop());
        idle.retain_mut(|c| !c.idle_for(now, pool.stale_after) && !c.ended(&mut quiet));
        if idle.is_empty() {
            pool.sweeping.store(false, Ordering::Relaxed);
            return;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
