use crate::validation::testing::{assert_error, assert_valid, warnings};

const HEAD: &str =
    "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: t\n  namespace: foo\n";

fn doc(spec: &str) -> String {
    format!("{HEAD}spec:\n{spec}")
}

const RICH: &str = r#"apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  selector:
    matchLabels:
      app: reviews
  tracing:
  - match:
      mode: SERVER
    providers:
    - name: zipkin
    randomSamplingPercentage: 10.5
    disableSpanReporting: false
    useRequestIdForTraceSampling: true
    enableIstioTags: true
    customTags:
      my_tag_header:
        header:
          name: x-header
          defaultValue: unknown
      my_tag_env:
        environment:
          name: POD_NAME
      my_tag_literal:
        literal:
          value: foo
      my_tag_path:
        formatter:
          value: "%REQ(:PATH)%"
  metrics:
  - providers:
    - name: prometheus
    reportingInterval: 15s
    overrides:
    - match:
        metric: REQUEST_COUNT
        mode: CLIENT
      tagOverrides:
        request_host:
          value: "request.host"
        response_code:
          operation: REMOVE
    - match:
        customMetric: my_metric
      disabled: true
    - disabled: false
  accessLogging:
  - match:
      mode: CLIENT_AND_SERVER
    providers:
    - name: envoy
    disabled: false
    filter:
      expression: "response.code >= 400 || xds.cluster_name == 'BlackHoleCluster'"
"#;

#[test]
fn reference_example_is_valid_and_round_trips() {
    assert_valid(RICH);
    let docs = crate::yaml::parse_documents(RICH).expect("yaml");
    let res = crate::resource::Resource::from_node(&docs[0]).expect("decode");
    let back: super::Telemetry = serde_json::from_value(res.to_json()).expect("re-decode");
    let crate::resource::Resource::Telemetry(orig) = res else {
        panic!("kind");
    };
    assert_eq!(*orig, back);
}

#[test]
fn provider_names_required() {
    assert_valid(&doc("  metrics:\n  - providers:\n    - name: prometheus\n"));
    assert_error(
        &doc("  metrics:\n  - providers:\n    - name: \"\"\n"),
        "spec.metrics[0].providers[0].name: provider name must not be empty",
    );
    assert_error(
        &doc("  accessLogging:\n  - providers:\n    - {}\n"),
        "accessLogging[0].providers[0].name",
    );
}

#[test]
fn sampling_percentage() {
    assert_valid(&doc("  tracing:\n  - randomSamplingPercentage: 100\n"));
    assert_error(
        &doc("  tracing:\n  - randomSamplingPercentage: 100.5\n"),
        "randomSamplingPercentage",
    );
    assert_error(
        &doc("  tracing:\n  - randomSamplingPercentage: -1\n"),
        "must be in the range 0..100",
    );
}

#[test]
fn multiple_tracing_warns() {
    let w = warnings(&doc(
        "  tracing:\n  - providers:\n    - name: a\n    - name: b\n  - providers:\n    - name: c\n",
    ));
    assert!(
        w.iter().any(|w| w.contains("multiple tracing entries")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|w| w.contains("multiple tracing providers")),
        "{w:?}"
    );
    assert!(warnings(&doc("  tracing:\n  - providers:\n    - name: a\n")).is_empty());
}

#[test]
fn custom_tags() {
    assert_error(
        &doc(
            "  tracing:\n  - customTags:\n      t:\n        literal:\n          value: a\n        header:\n          name: b\n",
        ),
        "set only one of literal, environment, header or formatter",
    );
    assert_error(
        &doc("  tracing:\n  - customTags:\n      t:\n        literal:\n          value: \"\"\n"),
        "customTags[t].literal.value: literal tag value must not be empty",
    );
    assert_error(
        &doc("  tracing:\n  - customTags:\n      t:\n        environment: {}\n"),
        "environment tag name must not be empty",
    );
    assert_error(
        &doc("  tracing:\n  - customTags:\n      \"\":\n        literal:\n          value: a\n"),
        "custom tag name must not be empty",
    );
}

