use crate::validation::testing::{assert_error, assert_valid, warnings};

/// A Sidecar document in namespace `default` with the given spec body (indented two
/// spaces).
fn sc(spec: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: s\n  namespace: default\nspec:\n{spec}"
    )
}

/// A Sidecar with one egress listener whose hosts are `hosts`.
fn egress_hosts(hosts: &[&str]) -> String {
    let list: String = hosts.iter().map(|h| format!("    - \"{h}\"\n")).collect();
    sc(&format!("  egress:\n  - hosts:\n{list}"))
}

#[test]
fn empty_configuration_is_rejected() {
    assert_valid(&sc("  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n"));
    assert_valid(&sc(
        "  inboundConnectionPool:\n    tcp:\n      maxConnections: 10\n",
    ));
    assert_error(&sc("  {}\n"), "empty configuration provided");
    assert_error(
        &sc("  workloadSelector:\n    labels:\n      app: a\n"),
        "empty configuration provided",
    );
}

#[test]
fn workload_selector() {
    let ok = sc(
        "  workloadSelector:\n    labels:\n      app: reviews\n  egress:\n  - hosts: [\"./*\"]\n",
    );
    assert_valid(&ok);
    assert!(warnings(&ok).is_empty());
    assert_error(
        &sc(
            "  workloadSelector:\n    labels:\n      app: \"rev*\"\n  egress:\n  - hosts: [\"./*\"]\n",
        ),
        "spec.workloadSelector.labels[app]: wildcard is not supported",
    );
    let empty = sc("  workloadSelector: {}\n  egress:\n  - hosts: [\"./*\"]\n");
    assert_valid(&empty);
    assert!(
        warnings(&empty)
            .iter()
            .any(|w| w.contains("without labels"))
    );
}

#[test]
fn egress_hosts_forms() {
    assert_valid(&egress_hosts(&[
        "./*",
        "istio-system/*",
        "*/foo.example.com",
        "~/*",
        "prod/*.example.com",
    ]));
    assert_error(
        &egress_hosts(&["foo.example.com"]),
        "must be of form namespace/dnsName",
    );
    assert_error(&egress_hosts(&["/foo.example.com"]), "cannot be empty");
    assert_error(&egress_hosts(&["Bad_NS/*"]), "invalid namespace value");
    assert_error(
        &egress_hosts(&["./reviews"]),
        "short names (non FQDN) are not allowed",
    );
    assert_error(&egress_hosts(&["./foo*.example.com"]), "partial wildcard");
    assert_error(&egress_hosts(&["./foo.*.com"]), "spec.egress[0].hosts[0]");
    assert_error(
        &sc("  egress:\n  - port:\n      number: 80\n"),
        "at least one host",
    );
}

#[test]
fn egress_host_duplicates_warn() {
    let dup = egress_hosts(&["default/*", "./foo.example.com"]);
    assert_valid(&dup);
    assert!(
        warnings(&dup)
            .iter()
            .any(|w| w.contains("duplicated egress host"))
    );
    let all = egress_hosts(&["*/*", "ns1/foo.example.com"]);
    assert!(warnings(&all).iter().any(|w| w.contains("`*/*`")));
    assert!(warnings(&egress_hosts(&["ns1/*", "ns2/*"])).is_empty());
}

#[test]
fn egress_catch_all_listener() {
    assert_valid(&sc(
        "  egress:\n  - port:\n      number: 9080\n      protocol: HTTP\n      name: http\n    hosts: [\"./*\"]\n  - hosts: [\"istio-system/*\"]\n",
    ));
    assert_error(
        &sc("  egress:\n  - hosts: [\"./*\"]\n  - port:\n      number: 80\n    hosts: [\"./*\"]\n"),
        "spec.egress[0]: the egress listener with empty port",
    );
    assert_error(
        &sc("  egress:\n  - hosts: [\"./*\"]\n  - hosts: [\"./*\"]\n"),
        "must be the last listener",
    );
}

