//! End-to-end resilience: retries, timeouts, fault injection, outlier
//! detection, connection pool overflow, consistent hashing, mirroring and header
//! operations, through a real client sidecar and real server sidecars, asserting
//! on what the client got and what the apps saw.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_api::common::{Duration as ApiDuration, StringMatch};
use mesh_api::proxy::{
    Cluster, ConnectionLimits, Fault, FaultAbort, FaultDelay, Forward, HashPolicy, HeaderOps,
    Listeners, Mirror, OutlierPolicy, Protocol, RetryPolicy, Route, RouteAction, RouteMatch,
    WeightedCluster,
};
use mesh_proxy::ProxyOptions;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// What an app saw: every request's path and headers.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<(String, BTreeMap<String, String>)>>,
    flaky: AtomicUsize,
}

impl Seen {
    async fn count(&self, path: &str) -> usize {
        self.requests
            .lock()
            .await
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }
    async fn last_headers(&self) -> BTreeMap<String, String> {
        self.requests
            .lock()
            .await
            .last()
            .map(|(_, h)| h.clone())
            .unwrap_or_default()
    }
}

/// An app: `/status/N` answers N, `/flaky` fails (503) two of every three
/// calls, `/sleep/MS` answers after MS milliseconds, anything else 200 with the
/// app's name.
async fn app(name: &'static str) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let s2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let seen = s2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move { Ok::<_, Infallible>(answer(name, &seen, req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

async fn answer(name: &str, seen: &Seen, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    seen.requests.lock().await.push((path.clone(), headers));
    let status = |code: u16, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = StatusCode::from_u16(code).unwrap();
        r.headers_mut()
            .insert("x-app-header", "app".parse().unwrap());
        r
    };
    if let Some(code) = path.strip_prefix("/status/") {
        return status(code.parse().unwrap_or(500), format!("{name} status"));
    }
    if path == "/flaky" {
        let n = seen.flaky.fetch_add(1, Ordering::SeqCst);
        return if n % 3 == 2 {
            status(200, format!("{name} ok"))
        } else {
            status(503, format!("{name} flaked"))
        };
    }
    if let Some(ms) = path.strip_prefix("/sleep/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
    }
    status(200, format!("name={name}"))
}

/// A client sidecar routing `svc:9080` with `route` over clusters, each
/// cluster's endpoints being the given server sidecars.
async fn client(clusters: Vec<(Cluster, Vec<SocketAddr>)>, route: Route) -> TestProxy {
    let p = start_proxy(ProxyOptions::local("client")).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    let members_list: Vec<_> = clusters
        .iter()
        .map(|(cl, eps)| members(&cl.name, eps))
        .collect();
    let cl: Vec<Cluster> = clusters.into_iter().map(|(c, _)| c).collect();
    apply(c, "clusters", "1", &cl);
    apply(c, "endpoints", "1", &members_list);
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost("svc", 9080, vec![route])]),
    );
    p
}

async fn server(name: &'static str) -> (TestProxy, Arc<Seen>) {
    let (addr, seen) = app(name).await;
    (server_proxy(name, 9080, addr, Protocol::Http).await, seen)
}

fn plain_route(action: Forward) -> Route {
    route("r", vec![], RouteAction::Forward(action))
}

fn to(cluster: &str) -> Forward {
    Forward {
        clusters: vec![WeightedCluster {
            cluster: cluster.into(),
            weight: 100,
            ..WeightedCluster::default()
        }],
        ..Forward::default()
    }
}

fn retries(attempts: u32, on: &[&str]) -> RetryPolicy {
    RetryPolicy {
        attempts,
        per_try_timeout: None,
        retry_on: on.iter().map(|s| s.to_string()).collect(),
        retriable_status_codes: vec![],
        backoff: Some(ApiDuration::from_std(Duration::from_millis(1))),
        other_hosts: true,
    }
}

fn secs(s: u64) -> ApiDuration {
    ApiDuration::from_std(Duration::from_secs(s))
}

