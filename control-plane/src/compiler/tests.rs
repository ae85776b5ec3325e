//! Compiler tests: services, listeners, clusters, endpoints, default routes,
//! determinism. Route tests with VirtualServices are in `tests_routes.rs`.

use mesh_api::Resource;
use mesh_api::proxy::{
    Cluster, ClusterEndpoints, LbPolicy, Protocol, ProxyConfig, RouteAction, VirtualHost,
};

use super::{MeshIndex, MeshState, compile};
use crate::registry::{Workload, WorkloadPort};

/// Every resource of a YAML stream.
pub(super) fn resources(yaml: &str) -> Vec<Resource> {
    mesh_api::yaml::parse_documents(yaml)
        .expect("yaml parses")
        .iter()
        .map(|n| Resource::from_node(n).expect("resource decodes"))
        .collect()
}

/// Resources from conformance files (bookinfo samples).
pub(super) fn sample(files: &[&str]) -> Vec<Resource> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance/istio-samples/bookinfo/networking/"
    );
    files
        .iter()
        .flat_map(|f| {
            let path = format!("{dir}{f}");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            resources(&text)
        })
        .collect()
}

/// A workload of `service` in `ns` serving HTTP `port` (app port = port + 10000).
pub(super) fn workload(
    id: &str,
    service: &str,
    ns: &str,
    labels: &[(&str, &str)],
    ports: &[u16],
) -> Workload {
    Workload {
        proxy_id: id.to_owned(),
        service: service.to_owned(),
        namespace: ns.to_owned(),
        service_account: "default".to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        inbound_address: format!("127.0.0.1:{}", 40000 + id.len()),
        outbound_address: "127.0.0.1:15001".to_owned(),
        admin_address: "127.0.0.1:15000".to_owned(),
        ports: ports
            .iter()
            .map(|p| WorkloadPort {
                port: *p,
                app_port: p + 10000,
                protocol: None,
                name: String::new(),
            })
            .collect(),
        proxy_version: "test".to_owned(),
        connected_unix: 0,
        app_ready: true,
    }
}

/// Bookinfo's reviews v1..v3, productpage and ratings, all in `default`.
pub(super) fn bookinfo() -> Vec<Workload> {
    let mut ws = vec![workload(
        "productpage-v1",
        "productpage",
        "default",
        &[("app", "productpage"), ("version", "v1")],
        &[9080],
    )];
    for v in ["v1", "v2", "v3"] {
        let mut w = workload(
            &format!("reviews-{v}"),
            "reviews",
            "default",
            &[("app", "reviews"), ("version", v)],
            &[9080],
        );
        w.inbound_address = format!("127.0.0.1:4100{}", &v[1..]);
        ws.push(w);
    }
    ws.push(workload(
        "ratings-v1",
        "ratings",
        "default",
        &[("app", "ratings"), ("version", "v1")],
        &[9080],
    ));
    ws
}

pub(super) fn run(resources: &[Resource], workloads: &[Workload], proxy: &Workload) -> ProxyConfig {
    compile(
        &MeshState {
            resources,
            workloads,
        },
        proxy,
    )
}

pub(super) fn vhost<'a>(cfg: &'a ProxyConfig, name: &str) -> &'a VirtualHost {
    cfg.routes
        .virtual_hosts
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no virtual host {name}: {:?}", names(cfg)))
}

fn names(cfg: &ProxyConfig) -> Vec<&str> {
    cfg.routes
        .virtual_hosts
        .iter()
        .map(|v| v.name.as_str())
        .collect()
}

pub(super) fn cluster<'a>(cfg: &'a ProxyConfig, name: &str) -> &'a Cluster {
    cfg.clusters
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

pub(super) fn members(cfg: &ProxyConfig, name: &str) -> Vec<String> {
    let ce: &ClusterEndpoints = cfg
        .endpoints
        .iter()
        .find(|c| c.cluster == name)
        .unwrap_or_else(|| panic!("no endpoints for {name}"));
    ce.endpoints.iter().map(|e| e.proxy_id.clone()).collect()
}

/// (cluster, weight) of a forward action.
pub(super) fn forward(action: &RouteAction) -> Vec<(String, u32)> {
    match action {
        RouteAction::Forward(f) => f
            .clusters
            .iter()
            .map(|c| (c.cluster.clone(), c.weight))
            .collect(),
        other => panic!("not a forward: {other:?}"),
    }
}

