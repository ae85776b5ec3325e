//! ServiceEntry services, their endpoints, and DestinationRule TLS origination.

use mesh_api::proxy::{ClusterTls, Endpoint, Protocol, ProxyConfig, TlsOrigination};

use super::tests::{cluster, forward, resources, run, vhost, workload};

const ENTRY: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-api, namespace: default}
spec:
  hosts: [api.external.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP, targetPort: 8443}
  - {number: 443, name: https, protocol: HTTPS}
  - {number: 8080, name: grpc, protocol: GRPC}
  endpoints:
  - address: 127.0.0.1
    labels: {version: v1}
  - address: 127.0.0.2
    ports: {https: 9443}
    labels: {version: v2}
    weight: 3
  - address: db.internal.example
"#;

fn endpoints<'a>(cfg: &'a ProxyConfig, cluster: &str) -> &'a [Endpoint] {
    &cfg.endpoints
        .iter()
        .find(|c| c.cluster == cluster)
        .unwrap_or_else(|| panic!("no endpoints for {cluster}"))
        .endpoints
}

fn addresses(cfg: &ProxyConfig, cluster: &str) -> Vec<(String, u32)> {
    endpoints(cfg, cluster)
        .iter()
        .map(|e| (e.address.clone(), e.weight))
        .collect()
}

fn client() -> crate::registry::Workload {
    workload("client-1", "client", "default", &[], &[9080])
}

#[test]
fn service_entry_hosts_are_services_with_static_endpoints() {
    let c = client();
    let cfg = run(&resources(ENTRY), std::slice::from_ref(&c), &c);
    // HTTP and gRPC ports route by the host name; HTTPS passes through as TCP.
    let vh = vhost(&cfg, "api.external.test:80");
    assert_eq!(vh.domains, ["api.external.test", "api.external.test:80"]);
    assert_eq!(
        forward(&vh.routes[0].action),
        [("outbound|80||api.external.test".to_owned(), 100)]
    );
    assert_eq!(
        cluster(&cfg, "outbound|8080||api.external.test").protocol,
        Protocol::Grpc
    );
    assert_eq!(
        cluster(&cfg, "outbound|443||api.external.test").protocol,
        Protocol::Tcp
    );
    assert!(
        cfg.routes
            .tcp_services
            .iter()
            .any(|t| t.name == "api.external.test:443")
    );
    // targetPort for port 80; ports[name] beats the port number; weights kept;
    // a DNS name is left out (no DNS in the compiler).
    assert_eq!(
        addresses(&cfg, "outbound|80||api.external.test"),
        [
            ("127.0.0.1:8443".to_owned(), 1),
            ("127.0.0.2:8443".to_owned(), 3)
        ]
    );
    assert_eq!(
        addresses(&cfg, "outbound|443||api.external.test"),
        [
            ("127.0.0.1:443".to_owned(), 1),
            ("127.0.0.2:9443".to_owned(), 3)
        ]
    );
    let ep = &endpoints(&cfg, "outbound|80||api.external.test")[0];
    assert!(ep.external, "ServiceEntry endpoints are no sidecars");
    assert_eq!(ep.identity, None, "no mesh identity: plaintext by default");
    assert_eq!(ep.proxy_id, "ServiceEntry default/external-api");
    assert_eq!(
        cluster(&cfg, "outbound|80||api.external.test").tls,
        ClusterTls::Auto
    );
}

#[test]
fn subsets_select_entry_endpoints_by_label() {
    let dr = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: external-api, namespace: default}
spec:
  host: api.external.test
  subsets:
  - name: v2
    labels: {version: v2}
"#;
    let c = client();
    let cfg = run(
        &resources(&format!("{ENTRY}---{dr}")),
        std::slice::from_ref(&c),
        &c,
    );
    assert_eq!(
        addresses(&cfg, "outbound|80|v2|api.external.test"),
        [("127.0.0.2:8443".to_owned(), 3)]
    );
}

