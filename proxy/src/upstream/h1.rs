//! Keep-alive HTTP/1.1 connections to one upstream endpoint: an app, or a peer
//! sidecar over mutual TLS (Istio's default between sidecars, `h2UpgradePolicy`
//! unset or `DO_NOT_UPGRADE`, keeps HTTP/1.1 on the wire).
//!
//! A connection carries one request at a time, and it has no task of its own:
//! the request that leases it drives it ([`Lease::send`]), then the response
//! body does while it streams ([`UpstreamBody`]), so an exchange costs no
//! wake-ups of a second task. Once the exchange is complete (for a small
//! response, as soon as its head is read: the body is then already buffered)
//! the connection goes back to the pool, where the next request takes the most
//! recently used one. Nothing polls an idle connection, so a close by the peer
//! is seen when a request takes it (the request then goes on another
//! connection, unsent) or when the sweeper task looks, which runs while the
//! pool holds connections; stale and old-bundle ones are dropped on the way.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hyper::client::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use super::PoolSettings;
use super::UpstreamBody;
use crate::body::ProxyBody;
use crate::transport::Conn;

/// A connection idle this long is not reused: a peer sidecar's server closes an
/// idle keep-alive connection 30 to 60 s after its last request
/// (`server::idle`), and a request must not race that close.
const REUSE_IDLE: Duration = Duration::from_secs(20);

/// An HTTP/1.1 client connection (hyper's), driven by whoever holds it.
pub(super) type H1Conn = http1::Connection<TokioIo<Conn>, ProxyBody>;

/// Why [`Lease::send`] failed.
#[derive(Debug)]
pub(super) enum SendFailed {
    /// The connection had closed: the request was not sent, and comes back.
    Unsent(Box<Request<ProxyBody>>),
    /// The exchange failed after the request was (perhaps partly) sent.
    Exchange(hyper::Error),
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
    sender: http1::SendRequest<ProxyBody>,
    /// Boxed: leases move between the pool, requests and bodies.
    conn: Box<H1Conn>,
    /// Requests sent on it.
    uses: u32,
    /// When the last request was sent: its idle time is at most `now - last_sent`.
    last_sent: Instant,
    /// The trust bundle (`Identity::bundle_id`) its handshake was verified with
    /// (0: plaintext).
    bundle: u64,
    pool: Weak<Inner>,
    /// What the connection wakes: [`Relay`], passing wake-ups on to the task
    /// driving it.
    waker: Waker,
    relay: Arc<Relay>,
}

/// Passes a connection's wake-ups on to the task driving it, if any. Its
/// channels keep the waker they were last polled with, and would otherwise
/// wake that task after the exchange: once for the response body taken from
/// them, once for the next request queued on the connection.
#[derive(Debug, Default)]
struct Relay(Mutex<Option<Waker>>);

impl Relay {
    fn set(&self, to: Option<&Waker>) {
        let mut w = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match (&*w, to) {
            (Some(old), Some(new)) if old.will_wake(new) => {}
            (_, to) => *w = to.cloned(),
        }
    }
}