#[test]
fn default_routes_and_domains() {
    let mut ws = bookinfo();
    ws.push(workload("other-1", "other", "prod", &[], &[8080]));
    let cfg = run(&[], &ws, &ws[0]);
    let vh = vhost(&cfg, "reviews.default.svc.cluster.local:9080");
    assert_eq!(vh.port, 9080);
    assert_eq!(
        vh.domains,
        [
            "reviews",
            "reviews.default",
            "reviews.default.svc",
            "reviews.default.svc.cluster.local",
            "reviews.default.svc.cluster.local:9080",
            "reviews.default.svc:9080",
            "reviews.default:9080",
            "reviews:9080",
        ]
    );
    assert_eq!(vh.routes.len(), 1);
    assert_eq!(vh.routes[0].name, "default");
    assert!(vh.routes[0].matches.is_empty());
    assert_eq!(
        forward(&vh.routes[0].action),
        [(
            "outbound|9080||reviews.default.svc.cluster.local".to_owned(),
            100
        )]
    );
    // Another namespace's service: no bare short name.
    let other = vhost(&cfg, "other.prod.svc.cluster.local:8080");
    assert!(
        !other
            .domains
            .iter()
            .any(|d| d == "other" || d == "other:8080")
    );
    assert!(other.domains.iter().any(|d| d == "other.prod:8080"));
    // ...but from inside prod, there is.
    let from_prod = run(&[], &ws, &ws[5]);
    let other = vhost(&from_prod, "other.prod.svc.cluster.local:8080");
    assert!(other.domains.iter().any(|d| d == "other"));
    assert!(
        !vhost(&from_prod, "reviews.default.svc.cluster.local:9080")
            .domains
            .iter()
            .any(|d| d == "reviews")
    );
}

#[test]
fn listeners_clusters_and_endpoints_without_rules() {
    let ws = bookinfo();
    let cfg = run(&[], &ws, &ws[1]);
    assert_eq!(cfg.listeners.inbound.len(), 1);
    assert_eq!(cfg.listeners.inbound[0].port, 9080);
    assert_eq!(cfg.listeners.inbound[0].app_port, 19080);
    assert_eq!(cfg.listeners.inbound[0].protocol, Protocol::Http);
    let names: Vec<&str> = cfg.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "outbound|9080||productpage.default.svc.cluster.local",
            "outbound|9080||ratings.default.svc.cluster.local",
            "outbound|9080||reviews.default.svc.cluster.local",
        ]
    );
    let c = cluster(&cfg, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(c.lb_policy, LbPolicy::RoundRobin);
    assert_eq!(c.service, "reviews.default.svc.cluster.local");
    assert_eq!(c.subset, None);
    assert_eq!(
        members(&cfg, "outbound|9080||reviews.default.svc.cluster.local"),
        ["reviews-v1", "reviews-v2", "reviews-v3"]
    );
    let e = &cfg
        .endpoints
        .iter()
        .find(|c| c.cluster.contains("reviews"))
        .expect("reviews")
        .endpoints[0];
    assert_eq!(e.address, "127.0.0.1:41001");
    assert_eq!(e.weight, 1);
    assert_eq!(e.labels.get("version").map(String::as_str), Some("v1"));
}

#[test]
fn a_workload_whose_app_is_not_ready_is_no_endpoint() {
    let mut ws = bookinfo();
    let v2 = ws
        .iter_mut()
        .find(|w| w.proxy_id == "reviews-v2")
        .expect("reviews-v2");
    v2.app_ready = false;
    let cfg = run(&[], &ws, &ws[1]);
    assert_eq!(
        members(&cfg, "outbound|9080||reviews.default.svc.cluster.local"),
        ["reviews-v1", "reviews-v3"]
    );
    // Its own proxy still gets its listeners: it serves as soon as the app is up.
    let own = ws
        .iter()
        .find(|w| w.proxy_id == "reviews-v2")
        .expect("reviews-v2");
    assert_eq!(run(&[], &ws, own).listeners.inbound.len(), 1);
}

