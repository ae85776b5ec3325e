//! Closing downstream connections that have gone quiet.
//!
//! A connection's task checks it every [`PERIOD`]. One that has had no new
//! request for a whole period is shut down gracefully: an idle keep-alive
//! connection closes 30 to 60 s after its last request, and so does one whose
//! client started a next request head and never finished it (hyper closes an
//! HTTP/1.1 connection between requests at once). A request in flight is never
//! cut: hyper lets it finish, answers `connection: close`, and closes. One that
//! completed no request in its first period (it said nothing, or never
//! finished its first head: slowloris) has nothing in flight and is dropped.
//! An HTTP/2 connection that has carried a request is not closed for being
//! idle: its client multiplexes on it, and HTTP/2 has GOAWAY.
//!
//! This replaces hyper's HTTP/1.1 header read timeout, which armed a timer for
//! every request (allocating it, entering it in the timer wheel and removing it
//! again): about 1,500 of a sidecar's ~35,000 instructions per request
//! (callgrind). Here a request costs one relaxed atomic increment, and a
//! connection one timer every 30 s.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use http::Version;
use tokio::time::Instant;

use crate::drain::Watcher;

/// How often a connection is checked for new requests.
pub(crate) const PERIOD: Duration = Duration::from_secs(30);

/// What a connection's requests tell its idle check.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    requests: AtomicU64,
    multiplexed: AtomicBool,
}

impl Activity {
    /// Counts a request as it arrives.
    pub(crate) fn request(&self, version: Version) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if version == Version::HTTP_2 {
            self.multiplexed.store(true, Ordering::Relaxed);
        }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn multiplexed(&self) -> bool {
        self.multiplexed.load(Ordering::Relaxed)
    }
}