#[tokio::test]
async fn retries_turn_a_flaky_upstream_into_success() {
    let (s, seen) = server("flaky").await;
    let mut f = to("up");
    f.retry = Some(retries(2, &["5xx"]));
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        plain_route(f),
    )
    .await;
    let mut h = H1::connect(c.outbound).await;
    for _ in 0..10 {
        let r = h.get("http://svc:9080/flaky", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(
        seen.count("/flaky").await,
        30,
        "each request took three tries"
    );
}

#[tokio::test]
async fn zero_attempts_do_not_retry() {
    let (s, seen) = server("flaky").await;
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        plain_route(to("up")),
    )
    .await;
    let mut h = H1::connect(c.outbound).await;
    let codes: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(h.get("http://svc:9080/flaky", &[]).await.status.as_u16());
        }
        v
    };
    assert_eq!(codes, [503, 503, 200, 503, 503, 200]);
    assert_eq!(seen.count("/flaky").await, 6);
}

#[tokio::test]
async fn retries_run_out_with_urx_and_the_last_answer() {
    let (s, seen) = server("broken").await;
    let mut f = to("up");
    f.retry = Some(retries(3, &["5xx"]));
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        plain_route(f),
    )
    .await;
    let r = H1::connect(c.outbound)
        .await
        .get("http://svc:9080/status/500", &[])
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        r.body, "broken status",
        "the upstream's own answer is passed on"
    );
    assert_eq!(
        seen.count("/status/500").await,
        4,
        "one try and three retries"
    );
    // A non-retriable status is not retried.
    let r = H1::connect(c.outbound)
        .await
        .get("http://svc:9080/status/404", &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(seen.count("/status/404").await, 1);
}

#[tokio::test]
async fn retries_move_to_another_endpoint_after_a_connect_failure() {
    let (s, seen) = server("alive").await;
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let mut f = to("up");
    f.retry = Some(retries(2, &["connect-failure"]));
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![dead, s.inbound])],
        plain_route(f),
    )
    .await;
    let mut h = H1::connect(c.outbound).await;
    for _ in 0..6 {
        assert_eq!(h.get("http://svc:9080/x", &[]).await.status, StatusCode::OK);
    }
    assert_eq!(seen.count("/x").await, 6);
}

#[tokio::test(start_paused = true)]
async fn per_try_timeout_retries_and_route_timeout_cuts_at_504() {
    let (s, seen) = server("slow").await;
    let mut f = to("up");
    let mut p = retries(1, &["5xx"]);
    p.per_try_timeout = Some(secs(1));
    f.retry = Some(p);
    f.timeout = Some(secs(10));
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        plain_route(f),
    )
    .await;
    let r = H1::connect(c.outbound)
        .await
        .get("http://svc:9080/sleep/3000", &[])
        .await;
    assert_eq!((r.status, r.flag()), (StatusCode::GATEWAY_TIMEOUT, "UT"));
    assert_eq!(
        seen.count("/sleep/3000").await,
        2,
        "the timed-out try was retried once"
    );

    // A 1s route timeout cuts a 3s upstream with 504 UT.
    let mut f = to("up");
    f.timeout = Some(secs(1));
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        plain_route(f),
    )
    .await;
    let start = tokio::time::Instant::now();
    let r = H1::connect(c.outbound)
        .await
        .get("http://svc:9080/sleep/3000", &[])
        .await;
    assert_eq!((r.status, r.flag()), (StatusCode::GATEWAY_TIMEOUT, "UT"));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

fn jason() -> RouteMatch {
    let mut m = RouteMatch::default();
    m.headers.insert(
        "end-user".into(),
        StringMatch {
            exact: Some("jason".into()),
            ..StringMatch::default()
        },
    );
    m
}