#[test]
fn service_objects_decide_protocol_and_add_ports() {
    let res = resources(
        r#"
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  ports:
  - {name: tcp-mysql, port: 3306}
  - {name: http-admin, port: 8080}
  - {port: 9090, appProtocol: grpc}
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: prod}
spec:
  ports:
  - {name: http, port: 80}
"#,
    );
    let mut db = workload("db-1", "db", "default", &[("app", "db")], &[3306]);
    // The Service's port name beats what the workload declares.
    db.ports[0].protocol = Some(Protocol::Http);
    let client = workload("client", "client", "default", &[], &[]);
    let ws = vec![db.clone(), client.clone()];
    let cfg = run(&res, &ws, &client);
    assert_eq!(
        cluster(&cfg, "outbound|3306||db.default.svc.cluster.local").protocol,
        Protocol::Tcp
    );
    assert_eq!(
        cluster(&cfg, "outbound|8080||db.default.svc.cluster.local").protocol,
        Protocol::Http
    );
    assert_eq!(
        cluster(&cfg, "outbound|9090||db.default.svc.cluster.local").protocol,
        Protocol::Grpc
    );
    // TCP port: a cluster but no virtual host.
    assert!(
        !cfg.routes
            .virtual_hosts
            .iter()
            .any(|v| v.name.ends_with(":3306"))
    );
    vhost(&cfg, "db.default.svc.cluster.local:8080");
    vhost(&cfg, "db.default.svc.cluster.local:9090");
    // Endpoints only for the port the workload serves.
    assert_eq!(
        members(&cfg, "outbound|3306||db.default.svc.cluster.local"),
        ["db-1"]
    );
    assert!(members(&cfg, "outbound|8080||db.default.svc.cluster.local").is_empty());
    // A Service without workloads still has its (empty) cluster.
    assert!(members(&cfg, "outbound|80||empty.prod.svc.cluster.local").is_empty());
    // The server's inbound listener takes the Service's protocol.
    let own = run(&res, &ws, &db);
    assert_eq!(own.listeners.inbound[0].protocol, Protocol::Tcp);
}

#[test]
fn workload_declared_protocol_without_service_object() {
    let mut db = workload("db-1", "db", "default", &[], &[5432, 8080]);
    db.ports[0].protocol = Some(Protocol::Tcp);
    let cfg = run(&[], std::slice::from_ref(&db), &db);
    assert_eq!(
        cluster(&cfg, "outbound|5432||db.default.svc.cluster.local").protocol,
        Protocol::Tcp
    );
    assert_eq!(
        cluster(&cfg, "outbound|8080||db.default.svc.cluster.local").protocol,
        Protocol::Http
    );
    assert_eq!(cfg.routes.virtual_hosts.len(), 1);
    assert_eq!(cfg.listeners.inbound[0].protocol, Protocol::Tcp);
}

#[test]
fn destination_rule_subsets_and_lb() {
    let res = sample(&["destination-rule-reviews.yaml"]);
    let ws = bookinfo();
    let cfg = run(&res, &ws, &ws[0]);
    for (v, id) in [
        ("v1", "reviews-v1"),
        ("v2", "reviews-v2"),
        ("v3", "reviews-v3"),
    ] {
        let name = format!("outbound|9080|{v}|reviews.default.svc.cluster.local");
        let c = cluster(&cfg, &name);
        assert_eq!(c.subset.as_deref(), Some(v));
        assert_eq!(c.lb_policy, LbPolicy::Random);
        assert_eq!(members(&cfg, &name), [id]);
    }
    assert_eq!(
        cluster(&cfg, "outbound|9080||reviews.default.svc.cluster.local").lb_policy,
        LbPolicy::Random
    );
    // Other services are untouched.
    assert_eq!(
        cluster(&cfg, "outbound|9080||ratings.default.svc.cluster.local").lb_policy,
        LbPolicy::RoundRobin
    );
    assert_eq!(cfg.clusters.len(), 6);
    assert_eq!(cfg.endpoints.len(), 6);
}

#[test]
fn lb_policy_subset_and_port_overrides() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: LEAST_CONN}
    portLevelSettings:
    - port: {number: 9090}
      loadBalancer: {simple: RANDOM}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer: {simple: RANDOM}
  - name: v3
    labels: {version: v3}
