//! VirtualService tests: spec-level rules, TLS/TCP routes, destinations, exportTo,
//! the unreachable-rule analysis, round trips and the conformance inputs.

use super::*;
use crate::validation::testing::{assert_error, assert_valid, errors, validate_yaml, warnings};

/// A VirtualService document around `spec` (written without indentation).
pub(super) fn doc(spec: &str) -> String {
    let body: String = spec.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: t\n  namespace: default\nspec:\n{body}"
    )
}

/// A spec with one host and an HTTP rule with the given extra lines.
pub(super) fn http(extra: &str) -> String {
    let extra: String = extra.lines().map(|l| format!("  {l}\n")).collect();
    doc(&format!(
        "hosts: [reviews]\nhttp:\n- route:\n  - destination: {{host: reviews}}\n{extra}"
    ))
}

fn codes(yaml: &str) -> Vec<(&'static str, String)> {
    validate_yaml(yaml)
        .into_iter()
        .filter_map(|f| f.code.map(|c| (c, f.path.to_string())))
        .collect()
}

const ROUTE: &str = "route:\n  - destination: {host: reviews}";

#[test]
fn simple_routes_are_valid() {
    assert_valid(&http(""));
    assert_valid(&doc(&format!(
        "hosts: [reviews.default.svc.cluster.local, \"*.example.com\", 10.0.0.1]\nhttp:\n- {ROUTE}"
    )));
}

#[test]
fn delegate_virtual_services() {
    assert_valid(&doc(&format!("http:\n- {ROUTE}")));
    let bad = doc(&format!(
        "gateways: [gw]\nhttp:\n- {ROUTE}\ntcp:\n- {ROUTE}\ntls:\n- match:\n  - sniHosts: [a.com]\n  {ROUTE}"
    ));
    assert_error(&bad, "spec.gateways: a delegate");
    assert_error(&bad, "spec.tls: a delegate");
    assert_error(&bad, "spec.tcp: a delegate");
    assert_error(
        &doc("http:\n- delegate: {name: x}"),
        "spec.http[0].delegate: a delegate virtual service's route cannot delegate",
    );
}

#[test]
fn root_routes_only_delegate() {
    assert_valid(&doc(
        "hosts: [a.com]\nhttp:\n- delegate: {name: x, namespace: y}",
    ));
    let bad = doc(&format!(
        "hosts: [a.com]\nhttp:\n- delegate: {{name: x}}\n  redirect: {{uri: /x}}\n  {ROUTE}"
    ));
    assert_error(&bad, "spec.http[0].redirect: a route with delegate");
    assert_error(&bad, "spec.http[0].route: a route with delegate");
}

#[test]
fn gateway_names() {
    for ok in ["[gw]", "[ns/gw]", "[mesh]", "[gw, mesh]"] {
        assert_valid(&doc(&format!(
            "hosts: [a.com]\ngateways: {ok}\nhttp:\n- {ROUTE}"
        )));
    }
    let legacy = doc(&format!(
        "hosts: [a.com]\ngateways: [gw.ns]\nhttp:\n- {ROUTE}"
    ));
    assert_valid(&legacy);
    assert!(warnings(&legacy).iter().any(|w| w.contains("\"ns/gw\"")));
    for (bad, needle) in [
        ("[Bad_ns/gw]", "namespace \"Bad_ns\""),
        ("[ns/gw.x]", "name \"gw.x\""),
        ("[/gw]", "cannot be empty"),
        ("[bad_gw]", "gateway name invalid"),
    ] {
        assert_error(
            &doc(&format!(
                "hosts: [a.com]\ngateways: {bad}\nhttp:\n- {ROUTE}"
            )),
            needle,
        );
    }
    // As in Istio, a name without a namespace ends the check of the list.
    assert_valid(&doc(&format!(
        "hosts: [a.com]\ngateways: [gw, Bad_ns/x]\nhttp:\n- {ROUTE}"
    )));
}

#[test]
fn jwt_claim_routes_need_a_gateway() {
    let spec = |gw: &str| {
        doc(&format!(
            "hosts: [a.com]\n{gw}http:\n- match:\n  - headers:\n      \"@request.auth.claims.group\": {{exact: admin}}\n  {ROUTE}"
        ))
    };
    assert_valid(&spec("gateways: [ingress]\n"));
    assert_error(&spec(""), "only supported on gateways");
    assert_error(
        &spec("gateways: [ingress, mesh]\n"),
        "only supported on gateways",
    );
}

