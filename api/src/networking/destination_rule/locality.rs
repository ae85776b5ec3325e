//! Locality-aware load balancing of a DestinationRule, with Istio's
//! `ValidateLocalityLbSetting`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::OutlierDetection;
use crate::path::FieldPath;
use crate::validation::Report;

/// Locality-aware load balancing: weighted `distribute`, region `failover`, or
/// label-based `failoverPriority`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalityLoadBalancerSetting {
    /// Traffic weights per destination locality, by source locality.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distribute: Vec<LocalityDistribute>,
    /// Region to fail over to, by source region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover: Vec<LocalityFailover>,
    /// Ordered labels (`key` or `key=value`) ranking endpoints for failover.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover_priority: Vec<String>,
    /// Turn locality load balancing on or off for this destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// How traffic from one locality is spread over destination localities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalityDistribute {
    /// Source locality, `region/zone/subzone`, a trailing `*` allowed.
    #[serde(default)]
    pub from: String,
    /// Destination locality to weight (weights sum to 100).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub to: BTreeMap<String, u32>,
}

/// Where traffic from a region fails over to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalityFailover {
    /// Source region.
    #[serde(default)]
    pub from: String,
    /// Region to fail over to.
    #[serde(default)]
    pub to: String,
}

const TOPOLOGY_LABELS: &[&str] = &[
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
];

impl LocalityLoadBalancerSetting {
    /// Istio's `ValidateLocalityLbSetting`.
    pub fn validate(&self, at: &FieldPath, outlier: Option<&OutlierDetection>, r: &mut Report) {
        if !self.distribute.is_empty() && !self.failover.is_empty() {
            r.error(
                at,
                "can not simultaneously specify 'distribute' and 'failover': use one of them",
            );
            return;
        }
        if !self.failover.is_empty() {
            for (i, label) in self.failover_priority.iter().enumerate() {
                if TOPOLOGY_LABELS.contains(&label.as_str()) {
                    r.error(
                        &at.field("failoverPriority").index(i),
                        format!("can not simultaneously set 'failover' and topology label {label:?} in 'failoverPriority'"),
                    );
                    return;
                }
            }
        }
        let mut froms = Vec::new();
        for (i, d) in self.distribute.iter().enumerate() {
            let d_at = at.field("distribute").index(i);
            froms.push((d_at.field("from"), d.from.as_str()));
            let mut total: u64 = 0;
            for (loc, w) in &d.to {
                if !(1..=100).contains(w) {
                    r.error(
                        &d_at.field("to").key(loc),
                        format!("locality weight {w} invalid: must be in range 1..100"),
                    );
                    return;
                }
                total += u64::from(*w);
            }
            if total != 100 {
                r.error(
                    &d_at.field("to"),
                    format!("total locality weight {total} invalid: the weights must sum to 100"),
                );
                return;
            }
            let tos: Vec<_> =
                d.to.keys()
                    .map(|k| (d_at.field("to").key(k), k.as_str()))
                    .collect();
            check_localities(&tos, r);
        }
        check_localities(&froms, r);
        if (!self.failover.is_empty() || !self.failover_priority.is_empty()) && outlier.is_none() {
            r.warning(
                at,
                "outlier detection policy must be provided for failover: without outlierDetection unhealthy endpoints are never detected",
            );
        }
        for (i, f) in self.failover.iter().enumerate() {
            let f_at = at.field("failover").index(i);
            if f.from == f.to {
                r.error(
                    &f_at,
                    format!("locality lb failover settings must specify different regions (from and to are both {:?})", f.from),
                );
            }
            if f.from.contains('/') || f.to.contains('/') {
                r.error(
                    &f_at,
                    "locality lb failover only specifies regions: 'from' and 'to' must not contain '/'",
                );
            }
            if f.from.contains('*') || f.to.contains('*') {
                r.error(
                    &f_at,
                    "locality lb failover region should not contain '*' wildcard",
                );
            }
        }
    }
}

/// Istio's `validateLocalities`: `region[/zone[/subzone]]`, at most one `*` and only
/// at the end, no empty parts, no locality overlapping an earlier one. Reports the
/// first problem only, as Istio does.
fn check_localities(locs: &[(FieldPath, &str)], r: &mut Report) {
    type Zones = BTreeMap<String, BTreeMap<String, bool>>;
    let mut seen: BTreeMap<String, Zones> = BTreeMap::new();
    let star = || String::from("*");
    for (at, loc) in locs {
        let n = loc.matches('*').count();
        if n > 1 || (n == 1 && !loc.ends_with('*')) {
            r.error(
                at,
                format!("locality {loc:?} invalid: at most one wildcard '*', and only at the end"),
            );
            return;
        }
        let overlap = || format!("locality {loc:?} overlaps with a previously specified one");
        if seen.contains_key("*") {
            r.error(at, overlap());
            return;
        }
        let parts: Vec<&str> = loc.splitn(3, '/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            r.error(
                at,
                format!("locality {loc:?} invalid: must not contain an empty region/zone/subzone"),
            );
            return;
        }
        let region = parts[0].to_owned();
        match parts.len() {
            1 => {
                if seen.contains_key(&region) {
                    r.error(at, overlap());
                    return;
                }
                seen.insert(region, [(star(), [(star(), true)].into())].into());
            }
            2 => {
                let zone = parts[1].to_owned();
                let zones = seen.entry(region).or_default();
                if zones.contains_key("*") || zones.contains_key(&zone) {
                    r.error(at, overlap());
                    return;
                }
                zones.insert(zone, [(star(), true)].into());
            }
            _ => {
                let zone = parts[1].to_owned();
                let sub = parts[2].to_owned();
                let zones = seen.entry(region).or_default();
                if zones.contains_key("*") {
                    r.error(at, overlap());
                    return;
                }
                let subs = zones.entry(zone).or_default();
                if subs.get("*").copied().unwrap_or(false)
                    || subs.get(&sub).copied().unwrap_or(false)
                {
                    r.error(at, overlap());
                    return;
                }
                subs.insert(sub, true);
            }
        }
    }
}
