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
            let first = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\npart one, \r\n";
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

async fn dial(addr: std::net::SocketAddr) -> Conn {
    Conn::Plain(TcpStream::connect(addr).await.unwrap())
}

fn get(path: &str) -> Request<ProxyBody> {
    Request::builder()
        .uri(path)
        .header("host", "reviews:9080")
        .body(ProxyBody::empty())
        .unwrap()
}

/// The whole body of a successful exchange.
async fn body_of(resp: Result<Response<UpstreamBody>, SendFailed>) -> Bytes {
    resp.unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
}

/// Sends on a pooled connection (none: `None`) and reads the answer to its end.
async fn exchange(pool: &H1Pool, path: &str, bundle: u64, now: Instant) -> Option<Bytes> {
    let lease = pool.checkout(bundle, now)?;
    Some(body_of(lease.send(get(path), now).await).await)
}

async fn pool_with_one(addr: std::net::SocketAddr, settings: &PoolSettings, t0: Instant) -> H1Pool {
    let pool = H1Pool::new(settings);
    let resp = pool.lease(dial(addr).await, 7, t0).send(get("/"), t0).await;
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
    // A server that answers one request and then closes the connection, as
    // an app's idle timeout does.
    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let (addr, _server) = scripted(vec![(None, ok)]).await;
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

/// A server on loopback for one connection, following `script`: for each
/// step it reads a request (`Some(n)`: exactly `n` bytes; `None`: up to the
/// end of a head), then writes the reply; after the last step it closes.
/// Its task gives back the requests as read.
async fn scripted(
    script: Vec<(Option<usize>, &'static [u8])>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = Vec::new();
        for (want, reply) in script {
            loop {
                let end = match want {
                    Some(n) => (buf.len() >= n).then_some(n),
                    None => buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4),
                };
                if let Some(end) = end {
                    seen.push(buf.drain(..end).collect());
                    break;
                }
                let mut chunk = [0u8; 4096];
                let n = s.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the client closed early");
                buf.extend_from_slice(&chunk[..n]);
            }
            s.write_all(reply).await.unwrap();
        }
        seen
    });
    (addr, task)
}

fn post(body: ProxyBody, extra: &[(&str, &str)]) -> Request<ProxyBody> {
    let mut b = Request::builder()
        .method("POST")
        .uri("/up")
        .header("host", "reviews:9080");
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    b.body(body).unwrap()
}

/// A body of unknown length, read from another upstream's chunked
/// response as a proxy would pass it on: two chunks and a trailer, or the
/// first chunk and then nothing (`stall`).
async fn relayed_body(stall: bool) -> ProxyBody {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await.unwrap();
        let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\npart one, \r\n";
        s.write_all(head).await.unwrap();
        if stall {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        s.write_all(b"8\r\npart two\r\n0\r\ngrpc-status: 0\r\n\r\n")
            .await
            .unwrap();
    });
    let pool = H1Pool::new(&PoolSettings::default());
    let t0 = Instant::now();
    let resp = pool.lease(dial(addr).await, 0, t0).send(get("/"), t0).await;
    ProxyBody::Upstream(resp.unwrap().into_body())
}

#[tokio::test]
async fn request_bodies_go_out_framed_by_length_or_in_chunks_with_trailers() {
    let sized = "POST /up HTTP/1.1\r\nhost: reviews:9080\r\ncontent-length: 5\r\n\r\nhello";
    let chunked = "POST /up HTTP/1.1\r\nhost: reviews:9080\r\ntrailer: grpc-status\r\n\
                   transfer-encoding: chunked\r\n\r\n\
                   a\r\npart one, \r\n8\r\npart two\r\n0\r\ngrpc-status: 0\r\n\r\n";
    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let (addr, server) = scripted(vec![(Some(sized.len()), ok), (Some(chunked.len()), ok)]).await;
    let pool = H1Pool::new(&PoolSettings::default());
    let t0 = Instant::now();
    let lease = pool.lease(dial(addr).await, 0, t0);
    let resp = lease.send(post(ProxyBody::local("hello"), &[]), t0).await;
    let body = body_of(resp).await;
    assert_eq!(body, "ok");
    let lease = pool.checkout(0, t0).expect("kept for the next request");
    let streamed = post(relayed_body(false).await, &[("trailer", "grpc-status")]);
    assert_eq!(body_of(lease.send(streamed, t0).await).await, "ok");
    let seen = server.await.unwrap();
    assert_eq!(String::from_utf8_lossy(&seen[0]), sized);
    assert_eq!(String::from_utf8_lossy(&seen[1]), chunked);
    assert_eq!(pool.len(), 1);
}

#[tokio::test]
async fn a_response_before_the_request_is_whole_ends_the_connection() {
    let refused = b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n";
    let (addr, _server) = scripted(vec![(None, refused)]).await;
    let pool = H1Pool::new(&PoolSettings::default());
    let t0 = Instant::now();
    let lease = pool.lease(dial(addr).await, 0, t0);
    let req = post(relayed_body(true).await, &[]);
    let resp = tokio::time::timeout(Duration::from_secs(30), lease.send(req, t0));
    let resp = resp.await.expect("answered while the body stalls").unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(pool.len(), 0, "the rest of the request was never sent");
}

#[tokio::test]
async fn bodies_end_at_the_close_or_fail_when_cut_short() {
    let (addr, _s) = scripted(vec![(None, b"HTTP/1.1 200 OK\r\n\r\nuntil the close")]).await;
    let pool = H1Pool::new(&PoolSettings::default());
    let t0 = Instant::now();
    let resp = pool.lease(dial(addr).await, 0, t0).send(get("/"), t0).await;
    let body = body_of(resp).await;
    assert_eq!(body, "until the close");
    assert_eq!(pool.len(), 0, "a close-delimited body ends its connection");

    let cut = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc";
    let (addr, _s) = scripted(vec![(None, cut)]).await;
    let resp = pool.lease(dial(addr).await, 0, t0).send(get("/"), t0).await;
    let err = resp.unwrap().into_body().collect().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("closed before the response was complete"),
        "{err}"
    );
    assert_eq!(pool.len(), 0);
}

#[tokio::test]
async fn a_head_response_has_no_body_whatever_its_length() {
    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n";
    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let (addr, server) = scripted(vec![(None, head), (None, ok)]).await;
    let pool = H1Pool::new(&PoolSettings::default());
    let t0 = Instant::now();
    let mut req = get("/");
    *req.method_mut() = hyper::Method::HEAD;
    let resp = pool
        .lease(dial(addr).await, 0, t0)
        .send(req, t0)
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-length"], "10");
    assert!(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );
    assert_eq!(
        exchange(&pool, "/", 0, t0).await,
        Some(Bytes::from_static(b"ok"))
    );
    assert_eq!(server.await.unwrap().len(), 2, "both on one connection");
}

#[tokio::test]
async fn an_answer_that_comes_before_a_failed_upload_is_passed_on() {
    // The server reads only the head, answers 413 and closes with the upload
    // unread: writing the rest fails, but the answer is there to read.
    let refused =
        b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbig!";
    let (addr, server) = scripted(vec![(None, refused)]).await;
    let pool = H1Pool::new(&PoolSettings::default());
    let t0 = Instant::now();
    let lease = pool.lease(dial(addr).await, 0, t0);
    let upload = ProxyBody::local(vec![b'x'; 32 << 20]);
    let resp = lease.send(post(upload, &[]), t0);
    let resp = tokio::time::timeout(Duration::from_secs(60), resp).await;
    let resp = resp.expect("answered").unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "big!");
    assert_eq!(pool.len(), 0);
    drop(server);
}
