//! WorkloadGroup: metadata and a template for the WorkloadEntries of VMs that join
//! the mesh, and how their readiness is probed.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{EndpointUse, WorkloadEntrySpec, validate_workload_entry};
use crate::kind::Kind;
use crate::object::{Object, Spec};
use crate::path::FieldPath;
use crate::validation::{Report, rules};

static PROBE_HEADER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[-A-Za-z0-9]+$").expect("static regex"));

/// A group of workloads (VMs) sharing labels, a WorkloadEntry template and a
/// readiness probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadGroupSpec {
    /// Labels and annotations given to every WorkloadEntry of the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<WorkloadGroupMetadata>,
    /// The WorkloadEntry spec each workload's entry is created from (required);
    /// its address is filled in per workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<WorkloadEntrySpec>,
    /// How the workloads' readiness is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ReadinessProbe>,
}

/// The labels and annotations a WorkloadGroup puts on its WorkloadEntries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadGroupMetadata {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A readiness check of a workload, as in Kubernetes: exactly one of `httpGet`,
/// `tcpSocket`, `exec` or `grpc`, and its timing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadinessProbe {
    /// Seconds after start before the first probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<i32>,
    /// Seconds after which a probe times out (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i32>,
    /// Seconds between probes (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<i32>,
    /// Consecutive successes to be ready again after a failure (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<i32>,
    /// Consecutive failures to become not ready (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<i32>,
    /// Probe with an HTTP GET request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpHealthCheckConfig>,
    /// Probe by opening a TCP connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpHealthCheckConfig>,
    /// Probe by running a command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecHealthCheckConfig>,
    /// Probe with the gRPC health checking protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcHealthCheckConfig>,
}

/// An HTTP GET readiness check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpHealthCheckConfig {
    /// Path to request.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Port to connect to (required).
    #[serde(default)]
    pub port: u32,
    /// Host to connect to; defaults to the workload's IP.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// `HTTP` (the default) or `HTTPS`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scheme: String,
    /// Headers sent with the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_headers: Vec<ProbeHttpHeader>,
}

/// A header sent by an HTTP readiness check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProbeHttpHeader {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// A TCP connect readiness check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcpHealthCheckConfig {
    /// Host to connect to; defaults to localhost.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// Port to connect to (required).
    #[serde(default)]
    pub port: u32,
}

/// A command readiness check: exit status 0 means ready.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecHealthCheckConfig {
    /// The command and its arguments (required).
    #[serde(default)]
    pub command: Vec<String>,
}

/// A gRPC health checking protocol readiness check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrpcHealthCheckConfig {
    /// Port to connect to.
    #[serde(default)]
    pub port: u32,
    /// Fully-qualified name of the gRPC service to check.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service: String,
}

impl Spec for WorkloadGroupSpec {
    const KIND: Kind = Kind::WorkloadGroup;

    /// Istio's `ValidateWorkloadGroup`: a template is required, metadata labels are
    /// valid, the probe is valid. The template gets the CRD schema's checks only
    /// (its address is filled in later).
    fn validate(&self, _meta: &ObjectMeta, r: &mut Report) {
        let at = FieldPath::spec();
        match &self.template {
            None => r.error(
                &at.field("template"),
                "template is required: the WorkloadEntry spec (ports, serviceAccount, network...) of the group's workloads",
            ),
            Some(t) => validate_workload_entry(t, &at.field("template"), r, EndpointUse::Template),
        }
        if let Some(m) = &self.metadata {
            let mat = at.field("metadata");
            rules::check_labels(r, &mat.field("labels"), &m.labels);
            for (field, n) in [
                ("labels", m.labels.len()),
                ("annotations", m.annotations.len()),
            ] {
                if n > 256 {
                    r.error(
                        &mat.field(field),
                        format!("{n} {field} given, at most 256 are allowed"),
                    );
                }
            }
        }
        if let Some(p) = &self.probe {
            p.validate(&at.field("probe"), r);
        }
    }
}

impl ReadinessProbe {
    /// Istio's `validateReadinessProbe`: non-negative timings, exactly one check
    /// method, valid ports, scheme and header names, a command for `exec`.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        for (field, v) in [
            ("initialDelaySeconds", self.initial_delay_seconds),
            ("timeoutSeconds", self.timeout_seconds),
            ("periodSeconds", self.period_seconds),
            ("successThreshold", self.success_threshold),
            ("failureThreshold", self.failure_threshold),
        ] {
            if let Some(v) = v
                && v < 0
            {
                r.error(
                    &at.field(field),
                    format!("{field} {v} invalid: must be non-negative"),
                );
            }
        }
        let set = [
            self.http_get.is_some(),
            self.tcp_socket.is_some(),
            self.exec.is_some(),
            self.grpc.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if set == 0 {
            r.error(
                at,
                "probe needs a health check method: set one of httpGet, tcpSocket, exec or grpc",
            );
        } else if set > 1 {
            r.error(
                at,
                "probe may have only one health check method: set exactly one of httpGet, tcpSocket, exec or grpc",
            );
        }
        if let Some(h) = &self.http_get {
            let hat = at.field("httpGet");
            rules::check_port(r, &hat.field("port"), h.port);
            if !matches!(h.scheme.as_str(), "" | "HTTP" | "HTTPS") {
                r.error(
                    &hat.field("scheme"),
                    format!(
                        "httpGet.scheme {:?} invalid: must be HTTP or HTTPS",
                        h.scheme
                    ),
                );
            }
            for (i, header) in h.http_headers.iter().enumerate() {
                let name_at = hat.field("httpHeaders").index(i).field("name");
                if header.name.is_empty() {
                    r.error(&name_at, "header name cannot be empty");
                } else if !PROBE_HEADER_NAME.is_match(&header.name) {
                    r.error(
                        &name_at,
                        format!(
                            "header name {:?} invalid: only letters, digits and '-' are allowed",
                            header.name
                        ),
                    );
                }
            }
        }
        if let Some(t) = &self.tcp_socket {
            rules::check_port(r, &at.field("tcpSocket").field("port"), t.port);
        }
        if let Some(e) = &self.exec {
            let eat = at.field("exec").field("command");
            if e.command.is_empty() {
                r.error(
                    &eat,
                    "exec.command is required: the command to run and its arguments",
                );
            }
            for (i, c) in e.command.iter().enumerate() {
                if c.is_empty() {
                    r.error(&eat.index(i), "command items must not be empty");
                }
            }
        }
        if let Some(g) = &self.grpc
            && g.port != 0
        {
            rules::check_port(r, &at.field("grpc").field("port"), g.port);
        }
    }
}

/// A WorkloadGroup resource.
pub type WorkloadGroup = Object<WorkloadGroupSpec>;