#[test]
fn host_rules() {
    for (bad, needle) in [
        ("[\"foo.*.com\"]", "spec.hosts[0]"),
        ("[\"under_score\"]", "spec.hosts[0]"),
        ("[\"*\"]", "wildcard host '*' is not allowed"),
    ] {
        assert_error(&doc(&format!("hosts: {bad}\nhttp:\n- {ROUTE}")), needle);
    }
    assert_valid(&doc(&format!(
        "hosts: [\"*\"]\ngateways: [gw]\nhttp:\n- {ROUTE}"
    )));
    assert_error(
        &doc(&format!(
            "hosts: [\"*\"]\ngateways: [gw, mesh]\nhttp:\n- {ROUTE}"
        )),
        "not allowed for virtual services bound to the mesh",
    );
    assert_error(
        &doc(&format!(
            "hosts: [a.example.com, \"*.example.com\"]\nhttp:\n- {ROUTE}"
        )),
        "duplicate hosts",
    );
    assert_error(
        &doc(&format!("hosts: [a, a]\nhttp:\n- {ROUTE}")),
        "duplicate hosts",
    );
    assert_valid(&doc(&format!("hosts: [a, b]\nhttp:\n- {ROUTE}")));
}

#[test]
fn host_matching_and_subsets() {
    assert!(validate::host_matches("*.com", "*.foo.com"));
    assert!(validate::host_matches("*", "a"));
    assert!(!validate::host_matches("a.com", "b.com"));
    assert!(validate::host_subset_of("a.foo.com", "*.foo.com"));
    assert!(validate::host_subset_of("*.a.foo.com", "*.foo.com"));
    assert!(!validate::host_subset_of("*.foo.com", "a.foo.com"));
}

#[test]
fn at_least_one_route_kind() {
    assert_error(&doc("hosts: [a.com]"), "set http, tcp or tls");
}

#[test]
fn tls_routes() {
    let ok = doc(&format!(
        "hosts: [\"*.example.com\"]\ngateways: [gw]\ntls:\n- match:\n  - sniHosts: [a.example.com]\n    port: 443\n    destinationSubnets: [10.0.0.0/8]\n    sourceLabels: {{app: x}}\n    gateways: [ns/gw]\n  {ROUTE}"
    ));
    assert_valid(&ok);
    let generated = doc(&format!(
        "hosts: [outbound_.80_._.e2e.foobar.mesh]\ngateways: [gw]\ntls:\n- match:\n  - sniHosts: [outbound_.80_._.e2e.foobar.mesh]\n  {ROUTE}"
    ));
    assert_valid(&generated);
    for (tls, needle) in [
        (format!("- {ROUTE}"), "at least one match condition"),
        (
            format!("- match:\n  - port: 443\n  {ROUTE}"),
            "at least one SNI host",
        ),
        (
            format!("- match:\n  - sniHosts: [b.other.com]\n  {ROUTE}"),
            "not a compatible subset",
        ),
        (
            format!("- match:\n  - sniHosts: [\"bad..host\"]\n  {ROUTE}"),
            "sniHosts[0]",
        ),
        (
            "- match:\n  - sniHosts: [a.example.com]".to_string(),
            "TLS route needs at least one route destination",
        ),
        (
            format!("- match:\n  - sniHosts: [a.example.com]\n    port: 70000\n  {ROUTE}"),
            "match[0].port",
        ),
        (
            format!(
                "- match:\n  - sniHosts: [a.example.com]\n    destinationSubnets: [10.0.0.0/40]\n  {ROUTE}"
            ),
            "destinationSubnets[0]",
        ),
    ] {
        assert_error(
            &doc(&format!(
                "hosts: [\"*.example.com\"]\ngateways: [gw]\ntls:\n{tls}"
            )),
            needle,
        );
    }
    let ip = doc(&format!(
        "hosts: [\"*.example.com\"]\ngateways: [gw]\ntls:\n- match:\n  - sniHosts: [1.2.3.4]\n  {ROUTE}"
    ));
    assert_valid(&ip);
    assert!(warnings(&ip).iter().any(|w| w.contains("SNI spec")));
}

#[test]
fn tcp_routes() {
    assert_valid(&doc(&format!(
        "hosts: [a.com]\ntcp:\n- match:\n  - port: 31400\n    sourceNamespace: foo\n  {ROUTE}"
    )));
    assert_error(
        &doc("hosts: [a.com]\ntcp:\n- match:\n  - port: 1"),
        "TCP route needs",
    );
    assert_error(
        &doc(&format!(
            "hosts: [a.com]\ntcp:\n- match:\n  - sourceLabels: {{\"-bad\": x}}\n  {ROUTE}"
        )),
        "sourceLabels[-bad]",
    );
}

