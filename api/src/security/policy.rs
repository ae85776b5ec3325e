//! What the policy kinds share: target references (`targetRef`, `targetRefs`), the
//! one-of between them and a workload selector, and the `istio.io/dry-run` annotation.
//! Telemetry uses these too.

use std::sync::LazyLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::common::WorkloadSelector;
use crate::path::FieldPath;
use crate::validation::Report;

/// A resource a policy attaches to (`targetRef` / `targetRefs`): a Kubernetes
/// `Service`, an Istio `ServiceEntry`, or a Gateway API `Gateway` or `GatewayClass`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyTargetReference {
    /// API group of the target; empty for the core group (`Service`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Kind of the target, such as `Gateway` or `Service`.
    #[serde(default)]
    pub kind: String,
    /// Name of the target, in the policy's namespace.
    #[serde(default)]
    pub name: String,
    /// Must be empty: cross-namespace references are not supported.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

static GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("static regex")
});
static KIND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$").expect("static regex"));

/// The (canonical group, kind) pairs a policy may target; Istio compares kind and group,
/// never version, and writes the core group as `core`.
const ALLOWED_TARGETS: [(&str, &str); 4] = [
    ("core", "Service"),
    ("networking.istio.io", "ServiceEntry"),
    ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "GatewayClass"),
];

impl PolicyTargetReference {
    /// Istio's `validatePolicyTargetReference` plus the CRD's field patterns.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        if self.name.is_empty() {
            r.error(&at.field("name"), "targetRef name must be set");
        } else if self.name.len() > 253 {
            r.error(
                &at.field("name"),
                "targetRef name is too long: at most 253 characters",
            );
        }
        if !self.namespace.is_empty() {
            r.error(
                &at.field("namespace"),
                "targetRef namespace must not be set: cross-namespace references are not supported; the target must be in the policy's namespace",
            );
        }
        if self.group.len() > 253 || !GROUP.is_match(&self.group) {
            r.error(
                &at.field("group"),
                format!(
                    "group {:?} invalid: must be empty (core) or a lowercase DNS subdomain such as gateway.networking.k8s.io",
                    self.group
                ),
            );
        }
        if self.kind.is_empty() {
            r.error(&at.field("kind"), "targetRef kind must be set");
            return;
        }
        if self.kind.len() > 63 || !KIND.is_match(&self.kind) {
            r.error(
                &at.field("kind"),
                format!(
                    "kind {:?} invalid: letters, digits and '-', starting with a letter, at most 63 characters",
                    self.kind
                ),
            );
        }
        let group = if self.group.is_empty() {
            "core"
        } else {
            self.group.as_str()
        };
        if !ALLOWED_TARGETS.contains(&(group, self.kind.as_str())) {
            r.error(
                at,
                format!(
                    "targetRef to {}/{} is not supported: must be a Service (group \"\"), networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway or gateway.networking.k8s.io/GatewayClass",
                    self.group, self.kind
                ),
            );
        }
    }
}

/// How a policy picks its workloads: at most one of `selector`, `targetRef` and
/// `targetRefs` (Istio's `validateOneOfSelectorType`), each valid in itself.
pub(crate) fn validate_targeting(
    selector: Option<&WorkloadSelector>,
    target_ref: Option<&PolicyTargetReference>,
    target_refs: &[PolicyTargetReference],
    at: &FieldPath,
    r: &mut Report,
) {
    let set = usize::from(selector.is_some())
        + usize::from(target_ref.is_some())
        + usize::from(!target_refs.is_empty());
    if set > 1 {
        r.error(
            at,
            "only one of selector, targetRef or targetRefs can be set: a policy selects workloads either by labels or by a target resource",
        );
    }
    if let Some(sel) = selector {
        let here = at.field("selector");
        sel.validate(&here, r);
        if sel.match_labels.is_empty() {
            r.warning(
                &here,
                "workload selector specified without labels: it selects every workload in the namespace; remove it or add matchLabels",
            );
        }
    }
    if let Some(t) = target_ref {
        t.validate(&at.field("targetRef"), r);
    }
    if target_refs.len() > 16 {
        r.error(
            &at.field("targetRefs"),
            format!("{} targetRefs is too many: at most 16", target_refs.len()),
        );
    }
    for (i, t) in target_refs.iter().enumerate() {
        t.validate(&at.field("targetRefs").index(i), r);
    }
}

/// The annotation that makes an AuthorizationPolicy log its decision instead of
/// enforcing it.
pub(crate) const DRY_RUN: &str = "istio.io/dry-run";

/// Where the dry-run annotation sits in the resource, if it is set.
pub(crate) fn dry_run_annotation(meta: &ObjectMeta) -> Option<(FieldPath, &str)> {
    let value = meta.annotations.as_ref()?.get(DRY_RUN)?;
    let at = FieldPath::root()
        .field("metadata")
        .field("annotations")
        .key(DRY_RUN);
    Some((at, value.as_str()))
}

/// Istio rejects the dry-run annotation on every kind but AuthorizationPolicy.
pub(crate) fn reject_dry_run(meta: &ObjectMeta, kind: &str, r: &mut Report) {
    if let Some((at, _)) = dry_run_annotation(meta) {
        r.error(
            &at,
            format!(
                "annotation {DRY_RUN} is not supported on {kind}: only AuthorizationPolicy supports it; remove the annotation"
            ),
        );
    }
}

/// Go's `strconv.ParseBool`, which Istio uses for annotation values.
pub(crate) fn is_go_bool(s: &str) -> bool {
    matches!(
        s,
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False"
    )
}
