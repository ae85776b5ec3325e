//! Istio's standard metrics end to end: a client sidecar (productpage) calls a
//! server sidecar (reviews) over real sockets; both report the edge with
//! Istio's labels, fault aborts carry `response_flags="FI"`, CONNECT tunnels
//! count TCP metrics, and the scrape passes the real `promtool check metrics`.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;

use common::prom::*;
use common::*;
use http::StatusCode;
use mesh_api::common::StringMatch;
use mesh_api::proxy::{
    Fault, FaultAbort, InboundPort, Listeners, Protocol, ProxyConfig, RouteConfig, RouteMatch,
    TcpRoute, TcpService, WeightedCluster,
};
use mesh_proxy::ProxyOptions;
use mesh_proxy::telemetry::{PEER_HEADER, Workload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REVIEWS: &str = "outbound|9080|v1|reviews.default.svc.cluster.local";
const DB: &str = "outbound|3306||db.default.svc.cluster.local";

fn workload(service: &str, version: &str) -> Workload {
    let labels = HashMap::from([
        ("app".to_owned(), service.to_owned()),
        ("version".to_owned(), version.to_owned()),
    ]);
    Workload::new(service, "default", &format!("bookinfo-{service}"), &labels)
}

/// A sidecar for `w` whose inbound maps `port` to `app`.
async fn server(w: Workload, port: u16, app: SocketAddr, protocol: Protocol) -> TestProxy {
    let mut opts = ProxyOptions::local(format!("{}.default", w.name));
    opts.workload = w;
    let p = start_proxy(opts).await;
    let cfg = ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port,
                app_port: app.port(),
                protocol,
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    p.config.apply_all("1", &cfg).unwrap();
    p
}

/// productpage's sidecar, routing `reviews:9080` to reviews-v1 (aborting with
/// 500 for `end-user: jason`) and tunnelling `db:3306` to the db sidecar.
async fn client(reviews: &TestProxy, db: &TestProxy) -> TestProxy {
    let mut opts = ProxyOptions::local("productpage-v1.default");
    opts.workload = workload("productpage", "v1");
    let p = start_proxy(opts).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    apply(
        c,
        "clusters",
        "1",
        &vec![
            cluster(REVIEWS, 9080, Protocol::Http),
            cluster(DB, 3306, Protocol::Tcp),
        ],
    );
    apply(
        c,
        "endpoints",
        "1",
        &vec![
            members(REVIEWS, &[reviews.inbound]),
            members(DB, &[db.inbound]),
        ],
    );
    let mut jason = RouteMatch::default();
    jason.headers.insert(
        "end-user".into(),
        StringMatch {
            exact: Some("jason".into()),
            ..StringMatch::default()
        },
    );
    let mut faulty = route("jason", vec![jason], forward(&[(REVIEWS, 1)]));
    faulty.fault = Some(Fault {
        delay: None,
        abort: Some(FaultAbort {
            http_status: Some(500),
            grpc_status: None,
            percent: 100.0,
        }),
    });
    let mut rc: RouteConfig = routes(vec![vhost(
        "reviews",
        9080,
        vec![faulty, route("default", vec![], forward(&[(REVIEWS, 1)]))],
    )]);
    rc.tcp_services = vec![TcpService {
        name: "db:3306".into(),
        domains: vec!["db".into(), "db:3306".into()],
        port: 3306,
        routes: vec![TcpRoute {
            name: "db".into(),
            sni_hosts: vec![],
            clusters: vec![WeightedCluster {
                cluster: DB.into(),
                weight: 1,
                ..WeightedCluster::default()
            }],
            origin: None,
        }],
    }];
    apply(c, "routes", "1", &rc);
    p
}

const N: usize = 7;
const FAULTS: usize = 2;

#[tokio::test]
async fn both_sidecars_report_each_request_with_istio_labels() {
    let reviews = server(
        workload("reviews", "v1"),
        9080,
        echo_app("v1", None).await,
        Protocol::Http,
    )
    .await;
    let db = server(workload("db", "v1"), 3306, tcp_echo().await, Protocol::Tcp).await;
    let pp = client(&reviews, &db).await;
    let mut h = H1::connect(pp.outbound).await;
    for _ in 0..N {
        let r = h.get("http://reviews:9080/reviews/1", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(r.body.starts_with("name=v1"), "{r:?}");
        assert!(
            !r.headers.contains_key(PEER_HEADER),
            "the client sidecar strips the exchange header: {r:?}"
        );
    }
    for _ in 0..FAULTS {
        let r = h
            .get("http://reviews:9080/reviews/1", &[("end-user", "jason")])
            .await;
        assert_eq!(
            (r.status, r.flag()),
            (StatusCode::INTERNAL_SERVER_ERROR, "FI")
        );
    }

    let edge = [
        ("source_workload", "productpage-v1"),
        ("source_workload_namespace", "default"),
        ("source_app", "productpage"),
        ("source_version", "v1"),
        ("source_canonical_service", "productpage"),
        ("source_canonical_revision", "v1"),
        ("destination_workload", "reviews-v1"),
        ("destination_workload_namespace", "default"),
        ("destination_app", "reviews"),
        ("destination_version", "v1"),
        ("destination_canonical_service", "reviews"),
        ("destination_service", "reviews.default.svc.cluster.local"),
        ("destination_service_name", "reviews"),
        ("destination_service_namespace", "default"),
        ("request_protocol", "http"),
        ("response_code", "200"),
        ("response_flags", "-"),
        ("grpc_response_status", ""),
        ("connection_security_policy", "unknown"),
    ];
    let n = N as f64;
    for (who, admin, reporter) in [
        ("client", pp.admin, "source"),
        ("server", reviews.admin, "destination"),
    ] {
        let mut want = edge.to_vec();
        want.push(("reporter", reporter));
        let s = scrape_until(admin, "istio_requests_total", &want, n).await;
        assert_eq!(
            sum(&s, "istio_requests_total", &want),
            n,
            "{who}: istio_requests_total{want:?}"
        );
        for h in [
            "istio_request_duration_milliseconds",
            "istio_request_bytes",
            "istio_response_bytes",
        ] {
            assert_eq!(sum(&s, &format!("{h}_count"), &want), n, "{who}: {h}_count");
            let mut inf = want.clone();
            inf.push(("le", "+Inf"));
            assert_eq!(
                sum(&s, &format!("{h}_bucket"), &inf),
                n,
                "{who}: {h}_bucket le=+Inf"
            );
        }
        let mut tiny = want.clone();
        tiny.push(("le", "0.5"));
        assert_eq!(
            sum(&s, "istio_response_bytes_bucket", &tiny),
            0.0,
            "{who}: responses have bytes"
        );
        assert!(
            sum(&s, "istio_response_bytes_sum", &want) > n * 20.0,
            "{who}: response bytes counted"
        );
    }
    // Exactly the N requests reached the server: the aborted ones never left the client.
    let server_side = parse(&scrape(reviews.admin).await);
    assert_eq!(sum(&server_side, "istio_requests_total", &[]), n);
    let fi = [
        ("reporter", "source"),
        ("source_workload", "productpage-v1"),
        ("response_code", "500"),
        ("response_flags", "FI"),
    ];
    let client_side = scrape_until(pp.admin, "istio_requests_total", &fi, FAULTS as f64).await;
    assert_eq!(
        sum(&client_side, "istio_requests_total", &fi),
        FAULTS as f64
    );
    assert_eq!(
        sum(
            &client_side,
            "istio_requests_total",
            &[("reporter", "source")]
        ),
        n + FAULTS as f64
    );

    // A TCP tunnel: both sides count one connection and its bytes, and each
    // names the other (the exchange header rides on the sidecars' CONNECT).
    {
        let mut s = TcpStream::connect(pp.outbound).await.unwrap();
        s.write_all(b"CONNECT db:3306 HTTP/1.1\r\nHost: db:3306\r\n\r\n")
            .await
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(s.read(&mut byte).await.unwrap(), 1);
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        s.write_all(b"0123456789").await.unwrap();
        let mut echo = [0u8; 10];
        s.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"0123456789");
    }
    let tcp = [
        ("reporter", "source"),
        ("source_workload", "productpage-v1"),
        ("destination_workload", "db-v1"),
        ("destination_service", "db.default.svc.cluster.local"),
        ("request_protocol", "tcp"),
    ];
    let s = scrape_until(pp.admin, "istio_tcp_connections_closed_total", &tcp, 1.0).await;
    assert_eq!(sum(&s, "istio_tcp_connections_opened_total", &tcp), 1.0);
    assert_eq!(sum(&s, "istio_tcp_connections_closed_total", &tcp), 1.0);
    assert_eq!(sum(&s, "istio_tcp_received_bytes_total", &tcp), 10.0);
    assert_eq!(sum(&s, "istio_tcp_sent_bytes_total", &tcp), 10.0);
    let dest = [
        ("reporter", "destination"),
        ("source_workload", "productpage-v1"),
        ("destination_workload", "db-v1"),
    ];
    let s = scrape_until(db.admin, "istio_tcp_connections_closed_total", &dest, 1.0).await;
    assert_eq!(sum(&s, "istio_tcp_connections_opened_total", &dest), 1.0);
    assert_eq!(sum(&s, "istio_tcp_received_bytes_total", &dest), 10.0);

    // Self-metrics.
    let s = parse(&scrape(pp.admin).await);
    assert_eq!(
        sum(&s, "meshctl_config_applies_total", &[("type", "routes")]),
        1.0
    );
    assert_eq!(
        sum(&s, "meshctl_control_plane_connected", &[]),
        0.0,
        "no discovery stream in this test"
    );
    assert!(
        sum(
            &s,
            "meshctl_active_connections",
            &[("listener", "outbound")]
        ) >= 1.0
    );
}

/// An app that answers whether it saw the exchange header.
async fn header_app() -> SocketAddr {
    use hyper::service::service_fn;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let svc = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                let seen = req.headers().contains_key(PEER_HEADER);
                Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                    bytes::Bytes::from(format!("peer-header={seen}")),
                )))
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc),
            );
        }
    });
    addr
}

