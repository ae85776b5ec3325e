use crate::networking::ServiceEntry;
use crate::resource::Resource;
use crate::validation::testing::{assert_error, assert_valid, errors, warnings};

/// A ServiceEntry in namespace `ns1` with the given spec body (indented 2 spaces).
fn se(body: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: se\n  namespace: ns1\nspec:\n{body}"
    )
}

const HTTP_PORT: &str = "  ports:\n  - number: 80\n    name: http\n    protocol: HTTP\n";

fn has_warning(yaml: &str, needle: &str) -> bool {
    warnings(yaml).iter().any(|w| w.contains(needle))
}

#[test]
fn round_trips_reference_example() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-dns
  namespace: ns1
spec:
  hosts:
  - foo.bar.com
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
    targetPort: 8080
  resolution: DNS
  endpoints:
  - address: us.foo.bar.com
    ports:
      http: 8080
    labels:
      region: us
    network: n1
    locality: us/us-east-1
    weight: 2
    serviceAccount: foo
  - address: uk.foo.bar.com
    ports:
      http: 9080
  exportTo:
  - "."
  - ns2
  subjectAltNames:
  - "spiffe://cluster.local/ns/httpbin-ns/sa/httpbin-service-account"
"#;
    assert_valid(yaml);
    let docs = crate::yaml::parse_documents(yaml).expect("yaml");
    let res = Resource::from_node(&docs[0]).expect("decodes");
    let Resource::ServiceEntry(s) = &res else {
        panic!("not a service entry")
    };
    assert_eq!(s.spec.endpoints[0].ports["http"], 8080);
    let back: ServiceEntry = serde_json::from_value(res.to_json()).expect("re-decodes");
    assert_eq!(&back, &**s);
}

#[test]
fn hosts_required_and_valid() {
    assert_valid(&se(&format!(
        "  hosts:\n  - api.example.com\n  - \"*.example.com\"\n{HTTP_PORT}"
    )));
    assert_error(&se(HTTP_PORT), "at least one host");
    assert_error(
        &se(&format!("  hosts:\n  - \"*\"\n{HTTP_PORT}")),
        "invalid host \"*\"",
    );
    assert_error(
        &se(&format!("  hosts:\n  - foo.*.com\n{HTTP_PORT}")),
        "spec.hosts[0]",
    );
}

#[test]
fn partial_wildcard_hosts_warn() {
    let ok = se(&format!("  hosts:\n  - \"*.example.com\"\n{HTTP_PORT}"));
    assert!(!has_warning(&ok, "partial wildcard"));
    let yaml = se(&format!("  hosts:\n  - \"*foo.example.com\"\n{HTTP_PORT}"));
    assert_valid(&yaml);
    assert!(
        has_warning(&yaml, "partial wildcard"),
        "{:?}",
        warnings(&yaml)
    );
}

#[test]
fn addresses_are_ips_or_cidrs() {
    assert_valid(&se(&format!(
        "  hosts:\n  - db.example.com\n  addresses:\n  - 10.0.0.1\n  - 192.168.0.0/16\n  - \"2001:db8::/32\"\n{HTTP_PORT}"
    )));
    assert_error(
        &se(&format!(
            "  hosts:\n  - db.example.com\n  addresses:\n  - db.example.com\n{HTTP_PORT}"
        )),
        "spec.addresses[0]",
    );
    assert_error(
        &se(&format!(
            "  hosts:\n  - db.example.com\n  addresses:\n  - 10.0.0.0/40\n{HTTP_PORT}"
        )),
        "spec.addresses[0]",
    );
}

#[test]
fn cidr_addresses_only_with_none_or_static() {
    let body = |res: &str| {
        se(&format!(
            "  hosts:\n  - db.example.com\n  addresses:\n  - 10.0.0.0/8\n{HTTP_PORT}  resolution: {res}\n"
        ))
    };
    assert_valid(&body("NONE"));
    assert_error(
        &body("DNS"),
        "CIDR addresses are allowed only for NONE/STATIC",
    );
}