#[tokio::test]
async fn fault_abort_for_one_user_only() {
    let (s, seen) = server("ratings").await;
    let abort = Fault {
        delay: None,
        abort: Some(FaultAbort {
            http_status: Some(500),
            grpc_status: None,
            percent: 100.0,
        }),
    };
    let mut faulty = route("jason", vec![jason()], RouteAction::Forward(to("up")));
    faulty.fault = Some(abort);
    let p = start_proxy(ProxyOptions::local("client")).await;
    apply(&p.config, "listeners", "1", &Listeners::default());
    apply(
        &p.config,
        "clusters",
        "1",
        &vec![cluster("up", 9080, Protocol::Http)],
    );
    apply(
        &p.config,
        "endpoints",
        "1",
        &vec![members("up", &[s.inbound])],
    );
    apply(
        &p.config,
        "routes",
        "1",
        &routes(vec![vhost(
            "svc",
            9080,
            vec![faulty, plain_route(to("up"))],
        )]),
    );
    let mut h = H1::connect(p.outbound).await;
    let r = h
        .get("http://svc:9080/ratings", &[("end-user", "jason")])
        .await;
    assert_eq!(
        (r.status, r.flag(), r.body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "FI",
            "fault filter abort"
        )
    );
    let r = h
        .get("http://svc:9080/ratings", &[("end-user", "kim")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        seen.count("/ratings").await,
        1,
        "the aborted request never reached the app"
    );
}

#[tokio::test(start_paused = true)]
async fn fault_delay_of_seven_seconds_meets_a_three_second_timeout() {
    // bookinfo's ratings-test-delay: 7s for jason; productpage waits 3s (here a
    // route timeout upstream of the delay, as productpage's own timeout).
    let (s, _) = server("ratings").await;
    let mut delayed = route("jason", vec![jason()], RouteAction::Forward(to("up")));
    delayed.fault = Some(Fault {
        delay: Some(FaultDelay {
            delay: secs(7),
            percent: 100.0,
        }),
        abort: None,
    });
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        delayed,
    )
    .await;
    let mut call = H1::connect(c.outbound).await;
    let r = tokio::time::timeout(
        Duration::from_secs(3),
        call.get("http://svc:9080/r", &[("end-user", "jason")]),
    )
    .await;
    assert!(r.is_err(), "no answer within productpage's 3s");
    let mut h = H1::connect(c.outbound).await;
    let start = tokio::time::Instant::now();
    let r = h.get("http://svc:9080/r", &[("end-user", "jason")]).await;
    assert_eq!((r.status, r.flag()), (StatusCode::OK, "DI"));
    assert!(
        start.elapsed() >= Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
    // Other users are not delayed (the rule matches jason only).
    let start = tokio::time::Instant::now();
    let r = h.get("http://svc:9080/r", &[("end-user", "kim")]).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "no rule for kim in this route table"
    );
    assert!(start.elapsed() < Duration::from_secs(1));
}

fn outlier() -> OutlierPolicy {
    OutlierPolicy {
        consecutive_5xx: 5,
        consecutive_gateway: 0,
        interval: secs(10),
        base_ejection_time: secs(30),
        max_ejection_percent: 100,
        min_health_percent: 0,
    }
}

