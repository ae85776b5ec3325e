//! Access logs end to end: a client sidecar (productpage) and a server sidecar
//! (reviews) on real sockets write one line per request, in Envoy's text
//! format and in Istio's JSON, with the code, flags (`FI` for an injected
//! abort), upstream cluster, authority and request id; a CEL filter keeps only
//! failures; nothing is logged by default; a filter outside the subset is NACKed.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::*;
use http::StatusCode;
use mesh_api::common::StringMatch;
use mesh_api::proxy::{
    AccessLogConfig, AccessLogEncoding, Fault, FaultAbort, InboundPort, Listeners, Protocol,
    RouteMatch, TelemetryConfig, TrafficMode,
};
use mesh_proxy::ProxyOptions;

const REVIEWS: &str = "outbound|9080|v1|reviews.default.svc.cluster.local";

fn log_to(path: &Path, encoding: AccessLogEncoding, filter: Option<&str>) -> TelemetryConfig {
    TelemetryConfig {
        access_log: Some(AccessLogConfig {
            path: path.display().to_string(),
            encoding,
            filter: filter.map(str::to_owned),
            mode: TrafficMode::ClientAndServer,
        }),
        ..TelemetryConfig::default()
    }
}

/// reviews' sidecar: inbound 9080 to an echo app, with `telemetry`.
async fn reviews(telemetry: TelemetryConfig) -> TestProxy {
    let app = echo_app("v1", None).await;
    let p = start_proxy(ProxyOptions::local("reviews-v1.default")).await;
    let listeners = Listeners {
        inbound: vec![InboundPort {
            port: 9080,
            app_port: app.port(),
            protocol: Protocol::Http,
            ..Default::default()
        }],
        telemetry,
        ..Default::default()
    };
    apply(&p.config, "listeners", "1", &listeners);
    for t in ["clusters", "endpoints"] {
        apply(&p.config, t, "1", &Vec::<()>::new());
    }
    apply(&p.config, "routes", "1", &routes(vec![]));
    p
}

/// productpage's sidecar: `reviews:9080` to `reviews`, aborting with 500 for
/// `end-user: jason`.
async fn productpage(reviews: SocketAddr, telemetry: TelemetryConfig) -> TestProxy {
    let p = start_proxy(ProxyOptions::local("productpage-v1.default")).await;
    configure_productpage(&p, reviews, telemetry, "1");
    p
}

fn configure_productpage(p: &TestProxy, reviews: SocketAddr, telemetry: TelemetryConfig, v: &str) {
    let c = &p.config;
    apply(
        c,
        "listeners",
        v,
        &Listeners {
            inbound: vec![],
            telemetry,
            ..Default::default()
        },
    );
    apply(
        c,
        "clusters",
        v,
        &vec![cluster(REVIEWS, 9080, Protocol::Http)],
    );
    apply(c, "endpoints", v, &vec![members(REVIEWS, &[reviews])]);
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
    apply(
        c,
        "routes",
        v,
        &routes(vec![vhost(
            "reviews",
            9080,
            vec![faulty, route("default", vec![], forward(&[(REVIEWS, 1)]))],
        )]),
    );
}