"#,
    );
    let ws = vec![workload(
        "reviews-v1",
        "reviews",
        "default",
        &[("version", "v1")],
        &[9080, 9090],
    )];
    let cfg = run(&res, &ws, &ws[0]);
    let lb = |n: &str| cluster(&cfg, n).lb_policy;
    let h = "reviews.default.svc.cluster.local";
    assert_eq!(lb(&format!("outbound|9080||{h}")), LbPolicy::LeastRequest);
    assert_eq!(lb(&format!("outbound|9090||{h}")), LbPolicy::Random);
    assert_eq!(lb(&format!("outbound|9080|v1|{h}")), LbPolicy::RoundRobin);
    assert_eq!(lb(&format!("outbound|9090|v1|{h}")), LbPolicy::RoundRobin);
    assert_eq!(lb(&format!("outbound|9080|v2|{h}")), LbPolicy::Random);
    assert_eq!(lb(&format!("outbound|9090|v2|{h}")), LbPolicy::Random);
    assert_eq!(lb(&format!("outbound|9080|v3|{h}")), LbPolicy::LeastRequest);
    assert_eq!(
        members(&cfg, &format!("outbound|9090|v1|{h}")),
        ["reviews-v1"]
    );
    assert!(members(&cfg, &format!("outbound|9090|v2|{h}")).is_empty());
}

#[test]
fn destination_rule_precedence_and_visibility() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: wild, namespace: default}
spec:
  host: "*.default.svc.cluster.local"
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: first, namespace: default}
spec:
  host: reviews
  exportTo: ["."]
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: second, namespace: prod}
spec:
  host: reviews.default
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  subsets: [{name: old, labels: {version: v1}}]
"#,
    );
    let mut ws = bookinfo();
    ws.push(workload("prod-client", "client", "prod", &[], &[80]));
    let h = "outbound|9080||reviews.default.svc.cluster.local";
    // In default: the exact host, first in order, beats the wildcard.
    let cfg = run(&res, &ws, &ws[0]);
    assert_eq!(cluster(&cfg, h).lb_policy, LbPolicy::LeastRequest);
    assert!(!cfg.clusters.iter().any(|c| c.subset.is_some()));
    assert_eq!(
        cluster(&cfg, "outbound|9080||ratings.default.svc.cluster.local").lb_policy,
        LbPolicy::Random
    );
    // From prod, `first` is not exported: `second` applies (name.ns resolves).
    let cfg = run(&res, &ws, &ws[5]);
    assert_eq!(cluster(&cfg, h).lb_policy, LbPolicy::RoundRobin);
    assert_eq!(
        members(&cfg, "outbound|9080|old|reviews.default.svc.cluster.local"),
        ["reviews-v1"]
    );
}

#[test]
fn deterministic() {
    let res = sample(&[
        "destination-rule-all.yaml",
        "virtual-service-reviews-80-20.yaml",
    ]);
    let ws = bookinfo();
    let a = run(&res, &ws, &ws[0]);
    let b = run(&res, &ws, &ws[0]);
    assert_eq!(a, b);
    let mut shuffled = ws.clone();
    shuffled.reverse();
    shuffled.swap(0, 2);
    let c = run(&res, &shuffled, &ws[0]);
    assert_eq!(a, c);
    assert_eq!(
        serde_json::to_string(&a).expect("json"),
        serde_json::to_string(&c).expect("json")
    );
    // The index gives what `compile` gives, for every proxy.
    let index = MeshIndex::new(&MeshState {
        resources: &res,
        workloads: &shuffled,
    });
    for w in &ws {
        assert_eq!(index.compile_for(w), run(&res, &ws, w));
    }
    let sorted = |v: &[String]| v.windows(2).all(|w| w[0] <= w[1]);
    let cl: Vec<String> = a.clusters.iter().map(|c| c.name.clone()).collect();
    assert!(sorted(&cl));
    let ep: Vec<String> = a.endpoints.iter().map(|c| c.cluster.clone()).collect();
    assert_eq!(cl, ep);
    for vh in &a.routes.virtual_hosts {
        assert!(sorted(&vh.domains));
    }
}

#[test]
fn duplicate_workload_ports_and_empty_namespace() {
    let mut w = workload("a", "svc", "", &[], &[80, 80]);
    w.ports[1].app_port = 1;
    let cfg = run(&[], std::slice::from_ref(&w), &w);
    assert_eq!(cfg.listeners.inbound.len(), 1);
    assert_eq!(
        members(&cfg, "outbound|80||svc.default.svc.cluster.local"),
        ["a"]
    );
}