#[test]
fn destinations_and_weights() {
    let spec = |route: &str| doc(&format!("hosts: [a.com]\ntcp:\n- route:\n{route}"));
    assert_valid(&spec(
        "  - destination: {host: \"*.wild.com\", subset: v1, port: {number: 80}}\n    weight: 80\n  - destination: {host: b}\n    weight: 20",
    ));
    for (route, needle) in [
        ("  - destination: {host: \"*\"}", "destination.host"),
        ("  - destination: {host: \"a..b\"}", "destination.host"),
        (
            "  - destination: {host: a, subset: \"v_1\"}",
            "destination.subset",
        ),
        (
            "  - destination: {host: a, port: {}}",
            "destination.port.number",
        ),
        ("  - weight: 10", "destination is required"),
        (
            "  - destination: {host: a}\n    weight: -1",
            "must not be negative",
        ),
        (
            "  - destination: {host: a}\n  - destination: {host: b}",
            "total destination weight is 0",
        ),
    ] {
        assert_error(&spec(route), needle);
    }
}

#[test]
fn export_to() {
    let spec = |e: &str| doc(&format!("hosts: [a.com]\nexportTo: {e}\nhttp:\n- {ROUTE}"));
    for ok in ["[\".\"]", "[\"*\"]", "[\".\", other]"] {
        assert_valid(&spec(ok));
    }
    for (bad, needle) in [
        ("[\"~\"]", "'~' (no one) is allowed only on ServiceEntries"),
        ("[\"Bad_ns\"]", "exportTo entry \"Bad_ns\" invalid"),
        ("[a, a]", "duplicate entry \"a\" in exportTo"),
        ("[default, \".\"]", "'.' and the current namespace"),
        (
            "[\".\", default]",
            "duplicate entry \"default\" in exportTo",
        ),
        ("[\"*\", a]", "cannot have both public"),
    ] {
        assert_error(&spec(bad), needle);
    }
}

#[test]
fn unreachable_http_rules() {
    let yaml = doc(
        "hosts: [a.com]\nhttp:\n- route:\n  - destination: {host: a}\n- route:\n  - destination: {host: b}\n- match:\n  - uri: {exact: /x}\n  route:\n  - destination: {host: c}",
    );
    let found = codes(&yaml);
    assert_eq!(
        found,
        vec![
            ("IST0130", "spec.http[1]".to_string()),
            ("IST0130", "spec.http[2]".to_string())
        ]
    );
    assert!(errors(&yaml).is_empty());
    // Names are ignored when comparing matches.
    let dup = doc(
        "hosts: [a.com]\nhttp:\n- name: one\n  match:\n  - {name: m1, uri: {exact: /x}}\n  route:\n  - destination: {host: a}\n- match:\n  - {name: m2, uri: {exact: /x}}\n  - uri: {exact: /y}\n  route:\n  - destination: {host: b}",
    );
    let msgs: Vec<String> = validate_yaml(&dup).into_iter().map(|f| f.message).collect();
    assert_eq!(
        codes(&dup),
        vec![("IST0131", "spec.http[1].match[0]".to_string())]
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("rule #1 match \"m2\" is not used") && m.contains("rule \"one\"")),
        "{msgs:?}"
    );
    // Distinct matches are all reachable.
    assert!(codes(&doc(
        "hosts: [a.com]\nhttp:\n- match:\n  - uri: {exact: /x}\n  route:\n  - destination: {host: a}\n- route:\n  - destination: {host: b}"
    ))
    .is_empty());
}

#[test]
fn overlapping_prefixes() {
    let spec = |m2: &str| {
        doc(&format!(
            "hosts: [a.com]\nhttp:\n- match:\n  - uri: {{prefix: /api}}\n  route:\n  - destination: {{host: a}}\n- match:\n  - {m2}\n  route:\n  - destination: {{host: b}}"
        ))
    };
    assert_eq!(
        codes(&spec("uri: {prefix: /api/v1}")),
        vec![("IST0131", "spec.http[1].match[0]".to_string())]
    );
    for distinct in [
        "uri: {prefix: /apx}",
        "{uri: {prefix: /api/v1}, method: {exact: POST}}",
        "{uri: {prefix: /api/v1}, port: 8080}",
        "{uri: {prefix: /api/v1}, headers: {x: {exact: y}}}",
        "uri: {exact: /api/v1}",
    ] {
        assert!(codes(&spec(distinct)).is_empty(), "{distinct}");
    }
}

