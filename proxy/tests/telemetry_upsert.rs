//! Telemetry `tagOverrides` UPSERT end to end: a client sidecar (productpage)
//! calls a server sidecar (reviews) over real sockets; both add `request_host`
//! to every request metric, a header-valued `user` to `istio_requests_total`
//! only, the client replaces `destination_service` with the request's host
//! and the server adds a literal; a missing header reads `unknown`; the
//! scrapes pass the real `promtool check metrics`; a value outside meshctl's
//! subset is NACKed.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;

use common::prom::*;
use common::*;
use http::StatusCode;
use mesh_api::proxy::{
    InboundPort, Listeners, MetricsOverrides, Protocol, TagUpsert, TelemetryConfig, TrafficMode,
};
use mesh_proxy::ProxyOptions;
use mesh_proxy::telemetry::Workload;

const REVIEWS: &str = "outbound|9080|v1|reviews.default.svc.cluster.local";

fn workload(service: &str) -> Workload {
    let labels = HashMap::from([
        ("app".to_owned(), service.to_owned()),
        ("version".to_owned(), "v1".to_owned()),
    ]);
    Workload::new(service, "default", service, &labels)
}

fn up(tag: &str, value: &str, metric: &str, mode: TrafficMode) -> TagUpsert {
    TagUpsert {
        tag: tag.into(),
        value: value.into(),
        metric: metric.into(),
        mode,
    }
}

/// What the compiler gives both sidecars for a Telemetry like:
/// ```yaml
/// overrides:
/// - tagOverrides: {request_host: {value: request.host}}
/// - match: {metric: REQUEST_COUNT}
///   tagOverrides: {user: {value: "request.headers['x-user']"}}
/// - match: {metric: REQUEST_COUNT, mode: CLIENT}
///   tagOverrides: {destination_service: {value: request.host}}
/// - match: {metric: REQUEST_COUNT, mode: SERVER}
///   tagOverrides: {mesh: {value: "'east'"}}
/// ```
fn telemetry() -> TelemetryConfig {
    let both = TrafficMode::ClientAndServer;
    TelemetryConfig {
        metrics: MetricsOverrides {
            upserted_tags: vec![
                up("request_host", "request.host", "ALL_METRICS", both),
                up("user", "request.headers['x-user']", "REQUEST_COUNT", both),
                up(
                    "destination_service",
                    "request.host",
                    "REQUEST_COUNT",
                    TrafficMode::Client,
                ),
                up("mesh", "'east'", "REQUEST_COUNT", TrafficMode::Server),
            ],
            ..MetricsOverrides::default()
        },
        ..TelemetryConfig::default()
    }
}

async fn reviews(app: SocketAddr) -> TestProxy {
    let mut opts = ProxyOptions::local("reviews-v1.default");
    opts.workload = workload("reviews");
    let p = start_proxy(opts).await;
    let listeners = Listeners {
        inbound: vec![InboundPort {
            port: 9080,
            app_port: app.port(),
            protocol: Protocol::Http,
            ..Default::default()
        }],
        telemetry: telemetry(),
        ..Default::default()
    };
    apply(&p.config, "listeners", "1", &listeners);
    for t in ["clusters", "endpoints"] {
        apply(&p.config, t, "1", &Vec::<()>::new());
    }
    apply(&p.config, "routes", "1", &routes(vec![]));
    p
}

async fn productpage(reviews: SocketAddr) -> TestProxy {
    let mut opts = ProxyOptions::local("productpage-v1.default");
    opts.workload = workload("productpage");
    let p = start_proxy(opts).await;
    let c = &p.config;
    let listeners = Listeners {
        telemetry: telemetry(),
        ..Default::default()
    };
    apply(c, "listeners", "1", &listeners);
    apply(
        c,
        "clusters",
        "1",
        &vec![cluster(REVIEWS, 9080, Protocol::Http)],
    );
    apply(c, "endpoints", "1", &vec![members(REVIEWS, &[reviews])]);
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost(
            "reviews",
            9080,
            vec![route("default", vec![], forward(&[(REVIEWS, 1)]))],
        )]),
    );
    p
}

