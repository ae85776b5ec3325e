//! Authorization policy analyzers: policies whose selector matches no workload, and
//! namespaces named in rules that do not exist.

use std::collections::{BTreeMap, BTreeSet};

use mesh_api::FieldPath;

use super::workloads::pod_in_mesh;
use crate::context::{labels, name, ns, selector_string, selects};
use crate::{Reporter, Snapshot};

fn namespace_match(ns: &str, exp: &str) -> bool {
    if exp == "*" {
        return true;
    }
    if let Some(suffix) = exp.strip_prefix('*') {
        return ns.ends_with(suffix);
    }
    if let Some(prefix) = exp.strip_suffix('*') {
        return ns.starts_with(prefix);
    }
    ns.eq_ignore_ascii_case(exp)
}

/// `auth.AuthorizationPoliciesAnalyzer`: a policy's selector matches a workload in
/// the mesh (anywhere, for a root-namespace policy), a namespace-wide policy has
/// workloads to apply to, and namespaces in its rules exist.
pub fn authorization_policies(s: &Snapshot<'_>, r: &mut Reporter) {
    let mut in_mesh: BTreeMap<&str, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for (e, _) in s.pods() {
        let v = in_mesh.entry(ns(e)).or_default();
        if pod_in_mesh(s, e) {
            v.push(labels(e));
        }
    }
    // Namespaces that exist: Namespace objects, and any namespace a resource lives
    // in (files rarely include Namespace objects; a live mesh creates them
    // implicitly).
    let mut namespaces: BTreeSet<&str> = s.namespaces().map(|(e, _)| name(e)).collect();
    namespaces.extend(s.all().map(ns).filter(|n| !n.is_empty()));
    let root = s.mesh.root_namespace();
    for (e, ap) in s.authorization_policies() {
        let apns = ns(e);
        let selector = ap.spec.selector.as_ref().map(|sel| &sel.match_labels);
        let matches_in = |n: &str, sel: &BTreeMap<String, String>| {
            in_mesh
                .get(n)
                .is_some_and(|pods| pods.iter().any(|l| selects(sel, l)))
        };
        if apns == root {
            if let Some(sel) = selector
                && !in_mesh.keys().any(|n| matches_in(n, sel))
            {
                r.report(e, None, "IST0127", &[selector_string(sel)]);
            }
        } else {
            match selector {
                None => {
                    if in_mesh.get(apns).is_none_or(|p| p.is_empty()) {
                        r.report(e, None, "IST0127", &[String::new()]);
                    }
                }
                Some(sel) => {
                    if !matches_in(apns, sel) {
                        r.report(e, None, "IST0127", &[selector_string(sel)]);
                    }
                }
            }
        }
        for (i, rule) in ap.spec.rules.iter().enumerate() {
            for (j, from) in rule.from.iter().enumerate() {
                let Some(src) = &from.source else { continue };
                let src_at = FieldPath::root()
                    .field("spec")
                    .field("rules")
                    .index(i)
                    .field("from")
                    .index(j)
                    .field("source");
                let all = src
                    .namespaces
                    .iter()
                    .enumerate()
                    .map(|(k, n)| ("namespaces", k, n));
                let all = all.chain(
                    src.not_namespaces
                        .iter()
                        .enumerate()
                        .map(|(k, n)| ("notNamespaces", k, n)),
                );
                for (field, k, exp) in all {
                    if !namespaces.iter().any(|n| namespace_match(n, exp)) {
                        r.report(
                            e,
                            Some(&src_at.field(field).index(k)),
                            "IST0101",
                            &["namespace".into(), exp.clone()],
                        );
                    }
                }
            }
        }
    }
}