#[test]
fn port_rules() {
    assert_valid(&se(
        "  hosts:\n  - a.example.com\n  ports:\n  - number: 80\n    name: http\n    protocol: HTTP\n  - number: 443\n    name: https\n    protocol: tls\n  - number: 9000\n    name: sniffed\n",
    ));
    let two = |a: &str, b: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n  ports:\n  - {a}\n  - {b}\n"
        ))
    };
    assert_error(
        &two(
            "number: 80\n    name: http\n    protocol: HTTP",
            "number: 81\n    name: http\n    protocol: HTTP",
        ),
        "spec.ports[1].name: service entry port name \"http\" already defined",
    );
    assert_error(
        &two(
            "number: 80\n    name: http\n    protocol: HTTP",
            "number: 80\n    name: web\n    protocol: HTTP",
        ),
        "spec.ports[1].number: service entry port 80 already defined",
    );
    let one = |p: &str| se(&format!("  hosts:\n  - a.example.com\n  ports:\n  - {p}\n"));
    assert_error(
        &one("number: 0\n    name: http\n    protocol: HTTP"),
        "spec.ports[0].number",
    );
    assert_error(
        &one("number: 80\n    name: http\n    protocol: HTTP\n    targetPort: 70000"),
        "spec.ports[0].targetPort",
    );
    assert_error(
        &one("number: 80\n    name: Bad_Name\n    protocol: HTTP"),
        "invalid port name",
    );
    assert_error(
        &one("number: 80\n    protocol: HTTP"),
        "invalid port name \"\"",
    );
    assert_error(
        &one("number: 80\n    name: t\n    protocol: THRIFT"),
        "unsupported protocol \"THRIFT\"",
    );
}

#[test]
fn tcp_ports_without_addresses_warn_without_autoallocation() {
    let tcp = "  ports:\n  - number: 3306\n    name: tcp\n    protocol: TCP\n";
    let dns = se(&format!(
        "  hosts:\n  - db.example.com\n{tcp}  resolution: DNS\n"
    ));
    assert!(
        !has_warning(&dns, "addresses are required"),
        "{:?}",
        warnings(&dns)
    );
    let with_address = se(&format!(
        "  hosts:\n  - db.example.com\n  addresses:\n  - 10.1.1.1\n{tcp}"
    ));
    assert!(!has_warning(&with_address, "addresses are required"));
    let none = se(&format!("  hosts:\n  - db.example.com\n{tcp}"));
    assert_valid(&none);
    assert!(
        has_warning(&none, "addresses are required"),
        "{:?}",
        warnings(&none)
    );
    let opted_out = dns.replace(
        "  namespace: ns1\n",
        "  namespace: ns1\n  labels:\n    networking.istio.io/enable-autoallocate-ip: \"false\"\n",
    );
    assert!(has_warning(&opted_out, "addresses are required"));
}

#[test]
fn none_resolution_has_no_endpoints() {
    assert_valid(&se(&format!(
        "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: NONE\n"
    )));
    assert_error(
        &se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: NONE\n  endpoints:\n  - address: 1.1.1.1\n"
        )),
        "no endpoints should be provided for resolution type NONE",
    );
    let sel = se(&format!(
        "  hosts:\n  - a.example.com\n{HTTP_PORT}  workloadSelector:\n    labels:\n      app: a\n"
    ));
    assert_valid(&sel);
    assert!(has_warning(
        &sel,
        "workloadSelector should not be set when resolution mode is NONE"
    ));
}