/// The file's lines once it has at least `n` (lines are written by a task
/// after the response body ends).
async fn lines(path: &Path, n: usize) -> Vec<String> {
    let read = || {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    for _ in 0..200 {
        if read().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    read()
}

const OK: usize = 5;
const FAULTS: usize = 2;

#[tokio::test]
async fn one_line_per_request_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let (text, json) = (dir.path().join("client.log"), dir.path().join("server.log"));
    let rv = reviews(log_to(&json, AccessLogEncoding::Json, None)).await;
    let pp = productpage(rv.inbound, log_to(&text, AccessLogEncoding::Text, None)).await;
    let mut h = H1::connect(pp.outbound).await;
    for i in 0..OK {
        let id = format!("req-{i}");
        let r = h
            .get(
                "http://reviews:9080/reviews/1?x=1",
                &[("x-request-id", id.as_str()), ("user-agent", "test/1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
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

    let client = lines(&text, OK + FAULTS).await;
    assert_eq!(client.len(), OK + FAULTS, "{client:#?}");
    for (i, line) in client[..OK].iter().enumerate() {
        assert!(line.starts_with('['), "{line}");
        for want in [
            "\"GET /reviews/1?x=1 HTTP/1.1\" 200 - via_upstream - \"-\" 0 ".to_owned(),
            format!(
                "\"test/1\" \"req-{i}\" \"reviews:9080\" \"{}\" {REVIEWS} - ",
                rv.inbound
            ),
            format!("{} ", pp.outbound),
        ] {
            assert!(line.contains(&want), "{want:?} not in\n{line}");
        }
        assert!(line.ends_with(" default"), "route name last: {line}");
    }
    for line in &client[OK..] {
        assert!(
            line.contains("\"GET /reviews/1 HTTP/1.1\" 500 FI fault_filter_abort - \"-\""),
            "{line}"
        );
        // A generated request id: a UUID v4.
        let id = line.split('"').nth(9).unwrap();
        assert_eq!((id.len(), &id[14..15]), (36, "4"), "{line}");
        assert!(line.ends_with(" jason"), "{line}");
    }

    // The server side logs only what reached it, in JSON with Istio's keys.
    let server = lines(&json, OK).await;
    assert_eq!(server.len(), OK, "{server:#?}");
    for (i, line) in server.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["response_code"], 200, "{v}");
        assert_eq!(v["response_flags"], "-");
        assert_eq!(v["method"], "GET");
        assert_eq!(v["path"], "/reviews/1?x=1");
        assert_eq!(
            v["request_id"],
            format!("req-{i}"),
            "the id crosses the hop"
        );
        assert_eq!(v["authority"], "reviews:9080");
        assert_eq!(v["upstream_cluster"], "inbound|9080||");
        assert_eq!(v["downstream_local_address"], rv.inbound.to_string());
        assert!(v["bytes_sent"].as_u64().unwrap() > 0, "{v}");
        assert!(v["start_time"].as_str().unwrap().ends_with('Z'));
    }

    let scrape = fetch(pp.admin, "GET", "/stats/prometheus").await.body;
    assert!(
        scrape.contains(&format!("meshctl_access_log_lines_total {}", OK + FAULTS)),
        "{scrape}"
    );
    assert!(scrape.contains("meshctl_access_log_dropped_total 0"));
}

#[tokio::test]
async fn a_filter_logs_only_failures_and_logging_is_off_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failures.log");
    let rv = reviews(TelemetryConfig::default()).await;
    let pp = productpage(rv.inbound, TelemetryConfig::default()).await;
    let mut h = H1::connect(pp.outbound).await;
    for _ in 0..3 {
        let r = h.get("http://reviews:9080/", &[]).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    for p in [&pp, &rv] {
        let scrape = fetch(p.admin, "GET", "/stats/prometheus").await.body;
        assert!(
            scrape.contains("meshctl_access_log_lines_total 0"),
            "{scrape}"
        );
    }

    configure_productpage(
        &pp,
        rv.inbound,
        log_to(&path, AccessLogEncoding::Text, Some("response.code >= 400")),
        "2",
    );
    for _ in 0..3 {
        assert_eq!(
            h.get("http://reviews:9080/", &[]).await.status,
            StatusCode::OK
        );
    }
    let r = h
        .get("http://reviews:9080/", &[("end-user", "jason")])
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    // A success after the failure: its line (if any) would follow.
    assert_eq!(
        h.get("http://reviews:9080/", &[]).await.status,
        StatusCode::OK
    );
    // Lines are counted when queued, as each response ends (before the
    // client has read it): only the failure passed the filter.
    let scrape = fetch(pp.admin, "GET", "/stats/prometheus").await.body;
    assert!(
        scrape.contains("meshctl_access_log_lines_total 1"),
        "{scrape}"
    );
    let logged = lines(&path, 1).await;
    assert_eq!(logged.len(), 1, "{logged:#?}");
    assert!(logged[0].contains(" 500 FI "), "{logged:?}");
}

#[tokio::test]
async fn a_filter_outside_the_subset_is_rejected() {
    let p = start_proxy(ProxyOptions::local("x")).await;
    let bad = Listeners {
        inbound: vec![],
        telemetry: log_to(
            Path::new("/dev/null"),
            AccessLogEncoding::Json,
            Some("size(request.path) > 1"),
        ),
        ..Default::default()
    };
    let err = p
        .config
        .apply("listeners", "1", &serde_json::to_vec(&bad).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unsupported function or method size()"),
        "{err}"
    );
    assert!(err.contains("meshctl supports"), "{err}");
}