impl std::task::Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let w = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(w) = w {
            w.wake();
        }
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
    pub(super) fn lease(
        &self,
        sender: http1::SendRequest<ProxyBody>,
        conn: H1Conn,
        bundle: u64,
        now: Instant,
    ) -> Lease {
        let relay = Arc::new(Relay::default());
        Lease {
            sender,
            conn: Box::new(conn),
            uses: 0,
            last_sent: now,
            bundle,
            pool: Arc::downgrade(&self.inner),
            waker: Waker::from(relay.clone()),
            relay,
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

    /// Polls the connection for the task of `cx`: whether it has ended (it is
    /// then of no more use).
    pub(super) fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        self.relay.set(Some(cx.waker()));
        match Pin::new(&mut *self.conn).poll(&mut Context::from_waker(&self.waker)) {
            Poll::Pending => false,
            Poll::Ready(r) => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "upstream HTTP/1.1 connection ended");
                }
                true
            }
        }
    }

    /// Sends `req` and drives the connection until the response's head is
    /// read. The response body streams from the connection, which goes back
    /// to the pool once the exchange is complete.
    pub(super) async fn send(
        mut self,
        req: Request<ProxyBody>,
        now: Instant,
    ) -> Result<Response<UpstreamBody>, SendFailed> {
        self.uses += 1;
        self.last_sent = now;
        // Unconstrained: polled without a waker, it must not be the one that
        // runs out of the task's budget (its wake-up would be lost).
        let mut sent = std::pin::pin!(tokio::task::unconstrained(
            self.sender.try_send_request(req)
        ));
        let mut lease = Some(self);
        let res = std::future::poll_fn(|cx| {
            if let Some(l) = &mut lease
                && l.drive(cx)
            {
                // Dropping the connection answers the request: with an
                // error, and with the request itself if it was never written.
                lease = None;
            }
            // Only the connection, driven here, answers the request: so it
            // is polled without a waker, and answering it wakes nothing.
            match lease {
                Some(_) => sent.as_mut().poll(&mut Context::from_waker(Waker::noop())),
                None => sent.as_mut().poll(cx),
            }
        })
        .await;
        match res {
            Ok(resp) => Ok(resp.map(|body| UpstreamBody::new(body, lease))),
            Err(mut e) => match e.take_message() {
                Some(req) => Err(SendFailed::Unsent(Box::new(req))),
                None => Err(SendFailed::Exchange(e.into_error())),
            },
        }
    }

    /// Whether the exchange on it is complete, so another may start.
    pub(super) fn idle(&self) -> bool {
        self.sender.is_ready()
    }

    /// Back to the pool, unless it carried all the requests it may or the
    /// pool is gone.
    pub(super) fn release(self) {
        let Some(pool) = self.pool.upgrade() else {
            return;
        };
        if pool.max_requests.is_some_and(|max| self.uses >= max) {
            return;
        }
        // Idle, it wakes no task: not on a close by the peer (a request
        // that takes it will see it), nor as the next request is queued on it.
        self.relay.set(None);
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
        idle.retain_mut(|c| !c.idle_for(now, pool.stale_after) && !c.drive(&mut quiet));
        if idle.is_empty() {
            pool.sweeping.store(false, Ordering::Relaxed);
            return;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use bytes::Bytes;
    use http_body_util::BodyExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A keep-alive HTTP/1.1 server on loopback answering `ok`, or, for
    /// `/stream`, a chunked body in two parts 20 ms apart; and how many
    /// connections it accepted.
    async fn server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(answer(s));
            }
        });
        (addr, accepted)
    }

    async fn answer(mut s: TcpStream) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let Ok(n @ 1..) = s.read(&mut buf).await else {
                return;
            };
            head.extend_from_slice(&buf[..n]);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let stream = head.starts_with(b"GET /stream ");
            head.drain(..end + 4);
            if stream {
                let first =
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\npart one, \r\n";
                s.write_all(first).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
                s.write_all(b"8\r\npart two\r\n0\r\n\r\n").await.unwrap();
            } else {
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await
                    .unwrap();
            }
        }
    }

    async fn dial(addr: std::net::SocketAddr) -> (http1::SendRequest<ProxyBody>, H1Conn) {
        let s = TcpStream::connect(addr).await.unwrap();
        let io = TokioIo::new(Conn::Plain(s));
        http1::handshake(io).await.unwrap()
    }

    fn get(path: &str) -> Request<ProxyBody> {
        Request::builder()
            .uri(path)
            .header("host", "reviews:9080")
            .body(ProxyBody::empty())
            .unwrap()
    }

    /// Sends on a pooled connection (none: `None`) and reads the answer to its end.
    async fn exchange(pool: &H1Pool, path: &str, bundle: u64, now: Instant) -> Option<Bytes> {
        let lease = pool.checkout(bundle, now)?;
        let resp = lease.send(get(path), now).await.unwrap();
        Some(resp.into_body().collect().await.unwrap().to_bytes())
    }

    async fn pool_with_one(
        addr: std::net::SocketAddr,
        settings: &PoolSettings,
        t0: Instant,
    ) -> H1Pool {
        let pool = H1Pool::new(settings);
        let (sender, conn) = dial(addr).await;
        let resp = pool.lease(sender, conn, 7, t0).send(get("/"), t0).await;
        drop(resp.unwrap());
        assert_eq!(
            pool.len(),
            1,
            "its first exchange done, the connection is idle"
        );
        pool
    }

    #[tokio::test]
    async fn an_idle_connection_is_reused_until_stale_or_rebundled() {
        let (addr, accepted) = server().await;
        let settings = PoolSettings::default();
        let t0 = Instant::now();
        let pool = pool_with_one(addr, &settings, t0).await;
        let ok = Some(Bytes::from_static(b"ok"));
        assert_eq!(
            exchange(&pool, "/", 7, t0 + Duration::from_secs(5)).await,
            ok
        );
        assert_eq!(
            exchange(&pool, "/", 7, t0 + Duration::from_secs(24)).await,
            ok
        );
        assert_eq!(pool.len(), 1, "reused, not replaced");
        assert_eq!(accepted.load(Ordering::Relaxed), 1, "one connection");
        // Idle 20 s since it was last used: too close to the server's idle close.
        assert_eq!(
            exchange(&pool, "/", 7, t0 + Duration::from_secs(44)).await,
            None
        );
        assert_eq!(pool.len(), 0, "the stale connection is dropped");

        let pool = pool_with_one(addr, &settings, t0).await;
        assert_eq!(
            exchange(&pool, "/", 8, t0).await,
            None,
            "another trust bundle"
        );
        assert_eq!(pool.len(), 0);
    }

    #[tokio::test]
    async fn a_streamed_body_drives_its_connection_then_returns_it() {
        let (addr, accepted) = server().await;
        let t0 = Instant::now();
        let pool = pool_with_one(addr, &PoolSettings::default(), t0).await;
        let lease = pool.checkout(7, t0).unwrap();
        let resp = lease.send(get("/stream"), t0).await.unwrap();
        assert_eq!(pool.len(), 0, "busy until its body is read");
        assert!(
            pool.checkout(7, t0).is_none(),
            "a busy connection is not shared"
        );
        let body = tokio::time::timeout(Duration::from_secs(10), resp.into_body().collect());
        let body = body.await.expect("the body drives its connection").unwrap();
        assert_eq!(body.to_bytes(), "part one, part two");
        assert_eq!(pool.len(), 1, "back once the exchange is complete");
        assert_eq!(
            exchange(&pool, "/", 7, t0).await,
            Some(Bytes::from_static(b"ok"))
        );
        assert_eq!(accepted.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_body_dropped_before_its_end_closes_the_connection() {
        let (addr, _) = server().await;
        let t0 = Instant::now();
        let pool = pool_with_one(addr, &PoolSettings::default(), t0).await;
        let lease = pool.checkout(7, t0).unwrap();
        let mut body = lease.send(get("/stream"), t0).await.unwrap().into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "part one, ");
        drop(body);
        assert_eq!(pool.len(), 0, "its answer was cut short: not reusable");
    }

    #[tokio::test]
    async fn a_connection_the_peer_closed_sends_the_request_back() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A server that answers one request, keeps the connection, and then
        // closes it: as an app's idle timeout does.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await.unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        });
        let t0 = Instant::now();
        let pool = pool_with_one(addr, &PoolSettings::default(), t0).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let lease = pool.checkout(7, t0).unwrap();
        match lease.send(get("/"), t0).await {
            Err(SendFailed::Unsent(req)) => assert_eq!(req.uri(), "/"),
            other => panic!("expected the request back, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn idle_timeout_and_max_requests_per_connection_are_honoured() {
        let (addr, _) = server().await;
        let t0 = Instant::now();
        let short = PoolSettings {
            idle_timeout: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let pool = pool_with_one(addr, &short, t0).await;
        assert_eq!(
            exchange(&pool, "/", 7, t0 + Duration::from_secs(2)).await,
            None
        );

        let two = PoolSettings {
            max_requests_per_connection: Some(2),
            ..Default::default()
        };
        let pool = pool_with_one(addr, &two, t0).await;
        assert!(
            exchange(&pool, "/", 7, t0).await.is_some(),
            "its second request"
        );
        assert_eq!(pool.len(), 0, "spent after two");
        assert_eq!(exchange(&pool, "/", 7, t0).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_are_closed_in_the_background() {
        let (addr, _) = server().await;
        let settings = PoolSettings::default();
        let pool = pool_with_one(addr, &settings, Instant::now()).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(pool.len(), 1);
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(
            pool.len(),
            0,
            "closed after 20 s idle, with no request passing"
        );
        assert!(
            !pool.inner.sweeping.load(Ordering::Relaxed),
            "the sweeper ended"
        );
        assert_eq!(exchange(&pool, "/", 7, Instant::now()).await, None);
    }
}
