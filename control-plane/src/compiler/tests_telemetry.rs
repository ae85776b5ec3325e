//! Telemetry resolution: precedence, mesh config defaults, metric overrides.

use std::collections::BTreeMap;

use mesh_api::mesh_config::MeshConfig;
use mesh_api::proxy::{MetricToggle, TagSource, TagUpsert, TrafficMode};

use super::telemetry::TelemetryIndex;
use super::tests::resources;

const POLICIES: &str = r#"
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing:
  - providers: [{name: otel}]
    randomSamplingPercentage: 10
    customTags:
      cluster: {literal: {value: east}}
  accessLogging:
  - providers: [{name: envoy}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ns, namespace: shop}
spec:
  tracing:
  - randomSamplingPercentage: 100
    customTags:
      user: {header: {name: X-User, defaultValue: anon}}
  accessLogging:
  - filter: {expression: "response.code >= 400"}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: quiet, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  accessLogging:
  - disabled: true
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNT, mode: CLIENT}
      disabled: true
    - tagOverrides:
        request_protocol: {operation: REMOVE}
"#;

fn labels(app: &str) -> BTreeMap<String, String> {
    [("app".to_string(), app.to_string())].into()
}

fn mesh() -> MeshConfig {
    let mut m = MeshConfig::default();
    m.set("accessLogFile", "/tmp/access.log")
        .expect("as set up in this test");
    m.set("tracing.otlpEndpoint", "http://127.0.0.1:4317")
        .expect("as set up in this test");
    m
}

#[test]
fn off_by_default() {
    let t = TelemetryIndex::new(&[], MeshConfig::default()).resolve("default", &labels("x"));
    assert!(t.is_empty(), "{t:?}");
    assert!(t.origin.is_empty());
}

#[test]
fn mesh_config_alone() {
    let t = TelemetryIndex::new(&[], mesh()).resolve("default", &labels("x"));
    let log = t.access_log.expect("as set up in this test");
    assert_eq!((log.path.as_str(), log.filter), ("/tmp/access.log", None));
    let tr = t.tracing.expect("as set up in this test");
    assert_eq!(tr.sampling, 1.0, "Istio's default sampling");
    assert_eq!(
        tr.exporter.expect("as set up in this test").address,
        "127.0.0.1:4317"
    );
    assert_eq!(t.origin, ["MeshConfig"]);
}

#[test]
fn precedence_workload_then_namespace_then_mesh() {
    let idx = TelemetryIndex::new(&resources(POLICIES), mesh());
    // Another namespace: the mesh-wide resource only.
    let other = idx.resolve("default", &labels("web"));
    assert_eq!(
        other
            .tracing
            .as_ref()
            .expect("as set up in this test")
            .sampling,
        10.0
    );
    assert_eq!(
        other
            .access_log
            .as_ref()
            .expect("as set up in this test")
            .filter,
        None
    );
    assert_eq!(
        other.origin,
        ["MeshConfig", "Telemetry istio-system/mesh-default"]
    );
    // The namespace's resource overrides sampling and the log filter,
    // inherits the provider, and merges custom tags.
    let web = idx.resolve("shop", &labels("web"));
    let tr = web.tracing.expect("as set up in this test");
    assert_eq!(tr.sampling, 100.0);
    assert_eq!(
        tr.exporter.expect("as set up in this test").provider,
        "otel"
    );
    assert_eq!(tr.custom_tags.len(), 2);
    assert_eq!(
        tr.custom_tags["user"],
        TagSource::Header {
            name: "x-user".into(),
            default: "anon".into()
        }
    );
    assert_eq!(
        web.access_log
            .expect("as set up in this test")
            .filter
            .as_deref(),
        Some("response.code >= 400")
    );
    // The workload's resource turns logging off and overrides metrics.
    let cart = idx.resolve("shop", &labels("cart"));
    assert!(cart.access_log.is_none());
    assert_eq!(
        cart.metrics.disabled,
        [MetricToggle {
            metric: "REQUEST_COUNT".into(),
            mode: TrafficMode::Client
        }]
    );
    assert_eq!(cart.metrics.removed_tags, ["request_protocol"]);
    assert_eq!(
        cart.tracing.expect("as set up in this test").sampling,
        100.0
    );
    assert_eq!(
        cart.origin,
        [
            "MeshConfig",
            "Telemetry istio-system/mesh-default",
            "Telemetry shop/ns",
            "Telemetry shop/quiet"
        ]
    );
}