#[test]
fn dns_entries_use_literal_addresses_and_export_to_is_honoured() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: local, namespace: team}
spec:
  hosts: [localhost, api.dns.test]
  resolution: DNS
  exportTo: ["."]
  ports:
  - {number: 8000, name: http, protocol: HTTP}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: by-ip, namespace: default}
spec:
  hosts: [by-ip.test]
  resolution: DNS
  endpoints:
  - address: localhost
  ports:
  - {number: 9000, name: http, protocol: HTTP}
"#;
    let rs = resources(yaml);
    let inside = workload("a-1", "a", "team", &[], &[9080]);
    let outside = client();
    let cfg = run(&rs, &[inside.clone(), outside.clone()], &inside);
    assert_eq!(
        addresses(&cfg, "outbound|8000||localhost"),
        [("127.0.0.1:8000".to_owned(), 1)]
    );
    // A host that is a DNS name has no endpoints until DNS resolution exists.
    assert!(endpoints(&cfg, "outbound|8000||api.dns.test").is_empty());
    assert_eq!(
        addresses(&cfg, "outbound|9000||by-ip.test"),
        [("127.0.0.1:9000".to_owned(), 1)]
    );
    // exportTo ".": only its own namespace sees it.
    let cfg = run(&rs, &[inside, outside.clone()], &outside);
    assert!(
        cfg.clusters.iter().all(|c| c.service != "localhost"),
        "{:?}",
        cfg.clusters
    );
    assert!(cfg.clusters.iter().any(|c| c.service == "by-ip.test"));
}

#[test]
fn destination_rule_tls_originates_with_files_sni_and_sans() {
    let dr = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: external-tls, namespace: default}
spec:
  host: api.external.test
  trafficPolicy:
    tls:
      mode: SIMPLE
      caCertificates: /etc/ca.pem
    portLevelSettings:
    - port: {number: 443}
      tls:
        mode: MUTUAL
        clientCertificate: /etc/client.pem
        privateKey: /etc/client-key.pem
        caCertificates: /etc/ca.pem
        sni: edge.external.test
        subjectAltNames: [edge.external.test]
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      tls: {mode: SIMPLE, insecureSkipVerify: true}
"#;
    let c = client();
    let cfg = run(
        &resources(&format!("{ENTRY}---{dr}")),
        std::slice::from_ref(&c),
        &c,
    );
    let http = cluster(&cfg, "outbound|80||api.external.test");
    assert_eq!(http.tls, ClusterTls::Simple);
    assert_eq!(
        http.origination,
        Some(TlsOrigination {
            origin: "DestinationRule default/external-tls trafficPolicy.tls".into(),
            ca_certificates: Some("/etc/ca.pem".into()),
            sni: "api.external.test".into(),
            ..TlsOrigination::default()
        })
    );
    // The HTTPS port is originated, so the app speaks HTTP to it.
    let https = cluster(&cfg, "outbound|443||api.external.test");
    assert_eq!(https.tls, ClusterTls::Mutual);
    assert_eq!(https.protocol, Protocol::Http);
    vhost(&cfg, "api.external.test:443");
    let o = https.origination.as_ref().expect("origination");
    assert_eq!(
        o.origin,
        "DestinationRule default/external-tls trafficPolicy.portLevelSettings[0].tls"
    );
    assert_eq!(o.sni, "edge.external.test");
    assert_eq!(o.subject_alt_names, ["edge.external.test"]);
    assert_eq!(o.client_certificate.as_deref(), Some("/etc/client.pem"));
    assert_eq!(o.private_key.as_deref(), Some("/etc/client-key.pem"));
    let v2 = cluster(&cfg, "outbound|80|v2|api.external.test");
    let o = v2.origination.as_ref().expect("subset origination");
    assert_eq!(
        o.origin,
        "DestinationRule default/external-tls subsets[0].trafficPolicy.tls"
    );
    assert!(o.insecure_skip_verify && o.ca_certificates.is_none());
}

#[test]
fn virtual_services_route_entry_hosts_like_mesh_services() {
    let vs = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: external-api, namespace: default}