#[tokio::test(start_paused = true)]
async fn outlier_detection_ejects_every_failing_endpoint_and_brings_them_back() {
    let (a, a_seen) = server("a").await;
    let (b, b_seen) = server("b").await;
    let mut up = cluster("up", 9080, Protocol::Http);
    up.outlier = Some(outlier());
    let c = client(
        vec![(up, vec![a.inbound, b.inbound])],
        plain_route(to("up")),
    )
    .await;
    let mut h = H1::connect(c.outbound).await;
    // Both answer 500: each is ejected after its fifth (maxEjectionPercent 100).
    let mut codes = Vec::new();
    for _ in 0..14 {
        let r = h.get("http://svc:9080/status/500", &[]).await;
        codes.push((r.status.as_u16(), r.flag().to_string()));
    }
    assert!(codes[..10].iter().all(|(c, _)| *c == 500), "{codes:?}");
    assert!(
        codes[10..].iter().all(|(c, f)| *c == 503 && f == "UH"),
        "{codes:?}"
    );
    assert_eq!(
        (
            a_seen.count("/status/500").await,
            b_seen.count("/status/500").await
        ),
        (5, 5)
    );
    let admin = fetch(c.admin, "GET", "/clusters").await.body;
    assert_eq!(
        admin.matches("health_flags::/failed_outlier_check").count(),
        2,
        "{admin}"
    );
    // After baseEjectionTime they are back.
    tokio::time::advance(Duration::from_secs(31)).await;
    // (The idle keep-alive connection timed out meanwhile: a new one.)
    let mut h = H1::connect(c.outbound).await;
    let r = h.get("http://svc:9080/ok", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let admin = fetch(c.admin, "GET", "/clusters").await.body;
    assert_eq!(admin.matches("health_flags::healthy").count(), 2, "{admin}");
}

#[tokio::test(start_paused = true)]
async fn outlier_detection_moves_traffic_to_the_healthy_endpoint() {
    let (good, good_seen) = server("good").await;
    // The bad workload's app is gone: its sidecar answers 503 (UF) to everything.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let bad = server_proxy("bad", 9080, dead, Protocol::Http).await;
    let mut up = cluster("up", 9080, Protocol::Http);
    up.outlier = Some(outlier());
    let c = client(
        vec![(up, vec![good.inbound, bad.inbound])],
        plain_route(to("up")),
    )
    .await;
    let mut h = H1::connect(c.outbound).await;
    let mut codes = Vec::new();
    for _ in 0..30 {
        codes.push(h.get("http://svc:9080/x", &[]).await.status.as_u16());
    }
    // Round robin alternates: the bad one fails 5 times, is ejected, and every
    // later request goes to the good one.
    assert_eq!(codes.iter().filter(|c| **c == 503).count(), 5, "{codes:?}");
    assert!(codes[10..].iter().all(|c| *c == 200), "{codes:?}");
    assert_eq!(good_seen.count("/x").await, 25);
    // After the ejection time it is tried again (and fails again).
    tokio::time::advance(Duration::from_secs(31)).await;
    let mut h = H1::connect(c.outbound).await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(h.get("http://svc:9080/x", &[]).await.status.as_u16());
    }
    assert!(
        codes.contains(&503),
        "the ejected endpoint is back in rotation: {codes:?}"
    );
}

#[tokio::test]
async fn connection_pool_overflow_is_a_fast_503_uo() {
    let (s, seen) = server("slow").await;
    let mut up = cluster("up", 9080, Protocol::Http);
    up.limits = ConnectionLimits {
        max_connections: Some(1),
        max_pending_requests: Some(1),
        ..ConnectionLimits::default()
    };
    let c = client(vec![(up, vec![s.inbound])], plain_route(to("up"))).await;
    let calls = (0..20).map(|_| {
        let out = c.outbound;
        tokio::spawn(async move {
            H1::connect(out)
                .await
                .get("http://svc:9080/sleep/300", &[])
                .await
        })
    });
    let replies: Vec<Reply> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let uo = replies
        .iter()
        .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE && r.flag() == "UO")
        .count();
    assert_eq!(ok + uo, 20, "every request either served or overflowed");
    assert!(
        uo >= 15,
        "at most one in flight and one pending at a time: {ok} ok, {uo} UO"
    );
    assert_eq!(seen.count("/sleep/300").await, ok);
}

#[tokio::test]
async fn consistent_hash_on_a_header_sticks_to_one_endpoint() {
    let mut servers = Vec::new();
    for name in ["a", "b", "c"] {
        servers.push(server(name).await);
    }
    let mut up = cluster("up", 9080, Protocol::Http);
    up.hash = Some(HashPolicy::Header("x-user".into()));
    let eps = servers.iter().map(|(p, _)| p.inbound).collect();
    let c = client(vec![(up, eps)], plain_route(to("up"))).await;
    let mut h = H1::connect(c.outbound).await;
    let mut owners = std::collections::BTreeSet::new();
    for user in ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"] {
        let first = h.get("http://svc:9080/who", &[("x-user", user)]).await.body;
        for _ in 0..5 {
            assert_eq!(
                h.get("http://svc:9080/who", &[("x-user", user)]).await.body,
                first
            );
        }
        owners.insert(first);
    }
    assert!(
        owners.len() >= 2,
        "8 users spread over endpoints: {owners:?}"
    );
}