#[tokio::test]
async fn the_exchange_header_reaches_neither_app() {
    let reviews = server(
        workload("reviews", "v1"),
        9080,
        header_app().await,
        Protocol::Http,
    )
    .await;
    // A caller that names itself in the header, straight to the inbound listener.
    let caller = workload("ratings", "v2").header_value().unwrap();
    let mut h = H1::connect(reviews.inbound).await;
    let r = h
        .get(
            "http://reviews:9080/x",
            &[(PEER_HEADER, caller.to_str().unwrap())],
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, "peer-header=false")
    );
    let me = Workload::from_header(r.headers.get(PEER_HEADER).unwrap().as_bytes()).unwrap();
    assert_eq!(
        me.name, "reviews-v1",
        "the server sidecar answers with its own identity"
    );
    let want = [
        ("reporter", "destination"),
        ("source_workload", "ratings-v2"),
        ("source_version", "v2"),
    ];
    let s = scrape_until(reviews.admin, "istio_requests_total", &want, 1.0).await;
    assert_eq!(sum(&s, "istio_requests_total", &want), 1.0);

    // Through the client sidecar: the app behind the server never sees it, the
    // client never sees the server's answer header.
    let db = server(workload("db", "v1"), 3306, tcp_echo().await, Protocol::Tcp).await;
    let pp = client(&reviews, &db).await;
    let mut h = H1::connect(pp.outbound).await;
    let r = h.get("http://reviews:9080/x", &[]).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, "peer-header=false")
    );
    assert!(!r.headers.contains_key(PEER_HEADER), "{r:?}");
}

/// `promtool check metrics` on real scrapes of both sides: no parse error, no
/// lint problem.
#[tokio::test]
async fn scrapes_pass_promtool_check_metrics() {
    let reviews = server(
        workload("reviews", "v1"),
        9080,
        echo_app("v1", None).await,
        Protocol::Http,
    )
    .await;
    let db = server(workload("db", "v1"), 3306, tcp_echo().await, Protocol::Tcp).await;
    let pp = client(&reviews, &db).await;
    let mut h = H1::connect(pp.outbound).await;
    for user in ["kim", "jason"] {
        h.get("http://reviews:9080/", &[("end-user", user)]).await;
    }
    h.get("http://nowhere/", &[]).await;
    let want = [("reporter", "destination")];
    scrape_until(reviews.admin, "istio_requests_total", &want, 1.0).await;
    for admin in [pp.admin, reviews.admin] {
        let text = scrape(admin).await;
        assert!(
            text.contains("istio_request_duration_milliseconds_bucket"),
            "{text}"
        );
        promtool_check(&text);
    }
}
