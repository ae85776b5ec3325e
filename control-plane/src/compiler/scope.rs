//! Istio's precedence for workload policies (PeerAuthentication, Telemetry):
//! a policy whose selector matches the workload, in its namespace, over the
//! namespace's policy without a selector, over the mesh's (no selector, in the
//! root namespace `istio-system`). At each level the first policy in resource
//! order counts (Istio takes the oldest).

use std::collections::BTreeMap;

use mesh_api::common::WorkloadSelector;

/// Istio's default root namespace: its policies apply mesh-wide.
pub const ROOT_NAMESPACE: &str = "istio-system";

/// A policy that applies by namespace and an optional workload selector.
pub(crate) trait Scoped {
    /// The policy's namespace.
    fn namespace(&self) -> &str;
    /// Its selector, if any (an empty one selects nothing in particular: the
    /// policy is namespace-wide).
    fn selector(&self) -> Option<&WorkloadSelector>;
}

/// Whether `p` selects workloads (a non-empty selector).
pub(crate) fn is_selective<P: Scoped>(p: &P) -> bool {
    p.selector().is_some_and(|s| !s.match_labels.is_empty())
}

/// The policies that apply to a workload in `namespace` with `labels`, most
/// specific first: the workload's, the namespace's, the mesh's (each only if
/// there is one; the namespace's is skipped for a workload in the root
/// namespace, whose namespace policy is the mesh's).
pub(crate) fn applicable<'a, P: Scoped>(
    policies: &'a [P],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<&'a P> {
    let workload = policies.iter().find(|p| {
        p.namespace() == namespace
            && is_selective(*p)
            && p.selector().is_some_and(|s| s.matches(labels))
    });
    let wide = |ns: &str| {
        policies
            .iter()
            .find(|p| p.namespace() == ns && !is_selective(*p))
    };
    let mut out: Vec<&P> = workload.into_iter().collect();
    if namespace != ROOT_NAMESPACE {
        out.extend(wide(namespace));
    }
    out.extend(wide(ROOT_NAMESPACE));
    out
}