#[test]
fn static_endpoints() {
    let body = |eps: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: STATIC\n  endpoints:\n{eps}"
        ))
    };
    assert_valid(&body(
        "  - address: 2.2.2.2\n    ports:\n      http: 8080\n  - address: \"::1\"\n",
    ));
    assert_valid(&body("  - address: unix:///var/run/a.sock\n"));
    assert_error(
        &body("  - address: foo.example.com\n"),
        "is not a valid IP address",
    );
    assert_error(
        &body("  - address: 2.2.2.2\n    ports:\n      grpc: 8080\n"),
        "spec.endpoints[0].ports[grpc]: endpoint port \"grpc\" (8080) is not defined by the service entry",
    );
    assert_error(&body("  - labels:\n      app: a\n"), "address is required");
    assert_error(
        &body("  - address: 2.2.2.2\n    labels:\n      app: bad value\n"),
        "spec.endpoints[0].labels[app]",
    );
}

#[test]
fn static_with_workload_selector() {
    assert_valid(&se(&format!(
        "  hosts:\n  - details.bookinfo.com\n  location: MESH_INTERNAL\n{HTTP_PORT}  resolution: STATIC\n  workloadSelector:\n    labels:\n      app: details\n"
    )));
}

#[test]
fn unix_endpoints() {
    let two_ports = "  ports:\n  - number: 80\n    name: http\n    protocol: HTTP\n  - number: 81\n    name: http2\n    protocol: HTTP\n";
    assert_error(
        &se(&format!(
            "  hosts:\n  - a.example.com\n{two_ports}  resolution: STATIC\n  endpoints:\n  - address: unix:///var/run/a.sock\n"
        )),
        "exactly 1 service port is required for Unix domain socket endpoints",
    );
    let body = |ep: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: STATIC\n  endpoints:\n  - {ep}\n"
        ))
    };
    assert_error(
        &body("address: unix:///var/run/a.sock\n    ports:\n      http: 80"),
        "must not include ports",
    );
    assert_error(
        &body("address: unix://relative.sock"),
        "not an absolute path",
    );
    assert_error(&body("address: unix:///var/run/"), "not an absolute path");
    assert_valid(&body("address: unix://@abstract"));
}

#[test]
fn dns_hosts_must_be_fqdns_without_endpoints() {
    assert_valid(&se(&format!(
        "  hosts:\n  - www.googleapis.com\n{HTTP_PORT}  resolution: DNS\n"
    )));
    assert_error(
        &se(&format!(
            "  hosts:\n  - \"*.googleapis.com\"\n{HTTP_PORT}  resolution: DNS\n"
        )),
        "hosts must be FQDN if no endpoints are provided for resolution mode DNS",
    );
    assert_valid(&se(&format!(
        "  hosts:\n  - \"*.googleapis.com\"\n{HTTP_PORT}  resolution: DNS\n  endpoints:\n  - address: proxy.example.com\n"
    )));
}

#[test]
fn dns_endpoints() {
    let body = |res: &str, eps: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: {res}\n  endpoints:\n{eps}"
        ))
    };
    assert_valid(&body(
        "DNS",
        "  - address: us.foo.com\n  - address: 1.2.3.4\n",
    ));
    assert_error(
        &body("DNS", "  - address: \"*.foo.com\"\n"),
        "is not a valid FQDN or an IP address",
    );
    assert_error(
        &body("DNS", "  - address: unix:///var/run/a.sock\n"),
        "need resolution STATIC",
    );
    assert_error(
        &body(
            "DNS",
            "  - address: us.foo.com\n    ports:\n      web: 80\n",
        ),
        "is not defined by the service entry",
    );
    assert_valid(&body("DNS_ROUND_ROBIN", "  - address: us.foo.com\n"));
    assert_error(
        &body(
            "DNS_ROUND_ROBIN",
            "  - address: us.foo.com\n  - address: uk.foo.com\n",
        ),
        "there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN",
    );
}

#[test]
fn dns_with_address_and_several_hosts_and_tcp_warns() {
    let yaml = |ports: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n  - b.example.com\n  addresses:\n  - 10.0.0.1\n{ports}  resolution: DNS\n"
        ))
    };
    let tls = "  ports:\n  - number: 443\n    name: tls\n    protocol: TLS\n";
    assert_valid(&yaml(tls));
    assert!(has_warning(
        &yaml(tls),
        "more than one host specified simultaneously"
    ));
    assert!(!has_warning(&yaml(HTTP_PORT), "more than one host"));
}

