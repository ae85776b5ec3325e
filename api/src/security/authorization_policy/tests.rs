use crate::validation::testing::{assert_error, assert_valid, errors, warnings};

const HEAD: &str = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: httpbin\n  namespace: foo\n";

fn doc(spec: &str) -> String {
    format!("{HEAD}spec:\n{spec}")
}

/// A rule with one source field and one operation field, indented for `rules:`.
fn rule(source: &str, operation: &str) -> String {
    doc(&format!(
        "  rules:\n  - from:\n    - source:\n        {source}\n    to:\n    - operation:\n        {operation}\n"
    ))
}

/// The reference docs' first example.
const RICH: &str = r#"apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    - source:
        namespaces: ["test"]
        notIpBlocks: ["203.0.113.4"]
    - source:
        requestPrincipals: ["example.com/sub-1"]
        remoteIpBlocks: ["10.0.0.0/8"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/info*", "/api/{*}/items/{**}"]
        ports: ["8080"]
    - operation:
        methods: ["POST"]
        paths: ["/data"]
        notHosts: ["*.example.com"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
    - key: source.ip
      notValues: ["10.1.2.3", "10.2.0.0/16"]
    - key: destination.port
      values: ["8080"]
"#;

#[test]
fn reference_examples_are_valid() {
    assert_valid(RICH);
    assert_valid(&format!("{HEAD}spec: {{}}\n"));
    assert_valid(&doc("  rules:\n  - {}\n"));
    assert_valid(&doc(
        "  action: DENY\n  rules:\n  - from:\n    - source:\n        namespaces: [\"dev\"]\n    to:\n    - operation:\n        methods: [\"POST\"]\n        ports: [\"8080\"]\n",
    ));
    assert_valid(&doc(
        "  selector:\n    matchLabels:\n      app: istio-ingressgateway\n  action: CUSTOM\n  provider:\n    name: my-custom-authz\n  rules:\n  - to:\n    - operation:\n        paths: [\"/admin/*\"]\n",
    ));
}

#[test]
fn round_trip() {
    let docs = crate::yaml::parse_documents(RICH).expect("yaml");
    let res = crate::resource::Resource::from_node(&docs[0]).expect("decode");
    let back: super::AuthorizationPolicy =
        serde_json::from_value(res.to_json()).expect("re-decode");
    let crate::resource::Resource::AuthorizationPolicy(orig) = res else {
        panic!("kind");
    };
    assert_eq!(*orig, back);
    assert_eq!(
        orig.spec.rules[0].to[0]
            .operation
            .as_ref()
            .map(|o| o.ports.len()),
        Some(1)
    );
}

#[test]
fn selector_and_target_refs_are_exclusive() {
    let target = "  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: waypoint\n";
    assert_valid(&doc(target));
    assert_error(
        &doc(&format!(
            "  selector:\n    matchLabels:\n      app: a\n{target}"
        )),
        "only one of selector, targetRef or targetRefs",
    );
    assert_error(
        &doc(
            "  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n    name: gw\n  targetRefs:\n  - kind: Service\n    name: svc\n",
        ),
        "only one of",
    );
}

#[test]
fn target_refs_must_be_supported_kinds_in_namespace() {
    assert_valid(&doc(
        "  targetRefs:\n  - kind: Service\n    group: \"\"\n    name: reviews\n  - kind: ServiceEntry\n    group: networking.istio.io\n    name: ext\n",
    ));
    assert_error(
        &doc("  targetRefs:\n  - kind: Deployment\n    group: apps\n    name: x\n"),
        "apps/Deployment is not supported",
    );
    assert_error(
        &doc(
            "  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n    name: gw\n    namespace: other\n",
        ),
        "spec.targetRef.namespace",
    );
    assert_error(
        &doc("  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n"),
        "targetRef name must be set",
    );
}

#[test]
fn custom_requires_provider_and_rules() {
    assert_error(
        &doc("  action: CUSTOM\n  rules:\n  - {}\n"),
        "requires provider.name",
    );
    assert_error(
        &doc("  action: CUSTOM\n  provider:\n    name: ext\n"),
        "CUSTOM action without rules",
    );
    assert_error(
        &doc("  action: ALLOW\n  provider:\n    name: ext\n  rules:\n  - {}\n"),
        "provider is only allowed with the CUSTOM action",
    );
}

#[test]
fn custom_forbids_identity_matches() {
    let y = doc(
        "  action: CUSTOM\n  provider:\n    name: ext\n  rules:\n  - from:\n    - source:\n        principals: [\"a\"]\n    when:\n    - key: request.auth.claims[iss]\n      values: [\"x\"]\n",
    );
    assert_error(
        &y,
        "from.source.principals is not supported with the CUSTOM action",
    );
    assert_error(
        &y,
        "request.auth.claims[iss] is not supported with the CUSTOM action",
    );
    assert_valid(&doc(
        "  action: CUSTOM\n  provider:\n    name: ext\n  rules:\n  - from:\n    - source:\n        ipBlocks: [\"10.0.0.0/8\"]\n",
    ));
}

#[test]
fn deny_requires_rules() {
    assert_error(&doc("  action: DENY\n"), "DENY action without rules");
    assert_valid(&doc("  action: DENY\n  rules:\n  - {}\n"));
    assert_valid(&doc("  action: AUDIT\n"));
}

#[test]
fn deny_with_only_http_attributes_warns() {
    let w = warnings(&doc(
        "  action: DENY\n  rules:\n  - to:\n    - operation:\n        methods: [\"POST\"]\n",
    ));
    assert!(w.iter().any(|w| w.contains("TCP ports")), "{w:?}");
    let w = warnings(&doc(
        "  action: DENY\n  rules:\n  - from:\n    - source:\n        requestPrincipals: [\"*\"]\n",
    ));
    assert!(w.iter().any(|w| w.contains("TCP ports")), "{w:?}");
    let w = warnings(&doc(
        "  action: DENY\n  rules:\n  - to:\n    - operation:\n        methods: [\"POST\"]\n        ports: [\"80\"]\n",
    ));
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn from_and_to_entries_need_content() {
    assert_error(&doc("  rules:\n  - from:\n    - {}\n"), "need a source");
    assert_error(&doc("  rules:\n  - to:\n    - {}\n"), "need an operation");
    assert_error(
        &doc("  rules:\n  - from:\n    - source: {}\n"),
        "source must not be empty",
    );
    assert_error(
        &doc("  rules:\n  - to:\n    - operation: {}\n"),
        "operation must not be empty",
    );
}

#[test]
fn empty_strings_are_rejected() {
    assert_error(
        &rule("principals: [\"\"]", "methods: [\"GET\"]"),
        "spec.rules[0].from[0].source.principals[0]: empty value",
    );
    assert_error(
        &rule("namespaces: [\"a\"]", "methods: [\"\"]"),
        "operation.methods[0]: empty value",
    );
}

#[test]
fn ip_blocks_are_ips_or_cidrs() {
    assert_valid(&rule(
        "ipBlocks: [\"203.0.113.0/24\", \"2001:db8::1\"]",
        "ports: [\"80\"]",
    ));
    assert_error(
        &rule("ipBlocks: [\"203.0.113.0/33\"]", "ports: [\"80\"]"),
        "ipBlocks[0]: bad CIDR range",
    );
    assert_error(
        &rule("notRemoteIpBlocks: [\"example.com\"]", "ports: [\"80\"]"),
        "notRemoteIpBlocks[0]: bad IP address",
    );
}

#[test]
fn ports_are_numbers() {
    assert_valid(&rule("namespaces: [\"a\"]", "notPorts: [\"0\", \"65535\"]"));
    assert_error(
        &rule("namespaces: [\"a\"]", "ports: [\"http\"]"),
        "ports[0]: bad port",
    );
    assert_error(
        &rule("namespaces: [\"a\"]", "notPorts: [\"65536\"]"),
        "notPorts[0]: bad port",
    );
}

#[test]
fn path_templates() {
    assert_valid(&rule(
        "namespaces: [\"a\"]",
        "paths: [\"/foo/{*}/bar/{**}\"]",
    ));
    assert_error(
        &rule("namespaces: [\"a\"]", "paths: [\"/foo/{**}/{*}\"]"),
        "must be the last operator",
    );
    assert_error(
        &rule("namespaces: [\"a\"]", "notPaths: [\"/foo/{id}\"]"),
        "notPaths[0]: invalid path",
    );
}

#[test]
fn service_accounts() {
    assert_valid(&rule(
        "serviceAccounts: [\"default/sleep\", \"sleep\"]",
        "ports: [\"80\"]",
    ));
    assert_error(
        &rule("serviceAccounts: [\"ns/*\"]", "ports: [\"80\"]"),
        "wildcards are not allowed",
    );
    assert_error(
        &rule("notServiceAccounts: [\"a/b/c\"]", "ports: [\"80\"]"),
        "notServiceAccounts[0]",
    );
    assert_error(
        &doc(
            "  rules:\n  - from:\n    - source:\n        serviceAccounts: [\"sleep\"]\n        principals: [\"x\"]\n",
        ),
        "cannot set serviceAccounts",
    );
    let many: Vec<String> = (0..17).map(|i| format!("\"sa{i}\"")).collect();
    assert_error(
        &rule(
            &format!("serviceAccounts: [{}]", many.join(", ")),
            "ports: [\"80\"]",
        ),
        "at most 16 values",
    );
}

#[test]
fn conditions() {
    assert_error(
        &doc("  rules:\n  - when:\n    - key: \"\"\n      values: [\"a\"]\n"),
        "condition key must not be empty",
    );
    assert_error(
        &doc("  rules:\n  - when:\n    - key: source.ip\n"),
        "needs values or notValues",
    );
    assert_error(
        &doc("  rules:\n  - when:\n    - key: source.user\n      values: [\"a\"]\n"),
        "unknown attribute",
    );
    assert_error(
        &doc("  rules:\n  - when:\n    - key: request.headers\n      values: [\"a\"]\n"),
        "bad key",
    );
    assert_error(
        &doc("  rules:\n  - when:\n    - key: destination.labels[app]\n      values: [\"a\"]\n"),
        "replaced by the workload selector",
    );
    assert_error(
        &doc("  rules:\n  - when:\n    - key: remote.ip\n      values: [\"1.2.3\"]\n"),
        "when[0].values[0]: invalid value for remote.ip",
    );
    assert_error(
        &doc("  rules:\n  - when:\n    - key: destination.port\n      notValues: [\"99999\"]\n"),
        "when[0].notValues[0]",
    );
    assert_error(
        &doc("  rules:\n  - when:\n    - key: source.serviceAccount\n      values: [\"*\"]\n"),
        "wildcards are not allowed",
    );
    assert_valid(&doc(
        "  rules:\n  - when:\n    - key: request.headers[x-token]\n      values: [\"abc\"]\n    - key: connection.sni\n      values: [\"*.example.com\"]\n    - key: experimental.envoy.filters.network.mysql_proxy[db.table]\n      values: [\"[update]\"]\n",
    ));
}

#[test]
fn dry_run_annotation() {
    let with = |action: &str, value: &str| {
        format!(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: a\n  annotations:\n    istio.io/dry-run: \"{value}\"\nspec:\n  action: {action}\n  rules:\n  - {{}}\n"
        )
    };
    assert_valid(&with("DENY", "true"));
    assert_error(&with("ALLOW", "yes"), "must be \"true\" or \"false\"");
    assert_error(
        &with("AUDIT", "true"),
        "only supports the ALLOW and DENY actions",
    );
}

#[test]
fn all_problems_are_collected() {
    let errs = errors(&doc(
        "  action: DENY\n  provider:\n    name: x\n  rules:\n  - from:\n    - source:\n        ipBlocks: [\"bad\"]\n    to:\n    - operation:\n        ports: [\"bad\"]\n",
    ));
    assert_eq!(errs.len(), 3, "{errs:#?}");
}
