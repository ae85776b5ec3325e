use crate::networking::Gateway;
use crate::resource::Resource;
use crate::validation::testing::{assert_error, assert_valid, errors, warnings};

/// A Gateway named `name` with the given `servers:` block (indented 2 spaces).
fn gw_named(name: &str, servers: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: istio-system\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n{servers}"
    )
}

fn gw(servers: &str) -> String {
    gw_named("gw", servers)
}

/// One server on `port` (`number/protocol/name`) with extra lines and hosts.
fn server(number: u32, protocol: &str, name: &str, extra: &str) -> String {
    format!(
        "  - port:\n      number: {number}\n      protocol: {protocol}\n      name: {name}\n    hosts:\n    - \"*\"\n{extra}"
    )
}

fn hosts(list: &[&str]) -> String {
    let mut s = "  - port:\n      number: 80\n      protocol: HTTP\n      name: http\n    hosts:\n"
        .to_string();
    for h in list {
        s.push_str(&format!("    - \"{h}\"\n"));
    }
    s
}

#[test]
fn round_trips_reference_example() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: my-gateway
  namespace: some-config-namespace
spec:
  selector:
    app: my-gateway-controller
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - uk.bookinfo.com
    - eu.bookinfo.com
    tls:
      httpsRedirect: true
  - port:
      number: 443
      name: https-443
      protocol: HTTPS
    hosts:
    - uk.bookinfo.com
    - eu.bookinfo.com
    tls:
      mode: SIMPLE
      serverCertificate: /etc/certs/servercert.pem
      privateKey: /etc/certs/privatekey.pem
  - port:
      number: 9443
      name: https-9443
      protocol: HTTPS
    hosts:
    - "bookinfo-namespace/*.bookinfo.com"
    tls:
      mode: SIMPLE
      credentialName: bookinfo-secret
  - port:
      number: 9080
      name: http-wildcard
      protocol: HTTP
    hosts:
    - "*"
  - port:
      number: 2379
      name: mongo
      protocol: MONGO
    hosts:
    - "*"
    name: mongo-server
    bind: 127.0.0.1
"#;
    assert_valid(yaml);
    let docs = crate::yaml::parse_documents(yaml).expect("yaml");
    let res = Resource::from_node(&docs[0]).expect("decodes");
    let Resource::Gateway(g) = &res else {
        panic!("not a gateway")
    };
    assert_eq!(g.spec.servers.len(), 5);
    let back: Gateway = serde_json::from_value(res.to_json()).expect("re-decodes");
    assert_eq!(&back, &**g);
}

#[test]
fn gateway_name_is_a_dns_label() {
    assert_valid(&gw_named("my-gw", &server(80, "HTTP", "http", "")));
    assert_error(
        &gw_named("my.gw", &server(80, "HTTP", "http", "")),
        "invalid gateway name",
    );
}

#[test]
fn needs_a_server() {
    assert_error(
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  selector:\n    istio: ingressgateway\n",
        "at least one server",
    );
}

#[test]
fn server_needs_hosts() {
    let yaml = gw("  - port:\n      number: 80\n      protocol: HTTP\n      name: http\n");
    assert_error(
        &yaml,
        "spec.servers[0].hosts: server must have at least one host",
    );
}

#[test]
fn host_forms() {
    assert_valid(&gw(&hosts(&[
        "*",
        "foo.example.com",
        "*.example.com",
        "ns1/foo.example.com",
        "*/foo.example.com",
        "./*.example.com",
        "10.0.0.1",
    ])));
    assert_error(&gw(&hosts(&["reviews"])), "short names");
    assert_error(
        &gw(&hosts(&["Bad_NS/foo.example.com"])),
        "invalid namespace value",
    );
    assert_error(&gw(&hosts(&["/foo.example.com"])), "cannot be empty");
    assert_error(&gw(&hosts(&["ns1/"])), "cannot be empty");
    assert_error(&gw(&hosts(&["*-foo.example.com"])), "partial wildcard");
    assert_error(&gw(&hosts(&["foo.*.com"])), "spec.servers[0].hosts[0]");
}

#[test]
fn port_checks() {
    assert_valid(&gw(&server(8080, "http2", "h2", "")));
    assert_error(
        &gw("  - hosts:\n    - \"*\"\n"),
        "spec.servers[0].port: port is required",
    );
    assert_error(
        &gw(&server(80, "THRIFT", "t", "")),
        "invalid protocol \"THRIFT\"",
    );
    assert_error(
        &gw(&server(70000, "HTTP", "http", "")),
        "spec.servers[0].port.number",
    );
    assert_error(
        &gw(&server(0, "HTTP", "http", "")),
        "spec.servers[0].port.number",
    );
    assert_error(
        &gw(
            "  - port:\n      number: 80\n      protocol: HTTP\n      name: http\n      targetPort: 8080\n    hosts:\n    - \"*\"\n",
        ),
        "targetPort has no impact",
    );
    assert_error(
        &gw("  - port:\n      number: 80\n      protocol: HTTP\n    hosts:\n    - \"*\"\n"),
        "port name must be set",
    );
}

