//! Telemetry: each workload's access logging, tracing and metric overrides,
//! from the mesh config and the Telemetry resources that apply to it (Istio's
//! precedence, [`super::scope`]: the workload's over the namespace's over the
//! mesh's in `istio-system`). A more specific resource overrides what it sets
//! and inherits the rest: for tracing field by field (provider, sampling,
//! span reporting; custom tags merged by name), for access logging the whole
//! entry; metric overrides add up, mesh first. A resource with `targetRef` or
//! `targetRefs` attaches to gateways and waypoints, which meshctl does not run:
//! sidecars ignore it, as Istio's do.

use std::collections::BTreeMap;

use mesh_api::Resource;
use mesh_api::common::WorkloadSelector;
use mesh_api::mesh_config::MeshConfig;
use mesh_api::proxy::{
    AccessLogConfig, MetricToggle, MetricsOverrides, OtlpExporter, TagSource, TelemetryConfig,
    TracingConfig, TrafficMode,
};
use mesh_api::telemetry::{
    CustomTag, IstioMetric, TagOperation, TelemetrySpec, TracingSelector, WorkloadMode,
};

use super::scope::{Scoped, applicable};
use super::services::namespace_of;

#[derive(Debug, Clone)]
struct Policy {
    namespace: String,
    name: String,
    spec: TelemetrySpec,
}

impl Scoped for Policy {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn selector(&self) -> Option<&WorkloadSelector> {
        self.spec.selector.as_ref()
    }
}

/// The Telemetry resources of the mesh, in resource order, and the mesh config.
#[derive(Debug, Clone, Default)]
pub struct TelemetryIndex {
    policies: Vec<Policy>,
    mesh: MeshConfig,
}

fn mode(m: Option<&TracingSelector>) -> TrafficMode {
    match m.and_then(|s| s.mode) {
        Some(WorkloadMode::Client) => TrafficMode::Client,
        Some(WorkloadMode::Server) => TrafficMode::Server,
        _ => TrafficMode::ClientAndServer,
    }
}

/// Tracing as it is being resolved, mesh first.
#[derive(Debug, Default)]
struct TracingAcc {
    on: bool,
    provider: Option<String>,
    sampling: Option<f64>,
    disable_reporting: bool,
    tags: BTreeMap<String, TagSource>,
    mode: TrafficMode,
}

fn tag_source(t: &CustomTag) -> Option<TagSource> {
    if let Some(l) = &t.literal {
        return Some(TagSource::Literal(l.value.clone()));
    }
    if let Some(h) = &t.header {
        return Some(TagSource::Header {
            name: h.name.to_ascii_lowercase(),
            default: h.default_value.clone(),
        });
    }
    // Formatter tags need Envoy's formatter: not supported (documented).
    t.environment.as_ref().map(|e| TagSource::Environment {
        name: e.name.clone(),
        default: e.default_value.clone(),
    })
}

fn metric_name(m: IstioMetric) -> &'static str {
    match m {
        IstioMetric::AllMetrics => "ALL_METRICS",
        IstioMetric::RequestCount => "REQUEST_COUNT",
        IstioMetric::RequestDuration => "REQUEST_DURATION",
        IstioMetric::RequestSize => "REQUEST_SIZE",
        IstioMetric::ResponseSize => "RESPONSE_SIZE",
        IstioMetric::TcpOpenedConnections => "TCP_OPENED_CONNECTIONS",
        IstioMetric::TcpClosedConnections => "TCP_CLOSED_CONNECTIONS",
        IstioMetric::TcpSentBytes => "TCP_SENT_BYTES",
        IstioMetric::TcpReceivedBytes => "TCP_RECEIVED_BYTES",
        IstioMetric::GrpcRequestMessages => "GRPC_REQUEST_MESSAGES",
        IstioMetric::GrpcResponseMessages => "GRPC_RESPONSE_MESSAGES",
    }
}

impl TelemetryIndex {
    /// Indexes the Telemetry resources that apply to sidecars (not those with
    /// a `targetRef(s)`); `mesh` gives the defaults and providers.
    pub fn new(resources: &[Resource], mesh: MeshConfig) -> Self {
        let policies = resources
            .iter()
            .filter_map(|r| match r {
                Resource::Telemetry(t)
                    if t.spec.target_ref.is_none() && t.spec.target_refs.is_empty() =>
                {
                    Some(Policy {
                        namespace: namespace_of(r).to_owned(),
                        name: t.metadata.name.clone().unwrap_or_default(),
                        spec: t.spec.clone(),
                    })
                }
                _ => None,
            })
            .collect();
        TelemetryIndex { policies, mesh }
    }

