use crate::networking::{WorkloadEntry, WorkloadGroup};
use crate::resource::Resource;
use crate::validation::testing::{assert_error, assert_valid, errors, warnings};

fn we(body: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm-1\n  namespace: ns1\nspec:\n{body}"
    )
}

fn wg(body: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata:\n  name: vms\n  namespace: ns1\nspec:\n{body}"
    )
}

/// A WorkloadGroup with a valid template and the given probe body (indented 4).
fn probe(body: &str) -> String {
    wg(&format!(
        "  template:\n    serviceAccount: sa\n  probe:\n{body}"
    ))
}

fn has_warning(yaml: &str, needle: &str) -> bool {
    warnings(yaml).iter().any(|w| w.contains(needle))
}

#[test]
fn round_trips_workload_entry_example() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-svc
  namespace: bookinfo
spec:
  serviceAccount: details-legacy
  address: 2.2.2.2
  ports:
    http: 9080
  labels:
    app: details-legacy
    instance-id: vm1
  network: vm-net
  locality: us/us-east-1/az-1
  weight: 3
"#;
    assert_valid(yaml);
    let docs = crate::yaml::parse_documents(yaml).expect("yaml");
    let res = Resource::from_node(&docs[0]).expect("decodes");
    let Resource::WorkloadEntry(w) = &res else {
        panic!("not a workload entry")
    };
    assert_eq!(w.spec.weight, 3);
    let back: WorkloadEntry = serde_json::from_value(res.to_json()).expect("re-decodes");
    assert_eq!(&back, &**w);
    assert_eq!(res.to_json(), docs[0].to_json());
}

#[test]
fn round_trips_workload_group_example() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata:
  name: reviews
  namespace: bookinfo
spec:
  metadata:
    labels:
      app.kubernetes.io/name: reviews
      app.kubernetes.io/version: "1.3.4"
    annotations:
      example.com/owner: team-a
  template:
    ports:
      grpc: 3550
      http: 8080
    serviceAccount: default
  probe:
    initialDelaySeconds: 5
    timeoutSeconds: 3
    periodSeconds: 4
    successThreshold: 3
    failureThreshold: 3
    httpGet:
      path: /foo/bar
      host: 127.0.0.1
      port: 3100
      scheme: HTTPS
      httpHeaders:
      - name: Lit-Header
        value: Im-The-Best
"#;
    assert_valid(yaml);
    assert!(warnings(yaml).is_empty(), "{:?}", warnings(yaml));
    let docs = crate::yaml::parse_documents(yaml).expect("yaml");
    let res = Resource::from_node(&docs[0]).expect("decodes");
    let Resource::WorkloadGroup(g) = &res else {
        panic!("not a workload group")
    };
    let back: WorkloadGroup = serde_json::from_value(res.to_json()).expect("re-decodes");
    assert_eq!(&back, &**g);
    assert_eq!(res.to_json(), docs[0].to_json());
}

#[test]
fn address_required_unless_network() {
    assert_valid(&we("  address: 1.2.3.4\n"));
    assert_error(
        &we("  serviceAccount: sa\n"),
        "spec.address: address is required",
    );
    let net = we("  network: net1\n");
    assert_valid(&net);
    assert!(has_warning(&net, "address is unset with network"));
}

#[test]
fn address_forms() {
    assert_valid(&we("  address: \"2001:db8::1\"\n"));
    assert_valid(&we("  address: vm1.example.com\n"));
    assert_valid(&we("  address: unix:///var/run/app.sock\n"));
    assert_error(
        &we("  address: \"*.example.com\"\n"),
        "not a valid FQDN or an IP address",
    );
    assert_error(
        &we("  address: 1.2.3.4:80\n"),
        "not a valid FQDN or an IP address",
    );
    assert_error(
        &we("  address: unix://var/run/app.sock\n"),
        "not an absolute path",
    );
    assert_error(&we("  address: unix:///var/run/\n"), "not an absolute path");
    assert_error(
        &we(&format!("  address: {}.example.com\n", "a".repeat(250))),
        "at most 256",
    );
}

#[test]
fn unix_address_without_ports() {
    assert_error(
        &we("  address: unix:///var/run/app.sock\n  ports:\n    http: 80\n"),
        "must not include ports",
    );
}