#[test]
fn several_hosts_need_http_or_tls_ports() {
    let yaml = |res: &str, proto: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n  - b.example.com\n  addresses:\n  - 10.0.0.1\n  ports:\n  - number: 5000\n    name: p\n    protocol: {proto}\n  resolution: {res}\n"
        ))
    };
    assert_valid(&yaml("DNS", "HTTP"));
    assert_valid(&yaml("NONE", "TCP"));
    assert_error(
        &yaml("DNS", "TCP"),
        "spec.ports[0].protocol: multiple hosts provided with non-HTTP, non-TLS ports",
    );
}

#[test]
fn workload_selector_rules() {
    let yaml = |labels: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: STATIC\n  workloadSelector:\n{labels}"
        ))
    };
    assert_valid(&yaml("    labels:\n      app: a\n"));
    assert_error(
        &yaml("    labels:\n      app: \"a*\"\n"),
        "wildcard is not supported",
    );
    let empty = yaml("    labels: {}\n");
    assert_valid(&empty);
    assert!(has_warning(
        &empty,
        "workload selector specified without labels"
    ));
    assert_error(
        &se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: STATIC\n  workloadSelector:\n    labels:\n      app: a\n  endpoints:\n  - address: 1.1.1.1\n"
        )),
        "only one of workloadSelector or endpoints",
    );
}

#[test]
fn dynamic_dns() {
    let yaml = |hosts: &str, extra: &str| {
        se(&format!(
            "  hosts:\n  - \"{hosts}\"\n{HTTP_PORT}  resolution: DYNAMIC_DNS\n{extra}"
        ))
    };
    let ok = yaml("*.example.com", "");
    assert_valid(&ok);
    assert!(warnings(&ok).is_empty(), "{:?}", warnings(&ok));
    assert!(has_warning(
        &yaml("a.example.com", ""),
        "meant for wildcard hosts"
    ));
    assert!(has_warning(
        &yaml("*.example.com", "  location: MESH_INTERNAL\n"),
        "only supported for MESH_EXTERNAL"
    ));
}

#[test]
fn export_to_rules() {
    let yaml = |list: &str| {
        se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  exportTo:\n{list}"
        ))
    };
    assert_valid(&yaml("  - \".\"\n  - ns2\n"));
    assert_valid(&yaml("  - \"*\"\n"));
    assert_valid(&yaml("  - \"~\"\n"));
    assert_error(
        &yaml("  - ns1\n  - \".\"\n"),
        "'.' and the current namespace \"ns1\" are the same",
    );
    assert_error(
        &yaml("  - \".\"\n  - ns1\n"),
        "duplicate entry \"ns1\" in exportTo",
    );
    assert_error(
        &yaml("  - ns2\n  - ns2\n"),
        "duplicate entry \"ns2\" in exportTo",
    );
    assert_error(&yaml("  - Bad_NS\n"), "spec.exportTo[0]");
    assert_error(&yaml("  - \"*\"\n  - ns2\n"), "cannot have both public (*)");
    assert_error(&yaml("  - \"~\"\n  - ns2\n"), "to no one (~) and someone");
}

#[test]
fn enums_decode_only_known_values() {
    let yaml = se(&format!(
        "  hosts:\n  - a.example.com\n{HTTP_PORT}  resolution: MAGIC\n"
    ));
    let docs = crate::yaml::parse_documents(&yaml).expect("yaml");
    assert!(Resource::from_node(&docs[0]).is_err());
    assert!(
        errors(&se(&format!(
            "  hosts:\n  - a.example.com\n{HTTP_PORT}  location: MESH_INTERNAL\n"
        )))
        .is_empty()
    );
}