    /// Replaces the mesh config.
    pub fn set_mesh(&mut self, mesh: MeshConfig) {
        self.mesh = mesh;
    }

    /// The telemetry of a workload in `namespace` with `labels`.
    pub fn resolve(&self, namespace: &str, labels: &BTreeMap<String, String>) -> TelemetryConfig {
        let mut origin = Vec::new();
        let mut access_log = (!self.mesh.access_log_file.is_empty()).then(|| AccessLogConfig {
            path: self.mesh.access_log_file.clone(),
            encoding: self.mesh.access_log_encoding,
            filter: None,
            mode: TrafficMode::ClientAndServer,
        });
        let mut tracing = TracingAcc {
            provider: self.mesh.default_providers.tracing.first().cloned(),
            ..TracingAcc::default()
        };
        tracing.on = tracing.provider.is_some();
        let mut metrics = MetricsOverrides::default();
        if access_log.is_some() || tracing.on {
            origin.push("MeshConfig".to_owned());
        }
        // Least specific first, so that each level overrides the one before.
        let mut chain = applicable(&self.policies, namespace, labels);
        chain.reverse();
        for p in chain {
            let mut used = false;
            if let Some(l) = p.spec.access_logging.first() {
                used = true;
                access_log = if l.disabled == Some(true) {
                    None
                } else {
                    let path = match self.mesh.access_log_file.as_str() {
                        "" => "/dev/stdout".to_owned(),
                        f => f.to_owned(),
                    };
                    Some(AccessLogConfig {
                        path,
                        encoding: self.mesh.access_log_encoding,
                        filter: l.filter.as_ref().map(|f| f.expression.clone()),
                        mode: mode(l.r#match.as_ref()),
                    })
                };
            }
            if let Some(t) = p.spec.tracing.first() {
                used = true;
                tracing.on = true;
                if let Some(pr) = t.providers.first() {
                    tracing.provider = Some(pr.name.clone());
                }
                if let Some(s) = t.random_sampling_percentage {
                    tracing.sampling = Some(s);
                }
                if let Some(d) = t.disable_span_reporting {
                    tracing.disable_reporting = d;
                }
                for (k, v) in &t.custom_tags {
                    if let Some(src) = tag_source(v) {
                        tracing.tags.insert(k.clone(), src);
                    }
                }
                if t.r#match.is_some() {
                    tracing.mode = mode(t.r#match.as_ref());
                }
            }
            for m in &p.spec.metrics {
                for o in &m.overrides {
                    used = true;
                    let sel = o.r#match.as_ref();
                    let mode = match sel.and_then(|s| s.mode) {
                        Some(WorkloadMode::Client) => TrafficMode::Client,
                        Some(WorkloadMode::Server) => TrafficMode::Server,
                        _ => TrafficMode::ClientAndServer,
                    };
                    let metric = sel.and_then(|s| s.metric).unwrap_or_default();
                    if o.disabled == Some(true) {
                        metrics.disabled.push(MetricToggle {
                            metric: metric_name(metric).to_owned(),
                            mode,
                        });
                    }
                    for (tag, to) in &o.tag_overrides {
                        if to.operation() == TagOperation::Remove
                            && !metrics.removed_tags.contains(tag)
                        {
                            metrics.removed_tags.push(tag.clone());
                        }
                    }
                }
            }
            if used {
                origin.push(format!("Telemetry {}/{}", p.namespace, p.name));
            }
        }
        TelemetryConfig {
            access_log,
            tracing: tracing.on.then(|| self.tracing(tracing)),
            metrics,
            origin,
        }
    }

    fn tracing(&self, t: TracingAcc) -> TracingConfig {
        let exporter = t
            .provider
            .filter(|_| !t.disable_reporting)
            .and_then(|name| {
                let otel = self.mesh.provider(&name)?.opentelemetry.as_ref()?;
                let host = if otel.service.contains(':') {
                    format!("[{}]", otel.service)
                } else {
                    otel.service.clone()
                };
                Some(OtlpExporter {
                    provider: name,
                    address: format!("{host}:{}", otel.port),
                    http_path: otel.http.as_ref().map(|h| match h.path.as_str() {
                        "" => "/v1/traces".to_owned(),
                        p if p.starts_with('/') => p.to_owned(),
                        p => format!("/{p}"),
                    }),
                })
            });
        TracingConfig {
            sampling: t.sampling.unwrap_or_else(|| self.mesh.sampling()),
            exporter,
            custom_tags: t.tags,
            mode: t.mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::tests::resources;

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
}