#[test]
fn egress_ports_binds_and_capture_mode() {
    assert_valid(&sc(
        "  egress:\n  - port:\n      number: 0\n      protocol: HTTP\n    bind: unix:///var/run/egress.sock\n    captureMode: NONE\n    hosts: [\"./*\"]\n  - port:\n      number: 3306\n      protocol: MYSQL\n    bind: 127.0.0.1\n    captureMode: IPTABLES\n    hosts: [\"*/mysql.foo.com\"]\n",
    ));
    assert_error(
        &sc(
            "  egress:\n  - port:\n      number: 80\n    hosts: [\"./*\"]\n  - port:\n      number: 80\n    hosts: [\"./*\"]\n",
        ),
        "spec.egress[1].port.number: port 80 is used by another egress listener",
    );
    assert_error(
        &sc(
            "  egress:\n  - port:\n      number: 0\n    bind: unix:///a.sock\n    hosts: [\"./*\"]\n  - port:\n      number: 0\n    bind: unix:///a.sock\n    hosts: [\"./*\"]\n",
        ),
        "spec.egress[1].bind: unix domain socket",
    );
    assert_error(
        &sc("  egress:\n  - port:\n      number: 0\n    bind: 127.0.0.1\n    hosts: [\"./*\"]\n"),
        "must have a unix domain socket bind address",
    );
    assert_error(
        &sc(
            "  egress:\n  - port:\n      number: 0\n    bind: unix://relative.sock\n    hosts: [\"./*\"]\n",
        ),
        "not an absolute path",
    );
    assert_error(
        &sc(
            "  egress:\n  - port:\n      number: 0\n    bind: unix:///a.sock\n    captureMode: IPTABLES\n    hosts: [\"./*\"]\n",
        ),
        "captureMode must be DEFAULT or NONE",
    );
    assert_error(
        &sc("  egress:\n  - port:\n      number: 80\n    bind: localhost\n    hosts: [\"./*\"]\n"),
        "spec.egress[0].bind",
    );
    assert_error(
        &sc("  egress:\n  - port:\n      number: 70000\n    hosts: [\"./*\"]\n"),
        "spec.egress[0].port.number",
    );
    assert_error(
        &sc("  egress:\n  - port:\n      number: 80\n      protocol: FOO\n    hosts: [\"./*\"]\n"),
        "unrecognized protocol",
    );
    assert_error(
        &sc("  egress:\n  - port:\n      number: 80\n      name: Bad_Name\n    hosts: [\"./*\"]\n"),
        "port name \"Bad_Name\" invalid",
    );
    assert_error(
        &sc(
            "  egress:\n  - port:\n      number: 80\n      targetPort: 8080\n    hosts: [\"./*\"]\n",
        ),
        "targetPort has no impact on Sidecars",
    );
}

#[test]
fn ingress_listeners() {
    assert_valid(&sc(
        "  ingress:\n  - port:\n      number: 9080\n      protocol: HTTP\n      name: somename\n    defaultEndpoint: 127.0.0.1:8080\n    captureMode: NONE\n  - port:\n      number: 9081\n    bind: 0.0.0.0\n    defaultEndpoint: unix:///var/run/app.sock\n  - port:\n      number: 9082\n    defaultEndpoint: \"[::1]:8080\"\n  - port:\n      number: 9083\n",
    ));
    assert_error(
        &sc("  ingress:\n  - defaultEndpoint: 127.0.0.1:8080\n"),
        "spec.ingress[0].port: port is required",
    );
    assert_error(
        &sc("  ingress:\n  - port:\n      number: 80\n  - port:\n      number: 80\n"),
        "spec.ingress[1].port.number: port 80 is used",
    );
    assert_error(
        &sc("  ingress:\n  - port:\n      number: 0\n"),
        "spec.ingress[0].port.number",
    );
    assert_error(
        &sc("  ingress:\n  - port:\n      number: 80\n    bind: not-an-ip\n"),
        "spec.ingress[0].bind",
    );
    for (ep, needle) in [
        ("10.0.0.1:8080", "defaultEndpoint host \"10.0.0.1\" invalid"),
        ("127.0.0.1", "defaultEndpoint \"127.0.0.1\" invalid"),
        ("127.0.0.1:http", "is not a number"),
        ("127.0.0.1:0", "must be in the range"),
        ("unix://", "must not be empty"),
    ] {
        assert_error(
            &sc(&format!(
                "  ingress:\n  - port:\n      number: 80\n    defaultEndpoint: \"{ep}\"\n"
            )),
            needle,
        );
    }
}

