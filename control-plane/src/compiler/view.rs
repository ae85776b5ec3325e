//! A proxy's *view*: what its clusters, endpoints and routes depend on besides
//! the mesh itself. Istio's semantics make that the proxy's namespace
//! (`exportTo`, `sourceNamespace`, short host names) and the labels that some
//! selector in the mesh could test (`workloadSelector`, `sourceLabels`); every
//! other label is invisible to the compiler. Proxies with equal views get equal
//! clusters, endpoints and routes, so the push loop compiles and encodes them
//! once per view instead of once per proxy.

use std::collections::{BTreeMap, BTreeSet};

use mesh_api::Resource;

use crate::registry::Workload;

/// Fields of a resource's spec that hold label maps selecting workloads. Every
/// map under one of these names, at any depth, counts; being generous here only
/// costs a few more views, while missing a selector would let two proxies that a
/// rule tells apart share a config.
const LABEL_MAP_FIELDS: [&str; 4] = ["matchLabels", "sourceLabels", "labels", "selector"];

/// The namespace and the selector-relevant labels of a proxy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ViewKey {
    pub namespace: String,
    /// The proxy's labels whose keys some selector in the mesh names.
    pub labels: BTreeMap<String, String>,
}

/// Every label key named by a label map in any resource's spec, except the
/// kinds whose label maps only ever select or describe *endpoints*, never the
/// proxy being compiled for: a ServiceEntry's `workloadSelector` and endpoint
/// labels, a WorkloadEntry's or WorkloadGroup's own labels. (A mesh of
/// thousands of WorkloadEntries labelled `app` would otherwise split every
/// service's proxies into views of their own, and these kinds are also the
/// most numerous, so skipping them saves encoding each one here.) Likewise a
/// DestinationRule's `subsets[].labels` select the endpoints of a subset, never
/// the client: only its `workloadSelector` tells clients apart (otherwise every
/// `version` label of the mesh would double the views).
pub fn selector_keys(resources: &[Resource]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for r in resources {
        if matches!(
            r,
            Resource::ServiceEntry(_) | Resource::WorkloadEntry(_) | Resource::WorkloadGroup(_)
        ) {
            continue;
        }
        let Some(mut spec) = r.to_json().get_mut("spec").map(serde_json::Value::take) else {
            continue;
        };
        if matches!(r, Resource::DestinationRule(_))
            && let Some(spec) = spec.as_object_mut()
        {
            spec.remove("subsets");
        }
        collect(&spec, &mut keys);
    }
    keys
}

fn collect(v: &serde_json::Value, keys: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (field, value) in map {
                if LABEL_MAP_FIELDS.contains(&field.as_str())
                    && let serde_json::Value::Object(labels) = value
                {
                    keys.extend(labels.keys().cloned());
                }
                collect(value, keys);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, keys)),
        _ => {}
    }
}

/// The view of `proxy` when selectors name `keys`.
pub fn view_key(proxy: &Workload, keys: &BTreeSet<String>) -> ViewKey {
    ViewKey {
        namespace: super::workload_namespace(proxy).to_owned(),
        labels: proxy
            .labels
            .iter()
            .filter(|(k, _)| keys.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}