#[test]
fn unreachable_tcp_and_tls_rules() {
    let tcp = doc(&format!(
        "hosts: [a.com]\ntcp:\n- {ROUTE}\n- match:\n  - port: 1\n  - port: 2\n  {ROUTE}"
    ));
    assert_eq!(
        codes(&tcp),
        vec![
            ("IST0130", "spec.tcp[1]".to_string()),
            ("IST0130", "spec.tcp[1]".to_string())
        ]
    );
    let tls = doc(&format!(
        "hosts: [a.com]\ngateways: [gw]\ntls:\n- match:\n  - sniHosts: [a.com]\n  {ROUTE}\n- match:\n  - sniHosts: [a.com]\n  {ROUTE}"
    ));
    assert_eq!(
        codes(&tls),
        vec![
            ("IST0131", "spec.tls[1].match[0]".to_string()),
            ("IST0130", "spec.tls[1]".to_string())
        ]
    );
}

#[test]
fn round_trip_reference_example() {
    let yaml = doc(r#"hosts: [reviews.prod.svc.cluster.local]
gateways: [mesh, istio-system/ingress]
exportTo: ["."]
http:
- name: reviews-v2-routes
  match:
  - name: catalog
    uri: {prefix: /wpcatalog}
    headers: {end-user: {exact: jason}}
    queryParams: {v: {regex: "^2"}}
    withoutHeaders: {x-debug: {}}
    ignoreUriCase: true
    sourceLabels: {app: web}
    sourceNamespace: web
    statPrefix: catalog
  rewrite: {uri: /newcatalog, authority: reviews}
  route:
  - destination: {host: reviews.prod.svc.cluster.local, subset: v2, port: {number: 9080}}
    weight: 75
    headers: {response: {remove: [foo]}}
  - destination: {host: reviews.prod.svc.cluster.local, subset: v1}
    weight: 25
  timeout: 10s
  retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,connect-failure,503", retryRemoteLocalities: true, retryIgnorePreviousHosts: true, backoff: 25ms}
  fault:
    delay: {fixedDelay: 5s, percentage: {value: 0.1}}
    abort: {httpStatus: 400, percentage: {value: 1}}
  mirrors:
  - destination: {host: mirror.prod.svc.cluster.local}
    percentage: {value: 50}
  corsPolicy:
    allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\.example\\.com"}]
    allowMethods: [POST, GET]
    allowHeaders: [X-Foo-Bar]
    exposeHeaders: [X-Expose]
    maxAge: 24h
    allowCredentials: false
    unmatchedPreflights: IGNORE
  headers:
    request: {set: {x-a: b}, add: {x-c: "%HOSTNAME%"}, remove: [x-d]}
- name: redirect
  match:
  - uri: {exact: /old}
  redirect: {uri: /new, authority: new.com, derivePort: FROM_REQUEST_PORT, scheme: https, redirectCode: 308}
- name: direct
  match:
  - uri: {exact: /ping}
  directResponse: {status: 200, body: {string: pong}}
- route:
  - destination: {host: reviews.prod.svc.cluster.local, subset: v1}
  mirror: {host: mirror}
  mirrorPercentage: {value: 10}
tls:
- match:
  - sniHosts: [reviews.prod.svc.cluster.local]
    port: 443
  route:
  - destination: {host: reviews.prod.svc.cluster.local}
tcp:
- match:
  - port: 27017
    destinationSubnets: [10.0.0.0/8]
  route:
  - destination: {host: mongo.backup.svc.cluster.local, port: {number: 5555}}
"#);
    assert_valid(&yaml);
    let docs = crate::yaml::parse_documents(&yaml).expect("yaml");
    let vs: VirtualService = serde_json::from_value(docs[0].to_json()).expect("decodes");
    let back = serde_json::to_value(&vs).expect("serializes");
    let again: VirtualService = serde_json::from_value(back).expect("decodes again");
    assert_eq!(again, vs);
    assert_eq!(vs.spec.http[0].matches[0].stat_prefix, "catalog");
}

#[test]
fn unknown_fields_are_rejected() {
    let docs = crate::yaml::parse_documents(&http("bogus: 1")).expect("yaml");
    let err = crate::resource::Resource::from_node(&docs[0]).expect_err("unknown field");
    assert!(err.to_string().contains("bogus"), "{err}");
}