#[test]
fn telemetry_enables_logging_without_mesh_file_and_unknown_provider_exports_nothing() {
    let yaml = r#"
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: default}
spec:
  accessLogging: [{}]
  tracing: [{providers: [{name: nowhere}], randomSamplingPercentage: 0}]
"#;
    let t = TelemetryIndex::new(&resources(yaml), MeshConfig::default())
        .resolve("default", &labels("x"));
    assert_eq!(
        t.access_log.expect("as set up in this test").path,
        "/dev/stdout"
    );
    let tr = t.tracing.expect("as set up in this test");
    assert_eq!((tr.sampling, tr.exporter), (0.0, None));
}

#[test]
fn target_ref_policies_are_left_to_gateways() {
    let yaml = r#"
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: gw, namespace: default}
spec:
  targetRefs:
  - {kind: Gateway, group: gateway.networking.k8s.io, name: ingress}
  accessLogging: [{}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: svc, namespace: default}
spec:
  targetRef: {kind: Service, group: "", name: reviews}
  metrics:
  - overrides:
    - match: {metric: ALL_METRICS}
      disabled: true
"#;
    let t = TelemetryIndex::new(&resources(yaml), MeshConfig::default())
        .resolve("default", &labels("reviews"));
    assert!(t.is_empty(), "not namespace-wide for sidecars: {t:?}");
    assert!(t.origin.is_empty());
}

#[test]
fn upserts_add_up_mesh_first_and_a_more_specific_level_wins() {
    let yaml = r#"
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh, namespace: istio-system}
spec:
  metrics:
  - overrides:
    - tagOverrides:
        request_host: {value: request.host}
        user: {value: "request.headers['x-user']"}
        team: {value: "'core'"}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ns, namespace: shop}
spec:
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNT, mode: SERVER}
      tagOverrides:
        destination_service: {value: request.host}
    - tagOverrides:
        team: {value: "'shop'"}
        user: {operation: REMOVE}
    - match: {customMetric: my_metric}
      tagOverrides:
        nowhere: {value: "'x'"}
    - tagOverrides:
        code: {value: response.code}
        bad-name: {value: "'x'"}
"#;
    let idx = TelemetryIndex::new(&resources(yaml), MeshConfig::default());
    let up = |tag: &str, value: &str, metric: &str, mode| TagUpsert {
        tag: tag.into(),
        value: value.into(),
        metric: metric.into(),
        mode,
    };
    let all = TrafficMode::ClientAndServer;
    let other = idx.resolve("default", &labels("web"));
    assert_eq!(
        other.metrics.upserted_tags,
        [
            up("request_host", "request.host", "ALL_METRICS", all),
            up("team", "'core'", "ALL_METRICS", all),
            up("user", "request.headers['x-user']", "ALL_METRICS", all),
        ]
    );
    let shop = idx.resolve("shop", &labels("web"));
    assert_eq!(
        shop.metrics.upserted_tags,
        [
            up("request_host", "request.host", "ALL_METRICS", all),
            up(
                "destination_service",
                "request.host",
                "REQUEST_COUNT",
                TrafficMode::Server
            ),
            up("team", "'shop'", "ALL_METRICS", all),
        ],
        "the namespace's team replaces the mesh's, its REMOVE takes user out, \
         a custom metric's override adds nothing, nor do unsupported values and names"
    );
    assert_eq!(shop.metrics.removed_tags, ["user"]);
    assert_eq!(
        shop.origin,
        ["Telemetry istio-system/mesh", "Telemetry shop/ns"]
    );
}