#[test]
fn tag_overrides() {
    assert_error(
        &doc(
            "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: UPSERT\n",
        ),
        "value must be set when operation is UPSERT",
    );
    assert_error(
        &doc("  metrics:\n  - overrides:\n    - tagOverrides:\n        foo: {}\n"),
        "value must be set when operation is UPSERT",
    );
    assert_error(
        &doc(
            "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: REMOVE\n          value: oops\n",
        ),
        "must not be set when operation is REMOVE",
    );
    assert_valid(&doc(
        "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: REMOVE\n",
    ));
    assert_valid(&doc(
        "  metrics:\n  - overrides:\n    - tagOverrides:\n        request_host:\n          value: request.host\n        user:\n          value: \"request.headers['x-user']\"\n        port:\n          value: string(destination.port)\n        mesh:\n          value: \"'east'\"\n",
    ));
}

#[test]
fn upsert_values_and_names() {
    // Valid CEL outside meshctl's subset: rejected, at the value, saying what is supported.
    assert_error(
        &doc(
            "  metrics:\n  - overrides:\n    - tagOverrides:\n        code:\n          value: response.code\n",
        ),
        "spec.metrics[0].overrides[0].tagOverrides[code].value: value \"response.code\" cannot be evaluated: response.code is not known when the request arrives",
    );
    assert_error(
        &doc(
            "  metrics:\n  - overrides:\n    - tagOverrides:\n        host:\n          value: request.host + 'x'\n",
        ),
        "(meshctl supports: a string literal ('v1'), request.method",
    );
    assert_error(
        &doc(
            "  metrics:\n  - overrides:\n    - tagOverrides:\n        request-host:\n          value: request.host\n",
        ),
        "tag \"request-host\" is not a valid Prometheus label name",
    );
}

#[test]
fn metric_selector() {
    assert_error(
        &doc("  metrics:\n  - overrides:\n    - match:\n        customMetric: \"\"\n"),
        "customMetric must not be empty",
    );
    assert_error(
        &doc(
            "  metrics:\n  - overrides:\n    - match:\n        metric: REQUEST_COUNT\n        customMetric: mine\n",
        ),
        "set only one of metric and customMetric",
    );
}

#[test]
fn reporting_interval() {
    assert_valid(&doc("  metrics:\n  - reportingInterval: 1ms\n"));
    assert_error(
        &doc("  metrics:\n  - reportingInterval: 0s\n"),
        "at least 1ms",
    );
}

#[test]
fn access_log_filter_is_cel() {
    assert_valid(&doc(
        "  accessLogging:\n  - filter:\n      expression: response.code >= 400\n",
    ));
    assert_error(
        &doc("  accessLogging:\n  - filter:\n      expression: \"response.code >=\"\n"),
        "must be a valid CEL expression",
    );
    assert_error(
        &doc("  accessLogging:\n  - filter: {}\n"),
        "must be a valid CEL expression",
    );
    // Valid CEL that meshctl's proxies cannot evaluate: rejected, saying what can.
    assert_error(
        &doc("  accessLogging:\n  - filter:\n      expression: size(request.path) > 1\n"),
        "cannot be evaluated: unsupported function or method size() (meshctl supports:",
    );
}

#[test]
fn targeting() {
    assert_valid(&doc(
        "  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: waypoint\n",
    ));
    assert_error(
        &doc(
            "  selector:\n    matchLabels:\n      app: a\n  targetRef:\n    kind: Service\n    name: s\n",
        ),
        "only one of selector, targetRef or targetRefs",
    );
    assert_error(
        "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: t\n  annotations:\n    istio.io/dry-run: \"true\"\nspec: {}\n",
        "only AuthorizationPolicy supports it",
    );
}
