//! Workload-selector analyzers for Sidecars and Telemetries: selectors that match no
//! pod, several resources selecting one pod, several without a selector in one
//! namespace; Sidecars that ambient workloads ignore; Telemetries with no provider.

use std::collections::BTreeMap;

use mesh_api::{FieldPath, Kind};

use crate::context::{annotations, labels, name, ns, selector_string, selects};
use crate::{Entry, Reporter, Snapshot};

fn selector_at(field: &str, sel: &BTreeMap<String, String>) -> FieldPath {
    let at = FieldPath::root().field("spec").field(field);
    let at = if field == "workloadSelector" {
        at.field("labels")
    } else {
        at.field("matchLabels")
    };
    match sel.keys().next() {
        Some(k) => at.key(k),
        None => at,
    }
}

/// Shared logic: report selectors matching no pod in their namespace (IST0101) and
/// pods selected by several resources (`conflict`), and several selector-less
/// resources per namespace (`default_conflict`).
fn check<'a>(
    s: &Snapshot<'a>,
    r: &mut Reporter,
    items: Vec<(&'a Entry, Option<&'a BTreeMap<String, String>>)>,
    field: &str,
    conflict: &'static str,
    default_conflict: &'static str,
) {
    let mut pods_to: BTreeMap<(String, String), Vec<&Entry>> = BTreeMap::new();
    let mut no_selector: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for (e, sel) in items {
        let Some(sel) = sel.filter(|l| !l.is_empty()) else {
            no_selector.entry(ns(e)).or_default().push(e);
            continue;
        };
        let mut found = false;
        for (pe, _) in s.pods_in(ns(e)) {
            if selects(sel, labels(pe)) {
                found = true;
                pods_to
                    .entry((ns(pe).to_owned(), name(pe).to_owned()))
                    .or_default()
                    .push(e);
            }
        }
        if !found {
            r.report(
                e,
                Some(&selector_at(field, sel)),
                "IST0101",
                &["selector".into(), selector_string(sel)],
            );
        }
    }
    let at = FieldPath::root().field("metadata").field("name");
    for ((pns, pod), list) in pods_to {
        if list.len() < 2 {
            continue;
        }
        let names: Vec<&str> = list.iter().map(|e| name(e)).collect();
        for e in &list {
            r.report(
                e,
                Some(&at),
                conflict,
                &[crate::messages::go_list(&names), pns.clone(), pod.clone()],
            );
        }
    }
    for (n, list) in no_selector {
        if list.len() < 2 {
            continue;
        }
        let names: Vec<&str> = list.iter().map(|e| name(e)).collect();
        for e in &list {
            r.report(
                e,
                Some(&at),
                default_conflict,
                &[crate::messages::go_list(&names), n.to_owned()],
            );
        }
    }
}

/// Whether a namespace runs in ambient mode (and not with sidecar injection).
fn namespace_ambient(s: &Snapshot<'_>, namespace: &str) -> bool {
    let Some(e) = s.find(Kind::Namespace, "", namespace) else {
        return false;
    };
    let l = labels(e);
    if l.get("istio-injection").is_some_and(|v| v == "enabled")
        || l.get("istio.io/rev").is_some_and(|v| !v.is_empty())
    {
        return false;
    }
    l.get("istio.io/dataplane-mode")
        .is_some_and(|v| v == "ambient")
}

fn pod_ambient(e: &Entry) -> bool {
    annotations(e)
        .get("ambient.istio.io/redirection")
        .is_some_and(|v| v == "enabled")
}

/// `sidecar.SelectorAnalyzer`: Sidecar selectors match pods, no pod has two
/// Sidecars, at most one selector-less Sidecar per namespace, and Sidecars are not
/// applied to ambient workloads (which have no sidecar to configure).
pub fn sidecars(s: &Snapshot<'_>, r: &mut Reporter) {
    let items: Vec<_> = s
        .sidecars()
        .map(|(e, sc)| (e, sc.spec.workload_selector.as_ref().map(|w| &w.labels)))
        .collect();
    for (e, sel) in &items {
        let ambient = match sel.filter(|l| !l.is_empty()) {
            None => namespace_ambient(s, ns(e)),
            Some(sel) => s
                .pods_in(ns(e))
                .any(|(pe, _)| selects(sel, labels(pe)) && pod_ambient(pe)),
        };
        if ambient {
            let reason = if sel.is_some_and(|l| !l.is_empty()) {
                "the Sidecar selects workloads in ambient mode, which have no sidecar proxy"
            } else {
                "the namespace is in ambient mode, whose workloads have no sidecar proxy"
            };
            r.report(e, None, "IST0167", &[reason.into()]);
        }
    }
    check(s, r, items, "workloadSelector", "IST0110", "IST0111");
}

/// `telemetry.SelectorAnalyzer`: Telemetry selectors match pods and no pod has two
/// Telemetries.
pub fn telemetry_selectors(s: &Snapshot<'_>, r: &mut Reporter) {
    let items: Vec<_> = s
        .telemetries()
        .filter(|(_, t)| {
            t.spec
                .selector
                .as_ref()
                .is_some_and(|sel| !sel.match_labels.is_empty())
        })
        .map(|(e, t)| (e, t.spec.selector.as_ref().map(|w| &w.match_labels)))
        .collect();
    check(s, r, items, "selector", "IST0159", "IST0160");
}

/// `telemetry.DefaultSelectorAnalyzer`: at most one Telemetry without a selector
/// per namespace.
pub fn telemetry_default_selectors(s: &Snapshot<'_>, r: &mut Reporter) {
    let mut by_ns: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for (e, t) in s.telemetries() {
        let has_selector = t
            .spec
            .selector
            .as_ref()
            .is_some_and(|sel| !sel.match_labels.is_empty());
        if !has_selector && t.spec.target_ref.is_none() && t.spec.target_refs.is_empty() {
            by_ns.entry(ns(e)).or_default().push(e);
        }
    }
    let at = FieldPath::root().field("metadata").field("name");
    for (n, list) in by_ns {
        if list.len() < 2 {
            continue;
        }
        let names: Vec<&str> = list.iter().map(|e| name(e)).collect();
        for e in &list {
            r.report(
                e,
                Some(&at),
                "IST0160",
                &[crate::messages::go_list(&names), n.to_owned()],
            );
        }
    }
}

/// `telemetry.ProviderAnalyzer`: a Telemetry entry with no provider, when the mesh
/// config has no default provider for it, configures nothing.
pub fn telemetry_providers(s: &Snapshot<'_>, r: &mut Reporter) {
    let d = &s.mesh.default_providers;
    for (e, t) in s.telemetries() {
        let spec = &t.spec;
        let empty_logging = d.access_logging.is_empty()
            && spec
                .access_logging
                .iter()
                .any(|a| a.providers.is_empty() && a.disabled != Some(true));
        let empty_tracing = d.tracing.is_empty()
            && spec
                .tracing
                .iter()
                .any(|a| a.providers.is_empty() && a.disable_span_reporting != Some(true));
        let empty_metrics = d.metrics.is_empty()
            && spec
                .metrics
                .iter()
                .any(|a| a.providers.is_empty() && !a.overrides.is_empty());
        if empty_logging || empty_tracing || empty_metrics {
            r.report(e, None, "IST0157", &[name(e).into(), ns(e).into()]);
        }
    }
}