#[test]
fn ingress_tls() {
    assert_valid(&sc(
        "  ingress:\n  - port:\n      number: 8443\n      protocol: HTTPS\n    defaultEndpoint: 127.0.0.1:8080\n    tls:\n      mode: SIMPLE\n      serverCertificate: /etc/server.pem\n      privateKey: /etc/key.pem\n",
    ));
    let with_tls = |tls: &str| {
        sc(&format!(
            "  ingress:\n  - port:\n      number: 8443\n    tls:\n{tls}"
        ))
    };
    assert_error(
        &with_tls("      mode: SIMPLE\n      credentialName: c\n"),
        "credentialName is not currently supported",
    );
    assert_error(
        &with_tls(
            "      mode: SIMPLE\n      serverCertificate: a\n      privateKey: b\n      subjectAltNames: [x]\n",
        ),
        "subjectAltNames is not supported",
    );
    assert_error(
        &with_tls("      httpsRedirect: true\n"),
        "httpsRedirect is not supported",
    );
    assert_error(
        &with_tls("      mode: ISTIO_MUTUAL\n"),
        "spec.ingress[0].tls.mode",
    );
    assert_error(&with_tls("      mode: SIMPLE\n"), "tls.serverCertificate");
}

#[test]
fn connection_pools() {
    assert_valid(&sc(
        "  inboundConnectionPool:\n    http:\n      http1MaxPendingRequests: 1024\n  ingress:\n  - port:\n      number: 80\n      protocol: HTTP\n    connectionPool:\n      http:\n        http2MaxRequests: 10\n",
    ));
    assert_error(
        &sc("  inboundConnectionPool: {}\n"),
        "spec.inboundConnectionPool: connection pool must have at least one field",
    );
    assert_error(
        &sc(
            "  ingress:\n  - port:\n      number: 80\n    connectionPool:\n      tcp:\n        maxConnections: -1\n",
        ),
        "spec.ingress[0].connectionPool.tcp.maxConnections",
    );
    let tcp_port = sc(
        "  ingress:\n  - port:\n      number: 3306\n      protocol: TCP\n      name: db\n    connectionPool:\n      http:\n        maxRetries: 1\n",
    );
    assert_valid(&tcp_port);
    assert!(
        warnings(&tcp_port)
            .iter()
            .any(|w| w.contains("only TCP settings will apply"))
    );
}

#[test]
fn outbound_traffic_policy() {
    assert_valid(&sc(
        "  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy:\n      host: egress.example.com\n      subset: v1\n      port:\n        number: 3128\n",
    ));
    assert_error(
        &sc(
            "  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n    egressProxy:\n      host: egress.example.com\n      port:\n        number: 3128\n",
        ),
        "egressProxy must be set only with outboundTrafficPolicy mode ALLOW_ANY",
    );
    assert_error(
        &sc(
            "  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy:\n      host: egress.example.com\n",
        ),
        "spec.outboundTrafficPolicy.egressProxy.port: egressProxy port is required",
    );
    assert_error(
        &sc(
            "  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy:\n      host: \"*.example.com\"\n      port:\n        number: 3128\n",
        ),
        "egressProxy.host",
    );
    assert_error(
        &sc(
            "  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy:\n      host: bad..host\n      port:\n        number: 3128\n",
        ),
        "egressProxy.host",
    );
}

/// A rich example from Istio's reference docs survives a JSON round trip.
#[test]
fn round_trip() {
    let yaml = sc(
        "  workloadSelector:\n    labels:\n      app: productpage\n  ingress:\n  - port:\n      number: 9080\n      protocol: HTTPS\n      name: somename\n    defaultEndpoint: unix:///var/run/someuds.sock\n    tls:\n      mode: SIMPLE\n      privateKey: \"/etc/istio/key.pem\"\n      serverCertificate: \"/etc/istio/cert.pem\"\n    connectionPool:\n      tcp:\n        maxConnections: 100\n  egress:\n  - port:\n      number: 3306\n      protocol: MYSQL\n      name: egressmysql\n    captureMode: NONE\n    bind: 127.0.0.1\n    hosts:\n    - \"*/mysql.foo.com\"\n  - hosts:\n    - \"istio-system/*\"\n  inboundConnectionPool:\n    http:\n      http1MaxPendingRequests: 1024\n      idleTimeout: 30s\n  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy:\n      host: foo.bar\n      subset: v1\n      port:\n        number: 443\n",
    );
    assert_valid(&yaml);
    let docs = crate::yaml::parse_documents(&yaml).expect("yaml");
    let res = crate::resource::Resource::from_node(&docs[0]).expect("decode");
    let json = res.to_json();
    let first: super::Sidecar = serde_json::from_value(json).expect("parse");
    let again: super::Sidecar =
        serde_json::from_value(serde_json::to_value(&first).expect("serialize")).expect("reparse");
    assert_eq!(first, again);
    assert_eq!(first.spec.egress.len(), 2);
}
