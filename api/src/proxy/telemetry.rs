//! A proxy's resolved telemetry: access logging, tracing and metric overrides,
//! as the compiler resolves the mesh config and the Telemetry resources for one
//! workload. Carried in the listeners type (it is per proxy).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::mesh_config::AccessLogEncoding;

/// Which direction of traffic a setting applies to (Telemetry `match.mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrafficMode {
    /// Outbound and inbound.
    #[default]
    ClientAndServer,
    /// Outbound only (this workload is the client).
    Client,
    /// Inbound only (this workload is the server).
    Server,
}

impl TrafficMode {
    /// Whether the setting applies to outbound (`client`) or inbound traffic.
    pub fn applies(self, client: bool) -> bool {
        match self {
            TrafficMode::ClientAndServer => true,
            TrafficMode::Client => client,
            TrafficMode::Server => !client,
        }
    }
}

/// Everything telemetry a proxy does beyond the standard metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryConfig {
    /// Access logging; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLogConfig>,
    /// Tracing; no trace context is created and no spans exported when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    /// Metric changes; the standard metrics unchanged when empty.
    #[serde(default, skip_serializing_if = "MetricsOverrides::is_empty")]
    pub metrics: MetricsOverrides,
    /// What decided this (`MeshConfig`, `Telemetry ns/name`), for `proxy-config`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin: Vec<String>,
}

impl TelemetryConfig {
    /// Nothing to do beyond the standard metrics.
    pub fn is_empty(&self) -> bool {
        self.access_log.is_none() && self.tracing.is_none() && self.metrics.is_empty()
    }
}

/// Where and how access-log lines are written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogConfig {
    /// A file path, or `/dev/stdout` / `/dev/stderr`.
    pub path: String,
    pub encoding: AccessLogEncoding,
    /// A CEL filter (meshctl's subset, see `mesh_api::telemetry::filter`); every
    /// request is logged when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default)]
    pub mode: TrafficMode,
}

/// How the proxy traces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracingConfig {
    /// Percentage (0-100) of new traces sampled; an upstream decision wins.
    pub sampling: f64,
    /// Where spans go; context still propagates without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter: Option<OtlpExporter>,
    /// Tags added to every span.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_tags: BTreeMap<String, TagSource>,
    #[serde(default)]
    pub mode: TrafficMode,
}

/// An OTLP collector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtlpExporter {
    /// The provider's name in the mesh config.
    pub provider: String,
    /// `host:port`.
    pub address: String,
    /// OTLP/HTTP protobuf to this path; OTLP/gRPC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_path: Option<String>,
}

/// Where a custom span tag's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TagSource {
    /// A fixed value.
    Literal(String),
    /// A request header, with a default when absent.
    Header { name: String, default: String },
    /// The proxy's environment variable, with a default when unset.
    Environment { name: String, default: String },
}

/// Telemetry `metrics[].overrides`, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsOverrides {
    /// Metrics not generated, by Istio's name (`REQUEST_COUNT`), with the direction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled: Vec<MetricToggle>,
    /// Labels removed from the request metrics (`REMOVE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_tags: Vec<String>,
    /// Labels added to (or replaced in) the request metrics (`UPSERT`), in
    /// order: a later entry for the same label and metric wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upserted_tags: Vec<TagUpsert>,
}

impl MetricsOverrides {
    /// No change.
    pub fn is_empty(&self) -> bool {
        self.disabled.is_empty() && self.removed_tags.is_empty() && self.upserted_tags.is_empty()
    }
}

/// One `UPSERT` tag override: a label and its value expression, for a metric
/// and direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagUpsert {
    /// The label name (a standard label's name replaces its value).
    pub tag: String,
    /// The value, in meshctl's CEL subset (`mesh_api::telemetry::filter::ValueExpr`).
    pub value: String,
    /// Istio's metric name (`REQUEST_COUNT`), `ALL_METRICS` for every request metric.
    #[serde(default = "all_metrics")]
    pub metric: String,
    #[serde(default)]
    pub mode: TrafficMode,
}

fn all_metrics() -> String {
    "ALL_METRICS".to_owned()
}

/// One disabled metric in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricToggle {
    /// Istio's metric name (`REQUEST_COUNT`, `ALL_METRICS`).
    pub metric: String,
    #[serde(default)]
    pub mode: TrafficMode,
}
