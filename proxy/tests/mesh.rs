//! End-to-end: apps behind server-side proxies, a client-side proxy routing to
//! them, real sockets and real hyper clients.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use common::*;
use http::StatusCode;
use mesh_api::common::StringMatch;
use mesh_api::proxy::{Protocol, RouteMatch};
use mesh_proxy::ProxyOptions;

/// reviews v1 and v2, each behind its own sidecar, and a client sidecar whose
/// `reviews:9080` routes to `reviews-v1` (clusters `reviews-v1`, `reviews-v2`).
struct Mesh {
    client: TestProxy,
    v1: TestProxy,
    v2: TestProxy,
}

async fn mesh() -> Mesh {
    let v1 = server_proxy("v1", 9080, echo_app("v1", None).await, Protocol::Http).await;
    let v2 = server_proxy("v2", 9080, echo_app("v2", None).await, Protocol::Http).await;
    let client = start_proxy(ProxyOptions::local("client")).await;
    let c = &client.config;
    apply(c, "listeners", "1", &mesh_api::proxy::Listeners::default());
    apply(
        c,
        "clusters",
        "1",
        &vec![
            cluster("reviews-v1", 9080, Protocol::Http),
            cluster("reviews-v2", 9080, Protocol::Http),
            cluster("empty", 9080, Protocol::Http),
            cluster("dead", 9080, Protocol::Http),
        ],
    );
    let dead = closed_port().await;
    apply(
        c,
        "endpoints",
        "1",
        &vec![
            members("reviews-v1", &[v1.inbound]),
            members("reviews-v2", &[v2.inbound]),
            members("dead", &[dead]),
        ],
    );
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost(
            "reviews",
            9080,
            vec![route("default", vec![], forward(&[("reviews-v1", 1)]))],
        )]),
    );
    Mesh { client, v1, v2 }
}

async fn closed_port() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

fn exact(v: &str) -> StringMatch {
    StringMatch {
        exact: Some(v.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn absolute_and_origin_form_get() {
    let m = mesh().await;
    let mut c = H1::connect(m.client.outbound).await;
    let r = c.get("http://reviews:9080/x?y=1", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body, "name=v1 method=GET path=/x host=reviews:9080");
    let r = c.get("/origin", &[("host", "Reviews:9080")]).await;
    assert_eq!(r.body, "name=v1 method=GET path=/origin host=Reviews:9080");
    // `reviews` alone means port 80, and the reviews virtual host is for 9080.
    let r = c.get("http://reviews/x", &[]).await;
    assert_eq!((r.status, r.flag()), (StatusCode::NOT_FOUND, "NR"));
    let _ = m.v2;
}

#[tokio::test]
async fn curl_through_http_proxy() {
    // curl is a real HTTP_PROXY client; .ci/run installs it. No skipping.
    assert!(
        std::process::Command::new("curl")
            .arg("--version")
            .output()
            .is_ok(),
        "this test needs curl on PATH (apt-get install curl)"
    );
    let m = mesh().await;
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "-x", &format!("http://{}", m.client.outbound)])
        .arg("http://reviews:9080/curl")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "name=v1 method=GET path=/curl host=reviews:9080"
    );
}