spec:
  hosts: [api.external.test]
  http:
  - match: [{uri: {prefix: /v2}}]
    route: [{destination: {host: api.external.test, subset: v2, port: {number: 80}}}]
    timeout: 3s
    retries: {attempts: 4, retryOn: 5xx}
  - route: [{destination: {host: api.external.test}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: external-api, namespace: default}
spec:
  host: api.external.test
  subsets:
  - name: v2
    labels: {version: v2}
"#;
    let c = client();
    let cfg = run(
        &resources(&format!("{ENTRY}---{vs}")),
        std::slice::from_ref(&c),
        &c,
    );
    let vh = vhost(&cfg, "api.external.test:80");
    assert_eq!(
        forward(&vh.routes[0].action),
        [("outbound|80|v2|api.external.test".to_owned(), 100)]
    );
    let mesh_api::proxy::RouteAction::Forward(f) = &vh.routes[0].action else {
        panic!("not a forward");
    };
    assert_eq!(f.timeout.map(|t| t.as_std().as_secs()), Some(3));
    assert_eq!(f.retry.as_ref().map(|r| r.attempts), Some(4));
    assert_eq!(
        forward(&vh.routes[1].action),
        [("outbound|80||api.external.test".to_owned(), 100)]
    );
}

/// A MESH_INTERNAL entry whose endpoints are the workloads labelled `app: legacy`.
const LEGACY_ENTRY: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: default}
spec:
  hosts: [legacy.internal.test]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector:
    labels: {app: legacy}
  ports:
  - {number: 8080, name: http, protocol: HTTP}
"#;

#[test]
fn workload_selector_makes_selected_sidecars_the_endpoints() {
    let yaml = LEGACY_ENTRY;
    let c = client();
    let vm = workload(
        "legacy-vm",
        "legacy-vm",
        "default",
        &[("app", "legacy")],
        &[8080],
    );
    let mut elsewhere = workload(
        "legacy-x",
        "legacy-x",
        "other",
        &[("app", "legacy")],
        &[8080],
    );
    elsewhere.inbound_address = "127.0.0.1:49999".into();
    let cfg = run(&resources(yaml), &[c.clone(), vm.clone(), elsewhere], &c);
    let eps = endpoints(&cfg, "outbound|8080||legacy.internal.test");
    assert_eq!(eps.len(), 1, "only the entry's namespace: {eps:?}");
    assert_eq!(eps[0].address, vm.inbound_address);
    assert_eq!(eps[0].proxy_id, "legacy-vm");
    assert!(!eps[0].external, "a sidecar");
    assert_eq!(eps[0].identity.as_deref(), Some("ns/default/sa/default"));
}

#[test]
fn workload_selector_also_selects_workload_entries_of_its_namespace() {
    let yaml = LEGACY_ENTRY.to_owned()
        + r#"---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: default}
spec:
  address: 10.0.0.1
  labels: {app: legacy, version: v1}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-2, namespace: default}
spec:
  address: 10.0.0.2
  ports: {http: 9090}
  labels: {app: legacy, version: v2}
  weight: 2
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: other-app, namespace: default}
spec:
  address: 10.0.0.3
  labels: {app: other}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: elsewhere, namespace: other}
spec:
  address: 10.0.0.4
  labels: {app: legacy}
"#;
    let c = client();
    let sidecar = workload(
        "legacy-pod",
        "legacy-pod",
        "default",
        &[("app", "legacy")],
        &[8080],
    );
    let cfg = run(&resources(&yaml), &[c.clone(), sidecar.clone()], &c);
    let eps = endpoints(&cfg, "outbound|8080||legacy.internal.test");
    let got: Vec<(&str, &str, u32, bool)> = eps
        .iter()
        .map(|e| {
            (
                e.address.as_str(),
                e.proxy_id.as_str(),
                e.weight,
                e.external,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("10.0.0.1:8080", "WorkloadEntry default/vm-1", 1, true),
            ("10.0.0.2:9090", "WorkloadEntry default/vm-2", 2, true),
            (sidecar.inbound_address.as_str(), "legacy-pod", 1, false),
        ]
    );
    // The entries' labels pick subsets as a pod's do.
    assert_eq!(eps[1].labels.get("version").map(String::as_str), Some("v2"));
}