#[test]
fn port_names_are_unique() {
    let two = format!(
        "{}{}",
        server(80, "HTTP", "http", ""),
        server(81, "HTTP", "http-2", "")
    );
    assert_valid(&gw(&two));
    let dup = format!(
        "{}{}",
        server(80, "HTTP", "http", ""),
        server(81, "HTTP", "http", "")
    );
    assert_error(
        &gw(&dup),
        "spec.servers[1].port.name: port names in servers must be unique",
    );
}

#[test]
fn bind_address() {
    assert_valid(&gw(&server(80, "HTTP", "http", "    bind: 0.0.0.0\n")));
    assert_valid(&gw(&server(
        0,
        "HTTP",
        "http",
        "    bind: unix:///var/run/gw.sock\n",
    )));
    assert_valid(&gw(&server(0, "HTTP", "http", "    bind: unix://@gw\n")));
    assert_error(
        &gw(&server(80, "HTTP", "http", "    bind: localhost\n")),
        "is not a valid IP address",
    );
    assert_error(
        &gw(&server(
            0,
            "HTTP",
            "http",
            "    bind: unix://relative/sock\n",
        )),
        "not an absolute path",
    );
    assert_error(
        &gw(&server(
            80,
            "HTTP",
            "http",
            "    bind: unix:///var/run/gw.sock\n",
        )),
        "port number must be 0 for unix domain socket",
    );
}

#[test]
fn tls_required_for_https_and_tls() {
    let tls = "    tls:\n      mode: SIMPLE\n      credentialName: cert\n";
    assert_valid(&gw(&server(443, "HTTPS", "https", tls)));
    assert_valid(&gw(&server(
        443,
        "TLS",
        "tls",
        "    tls:\n      mode: PASSTHROUGH\n",
    )));
    assert_error(
        &gw(&server(443, "HTTPS", "https", "")),
        "must have TLS settings",
    );
    assert_error(
        &gw(&server(443, "TLS", "tls", "")),
        "must have TLS settings",
    );
}

#[test]
fn tls_on_plain_ports() {
    assert_valid(&gw(&server(
        80,
        "HTTP",
        "http",
        "    tls:\n      httpsRedirect: true\n",
    )));
    assert_error(
        &gw(&server(
            80,
            "HTTP",
            "http",
            "    tls:\n      mode: SIMPLE\n      credentialName: cert\n",
        )),
        "cannot have TLS settings for plain text HTTP ports",
    );
    assert_error(
        &gw(&server(
            80,
            "HTTP",
            "http",
            "    tls:\n      httpsRedirect: true\n      serverCertificate: /c.pem\n",
        )),
        "cannot have TLS settings for plain text HTTP ports",
    );
    assert_error(
        &gw(&server(
            5000,
            "TCP",
            "tcp",
            "    tls:\n      mode: PASSTHROUGH\n",
        )),
        "cannot have TLS settings for non HTTPS/TLS ports",
    );
}

#[test]
fn tls_settings_are_validated() {
    assert_error(
        &gw(&server(
            443,
            "HTTPS",
            "https",
            "    tls:\n      mode: SIMPLE\n",
        )),
        "spec.servers[0].tls.serverCertificate",
    );
}

#[test]
fn https_redirect_only_on_http() {
    let ok = gw(&server(
        80,
        "HTTP",
        "http",
        "    tls:\n      httpsRedirect: true\n",
    ));
    assert!(warnings(&ok).is_empty(), "{:?}", warnings(&ok));
    let yaml = gw(&server(
        443,
        "HTTPS",
        "https",
        "    tls:\n      httpsRedirect: true\n      mode: SIMPLE\n      credentialName: c\n",
    ));
    assert!(errors(&yaml).is_empty(), "{:?}", errors(&yaml));
    assert!(
        warnings(&yaml)
            .iter()
            .any(|w| w.contains("httpsRedirect should only be used with http servers")),
        "{:?}",
        warnings(&yaml)
    );
}

#[test]
fn server_names_should_be_unique() {
    let ok = format!(
        "{}{}",
        server(80, "HTTP", "http", "    name: a\n"),
        server(81, "HTTP", "http-2", "    name: b\n")
    );
    assert!(warnings(&gw(&ok)).is_empty());
    let dup = format!(
        "{}{}",
        server(80, "HTTP", "http", "    name: a\n"),
        server(81, "HTTP", "http-2", "    name: a\n")
    );
    assert_valid(&gw(&dup));
    assert!(
        warnings(&gw(&dup))
            .iter()
            .any(|w| w.contains("spec.servers[1].name")),
        "{:?}",
        warnings(&gw(&dup))
    );
}

#[test]
fn selector_labels_warn_when_invalid() {
    let ok = gw(&server(80, "HTTP", "http", ""));
    assert!(warnings(&ok).is_empty());
    let bad = ok.replace("istio: ingressgateway", "istio: bad value");
    assert_valid(&bad);
    assert!(
        warnings(&bad)
            .iter()
            .any(|w| w.contains("spec.selector[istio]")),
        "{:?}",
        warnings(&bad)
    );
}

#[test]
fn unknown_fields_do_not_decode() {
    let yaml = gw(&server(80, "HTTP", "http", "    bogus: 1\n"));
    let docs = crate::yaml::parse_documents(&yaml).expect("yaml");
    assert!(Resource::from_node(&docs[0]).is_err());
}