#[tokio::test]
async fn weighted_split() {
    let m = mesh().await;
    apply(
        &m.client.config,
        "routes",
        "2",
        &routes(vec![vhost(
            "reviews",
            9080,
            vec![route(
                "split",
                vec![],
                forward(&[("reviews-v1", 80), ("reviews-v2", 20)]),
            )],
        )]),
    );
    let mut c = H1::connect(m.client.outbound).await;
    let mut v1 = 0;
    for _ in 0..1000 {
        let r = c.get("http://reviews:9080/", &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        if r.body.starts_with("name=v1") {
            v1 += 1;
        }
    }
    assert!(
        (750..=850).contains(&v1),
        "v1 got {v1} of 1000, expected 800 ± 50"
    );
}

#[tokio::test]
async fn header_match_routing() {
    let m = mesh().await;
    let mut jason = RouteMatch::default();
    jason.headers.insert("end-user".into(), exact("jason"));
    let prefix = RouteMatch {
        uri: Some(StringMatch {
            prefix: Some("/V2".into()),
            ..Default::default()
        }),
        ignore_uri_case: true,
        ..Default::default()
    };
    apply(
        &m.client.config,
        "routes",
        "2",
        &routes(vec![vhost(
            "reviews",
            9080,
            vec![
                route("jason", vec![jason, prefix], forward(&[("reviews-v2", 1)])),
                route("default", vec![], forward(&[("reviews-v1", 1)])),
            ],
        )]),
    );
    let mut c = H1::connect(m.client.outbound).await;
    assert!(
        c.get("http://reviews:9080/", &[("end-user", "jason")])
            .await
            .body
            .starts_with("name=v2")
    );
    assert!(
        c.get("http://reviews:9080/", &[("end-user", "bob")])
            .await
            .body
            .starts_with("name=v1")
    );
    assert!(
        c.get("http://reviews:9080/", &[])
            .await
            .body
            .starts_with("name=v1")
    );
    assert!(
        c.get("http://reviews:9080/v2/x", &[])
            .await
            .body
            .starts_with("name=v2")
    );
}

#[tokio::test]
async fn failure_flags() {
    let m = mesh().await;
    let only_api = RouteMatch {
        uri: Some(StringMatch {
            prefix: Some("/api".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    apply(
        &m.client.config,
        "routes",
        "2",
        &routes(vec![
            vhost(
                "reviews",
                9080,
                vec![route("api", vec![only_api], forward(&[("reviews-v1", 1)]))],
            ),
            vhost(
                "nc",
                80,
                vec![route("r", vec![], forward(&[("missing", 1)]))],
            ),
            vhost("uh", 80, vec![route("r", vec![], forward(&[("empty", 1)]))]),
            vhost("uf", 80, vec![route("r", vec![], forward(&[("dead", 1)]))]),
            vhost(
                "local",
                80,
                vec![route(
                    "r",
                    vec![],
                    mesh_api::proxy::RouteAction::DirectResponse {
                        status: 418,
                        body: "teapot".into(),
                    },
                )],
            ),
        ]),
    );
    let mut c = H1::connect(m.client.outbound).await;
    let cases = [
        ("http://ratings:9080/", StatusCode::NOT_FOUND, "NR"),
        ("http://reviews:9080/other", StatusCode::NOT_FOUND, "NR"),
        ("http://nc/", StatusCode::SERVICE_UNAVAILABLE, "NC"),
        ("http://uh/", StatusCode::SERVICE_UNAVAILABLE, "UH"),
        ("http://uf/", StatusCode::SERVICE_UNAVAILABLE, "UF"),
        ("http://reviews:9080/api", StatusCode::OK, "-"),
        ("http://local/", StatusCode::IM_A_TEAPOT, "-"),
    ];
    for (uri, status, flag) in cases {
        let r = c.get(uri, &[]).await;
        assert_eq!((r.status, r.flag()), (status, flag), "{uri}: {r:?}");
    }
    let stats = fetch(m.client.admin, "GET", "/stats/prometheus").await.body;
    let count = |text: &str, code: &str, flag: &str, reporter: &str| -> u64 {
        let code = format!("response_code=\"{code}\"");
        let flag = format!("response_flags=\"{flag}\"");
        let reporter = format!("reporter=\"{reporter}\"");
        text.lines()
            .filter(|l| l.starts_with("istio_requests_total{"))
            .filter(|l| l.contains(&code) && l.contains(&flag) && l.contains(&reporter))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(count(&stats, "404", "NR", "source"), 2, "{stats}");
    assert_eq!(count(&stats, "503", "UF", "source"), 1, "{stats}");
    assert_eq!(count(&stats, "200", "-", "source"), 1, "{stats}");
    assert!(
        stats.contains("meshctl_config_applies_total{type=\"routes\"} 2"),
        "{stats}"
    );
    let inbound = fetch(m.v1.admin, "GET", "/stats/prometheus").await.body;
    assert_eq!(count(&inbound, "200", "-", "destination"), 1, "{inbound}");
}

#[tokio::test]
async fn config_swap_while_requests_flow() {
    let m = mesh().await;
    let outbound = m.client.outbound;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(async move {
                let mut c = H1::connect(outbound).await;
                let mut seen = [0usize; 2];
                for _ in 0..150 {
                    let r = c.get("http://reviews:9080/", &[]).await;
                    assert_eq!(r.status, StatusCode::OK, "{r:?}");
                    seen[usize::from(r.body.starts_with("name=v2"))] += 1;
                }
                seen
            })
        })
        .collect();
    for i in 0..60 {
        let to = if i % 2 == 0 {
            "reviews-v2"
        } else {
            "reviews-v1"
        };
        apply(
            &m.client.config,
            "routes",
            &format!("swap-{i}"),
            &routes(vec![vhost(
                "reviews",
                9080,
                vec![route("default", vec![], forward(&[(to, 1)]))],
            )]),
        );
        // endpoints churn too: the same members re-pushed
        apply(
            &m.client.config,
            "endpoints",
            &format!("swap-{i}"),
            &vec![
                members("reviews-v1", &[m.v1.inbound]),
                members("reviews-v2", &[m.v2.inbound]),
            ],
        );
        tokio::task::yield_now().await;
    }
    let mut total = 0;
    for w in workers {
        let seen = w.await.unwrap();
        total += seen[0] + seen[1];
    }
    assert_eq!(total, 600);
}

#[tokio::test]
async fn nack_keeps_the_old_config() {
    let m = mesh().await;
    let c = &m.client.config;
    let bad = routes(vec![vhost(
        "reviews",
        9080,
        vec![route("zero", vec![], forward(&[("reviews-v2", 0)]))],
    )]);
    let err = c
        .apply("routes", "2", &serde_json::to_vec(&bad).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("weight above 0"), "{err}");
    assert!(c.apply("routes", "3", b"[1,2").is_err());
    let mut h = H1::connect(m.client.outbound).await;
    assert!(
        h.get("http://reviews:9080/", &[])
            .await
            .body
            .starts_with("name=v1")
    );
    let st = c.status("routes").unwrap();
    assert_eq!(st.version.as_deref(), Some("1"));
    assert!(st.last_error.unwrap().contains("invalid routes payload"));
    let dump: serde_json::Value =
        serde_json::from_str(&fetch(m.client.admin, "GET", "/config_dump").await.body).unwrap();
    assert_eq!(dump["status"]["routes"]["version"], "1");
    assert_eq!(dump["status"]["routes"]["rejects"], 2);
    assert_eq!(dump["proxyId"], "client");
    assert_eq!(
        dump["config"]["routes"]["virtualHosts"][0]["routes"][0]["name"],
        "default"
    );
}

#[tokio::test]
async fn admin_endpoints() {
    let p = start_proxy(ProxyOptions::local("fresh")).await;
    let r = fetch(p.admin, "GET", "/ready").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.body.contains("listeners, clusters, endpoints, routes"),
        "{}",
        r.body
    );
    let m = mesh().await;
    let r = fetch(m.client.admin, "GET", "/ready").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ready\n"));
    let clusters = fetch(m.client.admin, "GET", "/clusters").await.body;
    assert!(
        clusters.contains(&format!("reviews-v1::{}::weight::1\n", m.v1.inbound)),
        "{clusters}"
    );
    assert_eq!(
        fetch(m.client.admin, "GET", "/logging").await.status,
        StatusCode::NOT_IMPLEMENTED
    );
    assert_eq!(
        fetch(m.client.admin, "GET", "/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[derive(Debug, Default)]
struct Levels(std::sync::Mutex<String>);

impl mesh_proxy::LogControl for Levels {
    fn level(&self) -> String {
        self.0.lock().unwrap().clone()
    }
    fn set_level(&self, level: &str) -> Result<(), String> {
        if !["trace", "debug", "info", "warn", "error"].contains(&level) {
            return Err(format!("unknown level {level:?}"));
        }
        *self.0.lock().unwrap() = level.into();
        Ok(())
    }
}

#[tokio::test]
async fn logging_endpoint_uses_the_callback() {
    let levels = std::sync::Arc::new(Levels(std::sync::Mutex::new("info".into())));
    let mut opts = ProxyOptions::local("log");
    opts.log_control = Some(levels.clone());
    let p = start_proxy(opts).await;
    assert_eq!(fetch(p.admin, "GET", "/logging").await.body, "info\n");
    let r = fetch(p.admin, "POST", "/logging?level=debug").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "debug\n"));
    assert_eq!(levels.level_now(), "debug");
    let r = fetch(p.admin, "POST", "/logging?level=loud").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        fetch(p.admin, "POST", "/logging").await.status,
        StatusCode::BAD_REQUEST
    );
}

impl Levels {
    fn level_now(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn admin_must_be_loopback() {
    let mut opts = ProxyOptions::local("x");
    opts.admin = "0.0.0.0:0".parse().unwrap();
    let e = mesh_proxy::Proxy::new(opts).bind().await.unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
}