#[tokio::test]
async fn mirroring_copies_requests_without_changing_answers() {
    let (main, main_seen) = server("main").await;
    let (shadow, shadow_seen) = server("shadow").await;
    let mut f = to("main");
    f.mirrors = vec![Mirror {
        cluster: "shadow".into(),
        percent: 100.0,
    }];
    let c = client(
        vec![
            (cluster("main", 9080, Protocol::Http), vec![main.inbound]),
            (
                cluster("shadow", 9080, Protocol::Http),
                vec![shadow.inbound],
            ),
        ],
        plain_route(f),
    )
    .await;
    let mut h = H1::connect(c.outbound).await;
    for _ in 0..10 {
        let r = h.get("http://svc:9080/m", &[]).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "name=main"));
    }
    assert_eq!(main_seen.count("/m").await, 10);
    // Mirrors are fire and forget: wait for them to land.
    for _ in 0..100 {
        if shadow_seen.count("/m").await == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(shadow_seen.count("/m").await, 10);
    assert_eq!(
        shadow_seen
            .last_headers()
            .await
            .get("host")
            .map(String::as_str),
        Some("svc-shadow:9080")
    );
}

#[tokio::test]
async fn header_operations_on_request_and_response() {
    let (s, seen) = server("h").await;
    let mut f = to("up");
    let mut dest_ops = HeaderOps::default();
    dest_ops.request.set.insert("x-dest".into(), "d".into());
    f.clusters[0].headers = dest_ops;
    let mut r = plain_route(f);
    r.headers.request.set.insert("x-set".into(), "new".into());
    r.headers.request.add.insert("x-add".into(), "added".into());
    r.headers.request.remove = vec!["x-remove".into()];
    r.headers.response.set.insert("x-resp".into(), "r".into());
    r.headers.response.remove = vec!["x-app-header".into()];
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        r,
    )
    .await;
    let reply = H1::connect(c.outbound)
        .await
        .get(
            "http://svc:9080/h",
            &[("x-set", "old"), ("x-remove", "gone")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get("x-resp").map(|v| v.as_bytes()),
        Some(&b"r"[..])
    );
    assert!(reply.headers.get("x-app-header").is_none());
    let h = seen.last_headers().await;
    assert_eq!(h.get("x-set").map(String::as_str), Some("new"));
    assert_eq!(h.get("x-add").map(String::as_str), Some("added"));
    assert_eq!(h.get("x-dest").map(String::as_str), Some("d"));
    assert!(!h.contains_key("x-remove"));
}

#[tokio::test]
async fn cors_preflights_are_answered_and_allowed_origins_echoed() {
    let (s, seen) = server("api").await;
    let mut r = plain_route(to("up"));
    r.cors = Some(mesh_api::proxy::CorsPolicy {
        allow_origins: vec![StringMatch {
            exact: Some("https://shop.example".into()),
            ..StringMatch::default()
        }],
        allow_methods: vec!["GET".into(), "PUT".into()],
        allow_credentials: true,
        ..Default::default()
    });
    let c = client(
        vec![(cluster("up", 9080, Protocol::Http), vec![s.inbound])],
        r,
    )
    .await;
    let mut h = H1::connect(c.outbound).await;
    let pre = [
        ("origin", "https://shop.example"),
        ("access-control-request-method", "PUT"),
    ];
    let reply = h.request("OPTIONS", "http://svc:9080/cart", &pre).await;
    assert_eq!(reply.status, StatusCode::OK);
    let get = |k: &str| {
        reply
            .headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        get("access-control-allow-origin").as_deref(),
        Some("https://shop.example")
    );
    assert_eq!(
        get("access-control-allow-methods").as_deref(),
        Some("GET,PUT")
    );
    assert_eq!(
        seen.count("/cart").await,
        0,
        "the preflight never reached the app"
    );
    // A preflight from another origin goes to the app (unmatchedPreflights: FORWARD).
    let other = [
        ("origin", "https://evil.example"),
        ("access-control-request-method", "PUT"),
    ];
    let reply = h.request("OPTIONS", "http://svc:9080/cart", &other).await;
    assert!(reply.headers.get("access-control-allow-origin").is_none());
    assert_eq!(seen.count("/cart").await, 1);
    // An actual request from the allowed origin gets the origin back.
    let reply = h
        .get(
            "http://svc:9080/cart",
            &[("origin", "https://shop.example")],
        )
        .await;
    assert_eq!(
        reply
            .headers
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"https://shop.example"[..])
    );
    assert_eq!(
        reply
            .headers
            .get("access-control-allow-credentials")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
}