const QUOTED: &str = "say \"hi\" twice";

#[tokio::test]
async fn upserted_labels_carry_each_requests_values() {
    let rv = reviews(echo_app("v1", None).await).await;
    let pp = productpage(rv.inbound).await;
    let mut h = H1::connect(pp.outbound).await;
    let users: [&[(&str, &str)]; 6] = [
        &[("x-user", "kim")],
        &[("x-user", "kim")],
        &[("x-user", "kim")],
        &[],
        &[],
        &[("x-user", QUOTED)],
    ];
    for u in users {
        let r = h.get("http://reviews:9080/reviews/1", u).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let quoted = "say \\\"hi\\\" twice";
    let client = [
        ("reporter", "source"),
        ("request_host", "reviews:9080"),
        ("destination_service", "reviews:9080"),
        ("destination_service_name", "reviews"),
    ];
    let s = scrape_until(pp.admin, "istio_requests_total", &client, 6.0).await;
    let count = |s: &[Sample], base: &[(&str, &str)], user: &str| {
        let mut want = base.to_vec();
        want.push(("user", user));
        sum(s, "istio_requests_total", &want)
    };
    assert_eq!(count(&s, &client, "kim"), 3.0);
    assert_eq!(count(&s, &client, "unknown"), 2.0, "a missing header");
    assert_eq!(count(&s, &client, quoted), 1.0, "escaped for the format");
    // The other request metrics get request_host only, and the standard
    // destination_service.
    let duration = "istio_request_duration_milliseconds_count";
    for (n, l, _) in s.iter().filter(|(n, ..)| n == duration) {
        assert!(
            !l.contains_key("user") && !l.contains_key("mesh"),
            "{n} {l:?}"
        );
    }
    let standard = [
        ("reporter", "source"),
        ("request_host", "reviews:9080"),
        ("destination_service", "reviews.default.svc.cluster.local"),
    ];
    assert_eq!(sum(&s, duration, &standard), 6.0);
    assert!(
        s.iter().all(|(_, l, _)| !l.contains_key("mesh")),
        "server only"
    );

    let server = [
        ("reporter", "destination"),
        ("source_workload", "productpage-v1"),
        ("request_host", "reviews:9080"),
        ("destination_service", "reviews.default.svc.cluster.local"),
        ("mesh", "east"),
    ];
    let s = scrape_until(rv.admin, "istio_requests_total", &server, 6.0).await;
    assert_eq!(count(&s, &server, "kim"), 3.0);
    assert_eq!(count(&s, &server, "unknown"), 2.0);
    assert_eq!(
        sum(
            &s,
            duration,
            &[
                ("reporter", "destination"),
                ("request_host", "reviews:9080")
            ]
        ),
        6.0
    );

    for admin in [pp.admin, rv.admin] {
        let text = scrape(admin).await;
        for line in text
            .lines()
            .filter(|l| l.starts_with("istio_requests_total{"))
        {
            assert_eq!(
                line.matches("destination_service=").count(),
                1,
                "a replaced label appears once: {line}"
            );
        }
        promtool_check(&text);
    }
}

#[tokio::test]
async fn a_value_outside_the_subset_is_rejected() {
    let p = start_proxy(ProxyOptions::local("x")).await;
    let mut telemetry = telemetry();
    telemetry.metrics.upserted_tags.push(up(
        "code",
        "response.code",
        "ALL_METRICS",
        TrafficMode::ClientAndServer,
    ));
    let bad = Listeners {
        telemetry,
        ..Default::default()
    };
    let err = p
        .config
        .apply("listeners", "1", &serde_json::to_vec(&bad).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not known when the request arrives"), "{err}");
    assert!(err.contains("meshctl supports"), "{err}");
}
