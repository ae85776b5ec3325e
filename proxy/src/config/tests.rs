use mesh_api::common::StringMatch;
use mesh_api::proxy::{
    Endpoint, Forward, InboundPort, LbPolicy, Protocol, Route, RouteAction, RouteMatch,
    VirtualHost, WeightedCluster,
};

use super::*;

fn cluster(name: &str) -> Cluster {
    Cluster {
        name: name.into(),
        service: "reviews.default.svc.cluster.local".into(),
        port: 9080,
        subset: None,
        protocol: Protocol::Http,
        lb_policy: LbPolicy::RoundRobin,
        ..Cluster::default()
    }
}

fn forward(to: &[(&str, u32)]) -> RouteAction {
    RouteAction::Forward(Forward {
        clusters: to
            .iter()
            .map(|(c, w)| WeightedCluster {
                cluster: (*c).into(),
                weight: *w,
                ..WeightedCluster::default()
            })
            .collect(),
        ..Default::default()
    })
}

fn vhost(name: &str, domains: &[&str], port: u16, to: &str) -> VirtualHost {
    VirtualHost {
        name: name.into(),
        domains: domains.iter().map(|d| (*d).into()).collect(),
        port,
        routes: vec![Route {
            name: "default".into(),
            matches: vec![],
            action: forward(&[(to, 100)]),
            origin: None,
            fault: None,
            headers: Default::default(),
            cors: None,
        }],
    }
}

fn config() -> ProxyConfig {
    ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port: 9080,
                app_port: 8080,
                protocol: Protocol::Http,
                ..Default::default()
            }],
            ..Default::default()
        },
        clusters: vec![cluster("a"), cluster("b")],
        endpoints: vec![ClusterEndpoints {
            cluster: "a".into(),
            endpoints: vec![Endpoint {
                address: "127.0.0.1:1".into(),
                proxy_id: "p".into(),
                labels: Default::default(),
                weight: 1,
                ..Default::default()
            }],
        }],
        routes: RouteConfig {
            virtual_hosts: vec![
                vhost("reviews:9080", &["reviews", "reviews:9080"], 9080, "a"),
                vhost("reviews:9090", &["reviews"], 9090, "b"),
                vhost("wild", &["*.example.com"], 80, "a"),
                vhost("wilder", &["*.b.example.com:8080"], 8080, "b"),
            ],
            ..RouteConfig::default()
        },
    }
}

fn store() -> ConfigStore {
    let s = ConfigStore::new();
    assert!(!s.is_ready());
    assert_eq!(s.missing().len(), 4);
    if let Err(e) = s.apply_all("v1", &config()) {
        panic!("{e}");
    }
    assert!(s.is_ready());
    s
}

fn vhost_of(s: &ConfigStore, host: &str, port: u16) -> Option<String> {
    s.snapshot().vhost(host, port).map(|v| v.name.to_string())
}

#[test]
fn vhost_lookup() {
    let s = store();
    assert_eq!(
        vhost_of(&s, "reviews", 9080).as_deref(),
        Some("reviews:9080")
    );
    assert_eq!(
        vhost_of(&s, "reviews", 9090).as_deref(),
        Some("reviews:9090")
    );
    assert_eq!(vhost_of(&s, "reviews", 80), None);
    assert_eq!(vhost_of(&s, "x.example.com", 80).as_deref(), Some("wild"));
    assert_eq!(vhost_of(&s, "example.com", 80), None);
    assert_eq!(
        vhost_of(&s, "x.b.example.com", 8080).as_deref(),
        Some("wilder")
    );
    assert_eq!(vhost_of(&s, "x.b.example.com", 80).as_deref(), Some("wild"));
}

#[test]
fn inbound_lookup_falls_back_to_single_port() {
    let s = store();
    let snap = s.snapshot();
    assert_eq!(snap.inbound(9080).map(|i| i.app.addr.port()), Some(8080));
    assert_eq!(snap.inbound(1234).map(|i| i.app.addr.port()), Some(8080));
}

