//! Keep-alive HTTP/1.1 connections to one upstream endpoint: an app, or a peer
//! sidecar over mutual TLS (Istio's default between sidecars, `h2UpgradePolicy`
//! unset or `DO_NOT_UPGRADE`, keeps HTTP/1.1 on the wire).
//!
//! A connection carries one request at a time. A request takes the most recently
//! used idle connection (`SendRequest::is_ready`: the previous response has been
//! read to its end), else the caller dials a new one. Busy connections stay in
//! the list; closed, spent, stale and old-bundle ones are dropped when a request
//! looks at them (the newest first, up to the one it takes), and closed and
//! stale ones also by a sweeper task that runs while the pool holds connections
//! (a dropped sender lets its request in flight finish, then closes).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http1};
use hyper::{Request, Response};
use tokio::time::Instant;

use super::PoolSettings;
use crate::body::ProxyBody;

/// A connection idle this long is not reused: a peer sidecar's server closes an
/// idle keep-alive connection after 30 s (its header read timeout), and a
/// request must not race that close.
const REUSE_IDLE: Duration = Duration::from_secs(20);

/// What a request sent on a pooled connection comes to: the response, or the
/// failure (with the request when it was never sent).
pub(super) type Sent = Result<Response<Incoming>, TrySendError<Request<ProxyBody>>>;

#[derive(Debug)]
pub(super) struct H1Pool {
    inner: Arc<Inner>,
    /// `maxRequestsPerConnection`.
    max_requests: Option<u32>,
}

#[derive(Debug)]
struct Inner {
    conns: Mutex<Vec<Pooled>>,
    /// Idle this long, a connection is closed (`idleTimeout`, at most [`REUSE_IDLE`]).
    stale_after: Duration,
    /// Whether a sweeper task is running (changed with `conns` locked).
    sweeping: AtomicBool,
}

#[derive(Debug)]
struct Pooled {
    sender: http1::SendRequest<ProxyBody>,
    /// Requests sent on it.
    uses: u32,
    /// When the last request was sent: its idle time is at most `now - last_sent`.
    last_sent: Instant,
    /// The trust bundle (`Identity::bundle_id`) its handshake was verified with
    /// (0: plaintext).
    bundle: u64,
}

impl Pooled {
    fn stale(&self, now: Instant, after: Duration) -> bool {
        self.sender.is_ready() && self.idle_for(now, after)
    }

    /// Whether `after` has passed since its last request was sent.
    fn idle_for(&self, now: Instant, after: Duration) -> bool {
        now.saturating_duration_since(self.last_sent) >= after
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Vec<Pooled>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl H1Pool {
    pub(super) fn new(settings: &PoolSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                conns: Mutex::default(),
                stale_after: settings
                    .idle_timeout
                    .map_or(REUSE_IDLE, |t| t.min(REUSE_IDLE)),
                sweeping: AtomicBool::new(false),
            }),
            max_requests: settings.max_requests_per_connection,
        }
    }

    /// Sends the request in `req` (taking it) on an idle connection verified
    /// with `bundle`: the response's future. `None` (the request left in
    /// `req`): there is none.
    pub(super) fn try_send(
        &self,
        req: &mut Option<Request<ProxyBody>>,
        bundle: u64,
        now: Instant,
    ) -> Option<impl Future<Output = Sent> + use<>> {
        let stale_after = self.inner.stale_after;
        let mut conns = self.inner.lock();
        // The newest usable connection. Dead ones met on the way are dropped;
        // those past it wait for a later request or the sweeper, so a request
        // checks a connection or two, not the whole pool.
        let mut i = conns.len();
        let i = loop {
            i = i.checked_sub(1)?;
            let c = &conns[i];
            let ready = c.sender.is_ready();
            if c.sender.is_closed() || c.bundle != bundle || ready && c.idle_for(now, stale_after) {
                conns.remove(i);
            } else if ready {
                break i;
            }
        };
        let req = req.take()?;
        let c = &mut conns[i];
        c.uses += 1;
        c.last_sent = now;
        let sent = c.sender.try_send_request(req);
        if self.spent(c.uses) {
            // Dropping the sender closes the connection once this request is done.
            conns.swap_remove(i);
        }
        Some(sent)
    }

    /// Keeps a connection that was just dialed and sent its first request.
    pub(super) fn add(&self, sender: http1::SendRequest<ProxyBody>, bundle: u64, now: Instant) {
        if self.spent(1) {
            return;
        }
        let mut conns = self.inner.lock();
        conns.push(Pooled {
            sender,
            uses: 1,
            last_sent: now,
            bundle,
        });
        if !self.inner.sweeping.swap(true, Ordering::Relaxed) {
            tokio::spawn(sweep(Arc::downgrade(&self.inner)));
        }
    }

    /// Whether a connection that carried `uses` requests may carry no more.
    fn spent(&self, uses: u32) -> bool {
        self.max_requests.is_some_and(|max| uses >= max)
    }

    /// Connections kept (idle or busy).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner.lock().len()
    }
}

