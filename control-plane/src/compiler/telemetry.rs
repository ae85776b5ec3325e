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
    AccessLogConfig, MetricToggle, MetricsOverrides, OtlpExporter, TagSource, TagUpsert,
    TelemetryConfig, TracingConfig, TrafficMode,
};
use mesh_api::telemetry::filter::{ValueExpr, valid_label_name};
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
                    let custom = sel.is_some_and(|s| s.custom_metric.is_some());
                    for (tag, to) in &o.tag_overrides {
                        match (to.operation(), &to.value) {
                            (TagOperation::Remove, _) => {
                                // A later REMOVE takes out what was upserted before.
                                metrics.upserted_tags.retain(|u| u.tag != *tag);
                                if !metrics.removed_tags.contains(tag) {
                                    metrics.removed_tags.push(tag.clone());
                                }
                            }
                            // meshctl has no custom metrics: nothing to add to. A
                            // value or name outside what the sidecar evaluates (a
                            // resource stored before validation checked it) is left
                            // out rather than NACKing the workload's whole config.
                            (TagOperation::Upsert, Some(value))
                                if !custom
                                    && valid_label_name(tag)
                                    && ValueExpr::parse(value).is_ok() =>
                            {
                                let metric = metric_name(metric).to_owned();
                                metrics.upserted_tags.retain(|u| {
                                    (&u.tag, &u.metric, u.mode) != (tag, &metric, mode)
                                });
                                metrics.upserted_tags.push(TagUpsert {
                                    tag: tag.clone(),
                                    value: value.clone(),
                                    metric,
                                    mode,
                                });
                            }
                            (TagOperation::Upsert, _) => {}
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