fn rejected(type_url: &str, payload: &[u8], needle: &str) {
    let s = store();
    let before = s.raw();
    let err = match s.apply(type_url, "v2", payload) {
        Ok(()) => panic!("{type_url} accepted, expected {needle:?}"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(needle), "{err}");
    assert_eq!(
        s.raw(),
        before,
        "a rejected push must not change the config"
    );
    let st = s.status(type_url).unwrap_or_default();
    assert_eq!(st.version.as_deref(), Some("v1"));
    assert_eq!(st.last_error.as_deref(), Some(err.as_str()));
    assert_eq!(st.rejects, 1);
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

#[test]
fn rejects_what_cannot_run() {
    rejected("routes", b"{not json", "invalid routes payload");
    let mut c = config();
    c.clusters.push(cluster("a"));
    rejected("clusters", &json(&c.clusters), "used twice");
    let mut c = config();
    c.endpoints[0].endpoints[0].address = "reviews:80".into();
    rejected("endpoints", &json(&c.endpoints), "not a socket address");
    let mut c = config();
    c.routes.virtual_hosts[0].routes[0].action = forward(&[("a", 0), ("b", 0)]);
    rejected("routes", &json(&c.routes), "weight above 0");
    let mut c = config();
    c.routes.virtual_hosts[0].routes[0].matches = vec![RouteMatch {
        uri: Some(StringMatch {
            regex: Some("(".into()),
            ..Default::default()
        }),
        ..Default::default()
    }];
    rejected("routes", &json(&c.routes), "does not compile");
    let mut c = config();
    c.routes.virtual_hosts[1]
        .domains
        .push("reviews:9080".into());
    rejected("routes", &json(&c.routes), "is in virtual hosts");
    let mut c = config();
    c.listeners.inbound.push(c.listeners.inbound[0].clone());
    rejected("listeners", &json(&c.listeners), "listed twice");
    let mut c = config();
    c.routes.virtual_hosts[0].routes[0].action = RouteAction::DirectResponse {
        status: 42,
        body: String::new(),
    };
    rejected("routes", &json(&c.routes), "status 42 invalid");
}

#[test]
fn unknown_type_is_an_error() {
    let s = store();
    let e = s.apply("secrets", "v1", b"{}");
    assert!(matches!(e, Err(ConfigError::UnknownType(_))), "{e:?}");
}

#[test]
fn accepted_push_clears_last_error_and_reuses_slots() {
    let s = store();
    let slot_before = s
        .snapshot()
        .clusters
        .get("a")
        .and_then(|c| c.endpoints.first().map(|e| e.slot.clone()));
    assert!(s.apply("routes", "v2", b"nope").is_err());
    let c = config();
    assert!(s.apply("routes", "v3", &json(&c.routes)).is_ok());
    let st = s.status("routes").unwrap_or_default();
    assert_eq!(
        (st.version.as_deref(), st.last_error, st.applies),
        (Some("v3"), None, 2)
    );
    let slot_after = s
        .snapshot()
        .clusters
        .get("a")
        .and_then(|c| c.endpoints.first().map(|e| e.slot.clone()));
    match (slot_before, slot_after) {
        (Some(a), Some(b)) => assert!(Arc::ptr_eq(&a, &b)),
        _ => panic!("endpoint missing"),
    }
    let dump = s.dump();
    assert_eq!(dump["status"]["routes"]["version"], "v3");
    assert_eq!(dump["config"]["clusters"][0]["name"], "a");
}

#[test]
fn endpoints_for_unknown_clusters_wait_for_the_cluster() {
    let s = ConfigStore::new();
    let c = config();
    assert!(s.apply("endpoints", "1", &json(&c.endpoints)).is_ok());
    assert!(s.snapshot().clusters.is_empty());
    assert!(s.apply("clusters", "1", &json(&c.clusters)).is_ok());
    let snap = s.snapshot();
    assert_eq!(snap.clusters.get("a").map(|c| c.endpoints.len()), Some(1));
    assert_eq!(snap.clusters.get("b").map(|c| c.endpoints.len()), Some(0));
    assert_eq!(s.missing(), vec!["listeners", "routes"]);
}

/// The routes of [`config`] after a change: one host re-routed, one removed,
/// one added.
fn changed_routes() -> RouteConfig {
    RouteConfig {
        virtual_hosts: vec![
            vhost("reviews:9080", &["reviews", "reviews:9080"], 9080, "b"),
            vhost("ratings:9080", &["ratings", "ratings:9080"], 9080, "a"),
            vhost("reviews:9090", &["reviews"], 9090, "b"),
            vhost("wilder", &["*.b.example.com:8080"], 8080, "b"),
        ],
        ..RouteConfig::default()
    }
}

#[test]
fn a_route_delta_gives_exactly_the_config_a_whole_push_gives() {
    let old = config().routes;
    let new = changed_routes();
    let delta = RoutesDelta::between(&old, &new).expect("a delta");
    let payload = serde_json::to_vec(&delta).expect("encode");
    assert!(payload.len() < serde_json::to_vec(&new).expect("encode").len());

    let by_delta = store();
    by_delta
        .apply_delta(TYPE_ROUTES, "v1", "v2", &payload)
        .expect("applies");
    let whole = store();
    whole
        .apply(
            TYPE_ROUTES,
            "v2",
            &serde_json::to_vec(&new).expect("encode"),
        )
        .expect("applies");
    assert_eq!(by_delta.raw(), whole.raw());
    assert_eq!(by_delta.dump()["config"], whole.dump()["config"]);
    assert_eq!(
        by_delta
            .status(TYPE_ROUTES)
            .and_then(|s| s.version)
            .as_deref(),
        Some("v2")
    );
    // And it routes like it: the removed host is gone, the new one serves.
    assert_eq!(vhost_of(&by_delta, "x.example.com", 80), None);
    assert_eq!(
        vhost_of(&by_delta, "ratings", 9080).as_deref(),
        Some("ratings:9080")
    );
}

#[test]
fn a_delta_against_another_version_or_type_is_refused_and_changes_nothing() {
    let delta = RoutesDelta::between(&config().routes, &changed_routes()).expect("a delta");
    let payload = serde_json::to_vec(&delta).expect("encode");
    let s = store();
    let before = s.raw();
    let err = s
        .apply_delta(TYPE_ROUTES, "v0", "v2", &payload)
        .expect_err("wrong base");
    assert!(
        err.to_string().contains("\"v0\"") && err.to_string().contains("\"v1\""),
        "{err}"
    );
    assert!(s.apply_delta(TYPE_CLUSTERS, "v1", "v2", &payload).is_err());
    assert_eq!(s.raw(), before);
    let status = s.status(TYPE_ROUTES).expect("status");
    assert_eq!(status.version.as_deref(), Some("v1"));
    assert!(status.last_error.is_some());
    // Applied twice: the second finds the proxy at v2, not v1.
    s.apply_delta(TYPE_ROUTES, "v1", "v2", &payload)
        .expect("applies");
    assert!(s.apply_delta(TYPE_ROUTES, "v1", "v3", &payload).is_err());
    assert_eq!(s.raw().routes, changed_routes());
}