/// Closes stale connections while the pool has any (and exists).
async fn sweep(pool: Weak<Inner>) {
    loop {
        let every = match pool.upgrade() {
            Some(p) => p.stale_after,
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(pool) = pool.upgrade() else { return };
        let now = Instant::now();
        let mut conns = pool.lock();
        conns.retain(|c| !c.sender.is_closed() && !c.stale(now, pool.stale_after));
        if conns.is_empty() {
            pool.sweeping.store(false, Ordering::Relaxed);
            return;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::convert::Infallible;

    use hyper::server::conn::http1 as server;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A keep-alive HTTP/1.1 server on loopback answering `ok`.
    async fn server() -> std::net::SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(server::Builder::new().serve_connection(
                    TokioIo::new(s),
                    service_fn(|_| async {
                        Ok::<_, Infallible>(Response::new(crate::body::ProxyBody::local("ok")))
                    }),
                ));
            }
        });
        addr
    }

    async fn dial(addr: std::net::SocketAddr) -> http1::SendRequest<ProxyBody> {
        let s = TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = http1::handshake(TokioIo::new(s)).await.unwrap();
        tokio::spawn(conn);
        sender
    }

    fn get() -> Request<ProxyBody> {
        Request::builder()
            .uri("/")
            .header("host", "reviews:9080")
            .body(ProxyBody::empty())
            .unwrap()
    }

    /// Sends on a pooled connection and reads the answer to its end, so the
    /// connection is idle again.
    async fn exchange(pool: &H1Pool, bundle: u64, now: Instant) -> bool {
        let Some(sent) = pool.try_send(&mut Some(get()), bundle, now) else {
            return false;
        };
        let body = http_body_util::BodyExt::collect(sent.await.unwrap().into_body());
        assert_eq!(body.await.unwrap().to_bytes(), "ok");
        // The connection task marks it ready once it wants the next request.
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        true
    }

    async fn pool_with_one(
        addr: std::net::SocketAddr,
        settings: &PoolSettings,
        t0: Instant,
    ) -> H1Pool {
        let pool = H1Pool::new(settings);
        let mut sender = dial(addr).await;
        sender.ready().await.unwrap();
        pool.add(sender, 7, t0);
        pool
    }

    #[tokio::test]
    async fn an_idle_connection_is_reused_until_stale_or_rebundled() {
        let addr = server().await;
        let settings = PoolSettings::default();
        let t0 = Instant::now();
        let pool = pool_with_one(addr, &settings, t0).await;
        assert!(exchange(&pool, 7, t0 + Duration::from_secs(5)).await);
        assert!(exchange(&pool, 7, t0 + Duration::from_secs(24)).await);
        assert_eq!(pool.len(), 1, "reused, not replaced");
        // Idle 20 s since it was last used: too close to the server's idle close.
        assert!(!exchange(&pool, 7, t0 + Duration::from_secs(44)).await);
        assert_eq!(pool.len(), 0, "the stale connection is dropped");

        let pool = pool_with_one(addr, &settings, t0).await;
        assert!(!exchange(&pool, 8, t0).await, "another trust bundle");
        assert_eq!(pool.len(), 0);
    }

    #[tokio::test]
    async fn idle_timeout_and_max_requests_per_connection_are_honoured() {
        let addr = server().await;
        let t0 = Instant::now();
        let short = PoolSettings {
            idle_timeout: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let pool = pool_with_one(addr, &short, t0).await;
        assert!(!exchange(&pool, 7, t0 + Duration::from_secs(2)).await);

        let two = PoolSettings {
            max_requests_per_connection: Some(2),
            ..Default::default()
        };
        let pool = pool_with_one(addr, &two, t0).await;
        assert!(exchange(&pool, 7, t0).await, "its second request");
        assert_eq!(pool.len(), 0, "spent after two");
        assert!(!exchange(&pool, 7, t0).await);
    }

    #[tokio::test]
    async fn a_busy_connection_is_not_shared() {
        let addr = server().await;
        let settings = PoolSettings::default();
        let t0 = Instant::now();
        let pool = pool_with_one(addr, &settings, t0).await;
        let sent = pool.try_send(&mut Some(get()), 7, t0).unwrap();
        let mut second = Some(get());
        assert!(
            pool.try_send(&mut second, 7, t0).is_none() && second.is_some(),
            "its request is in flight"
        );
        assert_eq!(pool.len(), 1, "it stays pooled while busy");
        let resp = sent.await.unwrap();
        drop(resp);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_are_closed_in_the_background() {
        let addr = server().await;
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
        assert!(!exchange(&pool, 7, Instant::now()).await);
    }
}