/// Runs `conn` to its end: shut down gracefully (`graceful`: hyper's
/// `graceful_shutdown`) when `stop` fires, or when a whole [`PERIOD`] passes
/// without a new request (see the module's header). `None`: dropped for
/// having completed no request in its first period.
pub(crate) async fn serve<C: Future>(
    mut conn: Pin<&mut C>,
    graceful: impl Fn(Pin<&mut C>),
    activity: &Activity,
    stop: &Watcher,
) -> Option<C::Output> {
    let mut stopped = pin!(stop.stopped());
    let mut check = pin!(tokio::time::sleep(PERIOD));
    let mut seen = activity.requests();
    // The check's timer has been polled since it was last set, so it wakes
    // this task when it fires; until then it is not polled again (a poll
    // re-registers the waker), `is_elapsed` is one atomic load.
    let mut armed = false;
    let mut watching = true;
    let mut closing = false;
    poll_fn(move |cx| {
        loop {
            if let Poll::Ready(out) = conn.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            if closing {
                return Poll::Pending;
            }
            if stopped.as_mut().poll(cx).is_ready() {
                closing = true;
                graceful(conn.as_mut());
                continue;
            }
            if !watching || (armed && !check.is_elapsed()) {
                return Poll::Pending;
            }
            if check.as_mut().poll(cx).is_pending() {
                armed = true;
                return Poll::Pending;
            }
            // A period has passed.
            let now = activity.requests();
            if activity.multiplexed() {
                watching = false;
            } else if now == 0 {
                // Nothing is in flight: no request head was ever completed.
                // (A graceful shutdown would wait for the first one.)
                return Poll::Ready(None);
            } else if now == seen {
                closing = true;
                graceful(conn.as_mut());
            } else {
                seen = now;
                check.as_mut().reset(Instant::now() + PERIOD);
                armed = false;
            }
        }
    })
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Arc;

    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty, Full};
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::drain::Drain;

    /// One connection served as the proxy serves it, by a handler that counts
    /// requests and answers after `delay` (paused clock). Resolves when the
    /// server side of the connection ends.
    async fn server(
        delay: Duration,
        drain: &Drain,
    ) -> (TcpStream, tokio::task::JoinHandle<Instant>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let stop = drain.watcher();
        let served = tokio::spawn(async move {
            let activity = Arc::new(Activity::default());
            let counted = activity.clone();
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                counted.request(req.version());
                async move {
                    tokio::time::sleep(delay).await;
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                }
            });
            let builder = super::super::server_builder();
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
            let _ = serve(pin!(conn), |c| c.graceful_shutdown(), &activity, &stop).await;
            Instant::now()
        });
        (client, served)
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: a\r\n\r\n";

    /// Reads one response (the handler's is 2 bytes of body) and returns it.
    async fn response(client: &mut TcpStream) -> String {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.ends_with(b"\r\n\r\nok") {
            let n = client.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before a response: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8(buf).unwrap()
    }

    /// Whether the server closes the connection within three periods.
    async fn closed(client: &mut TcpStream) -> bool {
        let mut chunk = [0u8; 64];
        let read = tokio::time::timeout(3 * PERIOD, client.read(&mut chunk)).await;
        matches!(read, Ok(Ok(0) | Err(_)))
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_keep_alive_connection_closes_after_one_quiet_period() {
        let drain = Drain::default();
        let (mut client, served) = server(Duration::ZERO, &drain).await;
        let start = Instant::now();
        // A request every 20 s keeps it open through four checks.
        for _ in 0..6 {
            client.write_all(GET).await.unwrap();
            let resp = response(&mut client).await;
            assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
            tokio::time::sleep(Duration::from_secs(20)).await;
        }
        assert!(!served.is_finished());
        let last = Instant::now() - Duration::from_secs(20);
        assert!(closed(&mut client).await);
        let idle = served.await.unwrap() - last;
        assert!(
            idle >= PERIOD && idle <= 2 * PERIOD,
            "closed {idle:?} after the last request ({:?} in)",
            last - start
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_head_never_finished_is_dropped() {
        let drain = Drain::default();
        let (mut client, served) = server(Duration::ZERO, &drain).await;
        let start = Instant::now();
        client.write_all(b"GET / HTTP/1.1\r\nhost:").await.unwrap();
        assert!(closed(&mut client).await);
        let at = served.await.unwrap() - start;
        assert!(at >= PERIOD && at <= 2 * PERIOD, "{at:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_request_is_finished_before_the_close() {
        let drain = Drain::default();
        let (mut client, served) = server(Duration::from_secs(150), &drain).await;
        client.write_all(GET).await.unwrap();
        let resp = response(&mut client).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        // Keep-alive was withdrawn while it ran: the answer says so, then closes.
        assert!(
            resp.to_ascii_lowercase().contains("connection: close"),
            "{resp}"
        );
        assert!(closed(&mut client).await);
        served.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn stop_closes_an_idle_connection_at_once() {
        let drain = Drain::default();
        let (mut client, served) = server(Duration::ZERO, &drain).await;
        client.write_all(GET).await.unwrap();
        response(&mut client).await;
        let start = Instant::now();
        drain.stop();
        assert!(closed(&mut client).await);
        assert!(served.await.unwrap() - start < PERIOD);
    }

    #[tokio::test(start_paused = true)]
    async fn an_http2_connection_that_carried_a_request_stays_open() {
        let drain = Drain::default();
        let (client, served) = server(Duration::ZERO, &drain).await;
        let (mut sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            TokioIo::new(client),
        )
        .await
        .unwrap();
        let driver = tokio::spawn(conn);
        let req = || {
            Request::get("http://a/")
                .body(Empty::<Bytes>::new())
                .unwrap()
        };
        let resp = sender.send_request(req()).await.unwrap();
        assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "ok");
        tokio::time::sleep(5 * PERIOD).await;
        assert!(!served.is_finished());
        let resp = sender.send_request(req()).await.unwrap();
        assert_eq!(resp.status(), 200);
        // Shutdown still closes it (GOAWAY).
        drain.stop();
        served.await.unwrap();
        driver.await.unwrap().unwrap();
    }
}