#[test]
fn ports_valid() {
    assert_valid(&we(
        "  address: 1.2.3.4\n  ports:\n    http: 8080\n    grpc-web: 9090\n",
    ));
    assert_error(
        &we("  address: 1.2.3.4\n  ports:\n    http: 70000\n"),
        "spec.ports[http]: port number 70000",
    );
    assert_error(
        &we("  address: 1.2.3.4\n  ports:\n    Bad_Name: 80\n"),
        "port name \"Bad_Name\" invalid",
    );
}

#[test]
fn labels_valid() {
    assert_valid(&we("  address: 1.2.3.4\n  labels:\n    app: details\n"));
    assert_error(
        &we("  address: 1.2.3.4\n  labels:\n    app: \"not valid\"\n"),
        "spec.labels[app]",
    );
}

#[test]
fn field_lengths() {
    assert_valid(&we("  address: 1.2.3.4\n  serviceAccount: sa\n"));
    assert_error(
        &we(&format!(
            "  address: 1.2.3.4\n  serviceAccount: {}\n",
            "s".repeat(254)
        )),
        "serviceAccount is 254 characters long",
    );
}

#[test]
fn group_needs_template() {
    assert_valid(&wg("  template: {}\n"));
    assert_error(
        &wg("  metadata:\n    labels:\n      app: a\n"),
        "template is required",
    );
}

#[test]
fn group_metadata_labels_valid() {
    assert_valid(&wg(
        "  metadata:\n    labels:\n      app: a\n  template: {}\n",
    ));
    assert_error(
        &wg("  metadata:\n    labels:\n      app: \"a b\"\n  template: {}\n"),
        "spec.metadata.labels[app]",
    );
}

#[test]
fn group_template_gets_schema_checks_only() {
    let ok = wg("  template:\n    ports:\n      http: 80\n    serviceAccount: sa\n");
    assert_valid(&ok);
    assert!(warnings(&ok).is_empty());
    assert_error(
        &wg("  template:\n    ports:\n      http: 0\n"),
        "spec.template.ports[http]",
    );
    let addressed = wg("  template:\n    address: 1.2.3.4\n    labels:\n      app: a\n");
    assert_valid(&addressed);
    assert!(has_warning(&addressed, "spec.template.address"));
    assert!(has_warning(&addressed, "spec.template.labels"));
}

#[test]
fn probe_needs_exactly_one_method() {
    assert_valid(&probe("    tcpSocket:\n      port: 80\n"));
    assert_error(
        &probe("    periodSeconds: 5\n"),
        "spec.probe: probe needs a health check method",
    );
    assert_error(
        &probe("    tcpSocket:\n      port: 80\n    exec:\n      command: [\"true\"]\n"),
        "only one health check method",
    );
}

#[test]
fn probe_timings_non_negative() {
    assert_valid(&probe(
        "    initialDelaySeconds: 0\n    failureThreshold: 3\n    tcpSocket:\n      port: 80\n",
    ));
    assert_error(
        &probe("    timeoutSeconds: -1\n    tcpSocket:\n      port: 80\n"),
        "spec.probe.timeoutSeconds",
    );
}

#[test]
fn probe_http_get() {
    assert_valid(&probe(
        "    httpGet:\n      port: 8080\n      scheme: HTTP\n",
    ));
    assert_error(
        &probe("    httpGet:\n      path: /ready\n"),
        "spec.probe.httpGet.port",
    );
    assert_error(
        &probe("    httpGet:\n      port: 8080\n      scheme: https\n"),
        "must be HTTP or HTTPS",
    );
    assert_error(
        &probe(
            "    httpGet:\n      port: 8080\n      httpHeaders:\n      - name: \"bad header\"\n        value: x\n",
        ),
        "spec.probe.httpGet.httpHeaders[0].name",
    );
    assert_error(
        &probe("    httpGet:\n      port: 8080\n      httpHeaders:\n      - value: x\n"),
        "header name cannot be empty",
    );
}

#[test]
fn probe_tcp_exec_grpc() {
    assert_error(
        &probe("    tcpSocket:\n      host: localhost\n"),
        "spec.probe.tcpSocket.port",
    );
    assert_valid(&probe(
        "    exec:\n      command: [\"/bin/check\", \"-q\"]\n",
    ));
    assert_error(
        &probe("    exec:\n      command: []\n"),
        "exec.command is required",
    );
    assert_valid(&probe(
        "    grpc:\n      port: 9000\n      service: health\n",
    ));
    assert!(errors(&probe("    grpc:\n      service: health\n")).is_empty());
    assert_error(
        &probe("    grpc:\n      port: 70000\n"),
        "spec.probe.grpc.port",
    );
}
