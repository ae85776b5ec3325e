//! `meshctl diff -f PATH`: what applying the files would change, before it does:
//! the resources against the store, the analysis findings introduced or fixed, and
//! each proxy's compiled routes, clusters and endpoints, in words.

use std::collections::{BTreeMap, BTreeSet};

use mesh_analyzer::{Finding, MeshConfig};
use mesh_api::common::StringMatch;
use mesh_api::load::{self, UnknownKinds};
use mesh_api::proxy::{ProxyConfig, Route, RouteAction};
use mesh_api::{Resource, Severity};
use mesh_control_plane::compiler::{MeshIndex, MeshState};
use serde::Serialize;
use similar::TextDiff;

use crate::cli::{DiffArgs, GlobalArgs};
use crate::commands::{live, mesh, validate};
use crate::exit::{self, Exit};
use crate::output::{self, Output};

/// One resource of the files, against the store.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    pub resource: String,
    /// `created`, `changed` or `unchanged`.
    pub change: &'static str,
    /// Unified diff of the stored and the new manifest (YAML), when changed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
}

/// What changes for one or more proxies (grouped when the change is the same).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyChange {
    pub proxies: Vec<String>,
    pub changes: Vec<String>,
}

/// The whole diff, as `-o json|yaml` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffReport {
    pub resources: Vec<ResourceChange>,
    pub introduced: Vec<Finding>,
    pub fixed: Vec<Finding>,
    pub proxies: Vec<ProxyChange>,
}

fn yaml(r: &Resource) -> String {
    serde_saphyr::to_string(&r.to_json()).unwrap_or_default()
}

/// Load the files as `apply` does: anything invalid stops with exit 65.
pub fn load_changes(
    files: &[std::path::PathBuf],
    g: &GlobalArgs,
    out: &Output,
) -> anyhow::Result<Vec<Resource>> {
    let loaded = load::load(load::read_inputs(files), UnknownKinds::Error);
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(load::validate(&loaded));
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        validate::print_diagnostics(&diagnostics, out)?;
        return Err(Exit::with(exit::DATA));
    }
    for d in diagnostics.iter().filter(|d| d.severity != Severity::Info) {
        out.note(&validate::render(d, out))?;
    }
    let ns = g.namespace.clone().unwrap_or_else(|| "default".into());
    Ok(loaded
        .objects
        .into_iter()
        .map(|o| {
            let mut r = o.resource;
            if r.kind().info().namespaced && r.metadata().namespace.is_none() {
                r.metadata_mut().namespace = Some(ns.clone());
            }
            r
        })
        .collect())
}

pub fn run(args: &DiffArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let changes = load_changes(&args.files, g, out)?;
    let (stored, workloads) = live::fetch(&mesh::home(g))?;
    let after = live::layer(&stored, &changes);
    let resources = changes
        .iter()
        .map(|c| {
            let r = c.reference().to_string();
            let old = stored
                .iter()
                .find(|s| s.reference() == c.reference() && s.kind() == c.kind());
            match old {
                None => ResourceChange {
                    resource: r,
                    change: "created",
                    diff: String::new(),
                },
                Some(o) if yaml(o) == yaml(c) => ResourceChange {
                    resource: r,
                    change: "unchanged",
                    diff: String::new(),
                },
                Some(o) => {
                    let (a, b) = (yaml(o), yaml(c));
                    let diff = TextDiff::from_lines(&a, &b)
                        .unified_diff()
                        .context_radius(3)
                        .header("stored", "new")
                        .to_string();
                    ResourceChange {
                        resource: r,
                        change: "changed",
                        diff,
                    }
                }
            }
        })
        .collect();
    let (introduced, fixed) = live::finding_changes(
        live::analyzer_entries(stored.clone(), &workloads),
        live::analyzer_entries(after.clone(), &workloads),
        &MeshConfig::default(),
    )?;
    let before_index = MeshIndex::new(&MeshState {
        resources: &stored,
        workloads: &workloads,
    });
    let after_index = MeshIndex::new(&MeshState {
        resources: &after,
        workloads: &workloads,
    });
    let mut grouped: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for w in &workloads {
        let c = config_changes(&before_index.compile_for(w), &after_index.compile_for(w));
        if !c.is_empty() {
            grouped.entry(c).or_default().push(w.proxy_id.clone());
        }
    }
    let proxies = grouped
        .into_iter()
        .map(|(changes, proxies)| ProxyChange { proxies, changes })
        .collect();
    let report = DiffReport {
        resources,
        introduced,
        fixed,
        proxies,
    };
    if out.is_data() {
        out.data(&report)?;
    } else {
        print_text(&report, out)?;
    }
    Ok(())
}

fn print_text(r: &DiffReport, out: &Output) -> std::io::Result<()> {
    for c in &r.resources {
        out.line(&format!(
            "{} {}",
            out.paint(output::BOLD, &c.resource),
            c.change
        ))?;
        for l in c.diff.lines() {
            let style = if l.starts_with('+') && !l.starts_with("+++") {
                output::OK
            } else if l.starts_with('-') && !l.starts_with("---") {
                output::ERROR
            } else {
                output::DIM
            };
            out.line(&format!("  {}", out.paint(style, l)))?;
        }
    }
    if r.introduced.is_empty() && r.fixed.is_empty() {
        out.line("analysis: no findings introduced or fixed")?;
    }
    for (what, list) in [("introduces", &r.introduced), ("fixes", &r.fixed)] {
        if list.is_empty() {
            continue;
        }
        out.line(&format!("analysis: the change {what}:"))?;
        for f in list {
            out.line(&format!("  {f}"))?;
        }
    }
    if r.proxies.is_empty() {
        out.line("proxies: no compiled config changes")?;
    }
    for p in &r.proxies {
        out.line(&format!(
            "proxies {}:",
            out.paint(output::BOLD, &p.proxies.join(", "))
        ))?;
        for c in &p.changes {
            out.line(&format!("  {c}"))?;
        }
    }
    Ok(())
}

/// `reviews.default.svc.cluster.local:9080` as `reviews.default:9080`.
fn short_host(h: &str) -> String {
    h.replace(".svc.cluster.local", "")
}

fn describe_match(m: &StringMatch) -> String {
    match (&m.exact, &m.prefix, &m.regex) {
        (Some(e), _, _) => format!("= {e:?}"),
        (_, Some(p), _) => format!("prefix {p:?}"),
        (_, _, Some(r)) => format!("~ {r:?}"),
        _ => "present".into(),
    }
}

/// `uri prefix "/x", header end-user = "jason": 80% v1 / 20% v2`.
fn describe_route(r: &Route) -> String {
    let mut conds: Vec<String> = Vec::new();
    for m in &r.matches {
        let mut parts = Vec::new();
        if let Some(u) = &m.uri {
            parts.push(format!("uri {}", describe_match(u)));
        }
        if let Some(u) = &m.method {
            parts.push(format!("method {}", describe_match(u)));
        }
        for (k, v) in &m.headers {
            parts.push(format!("header {k} {}", describe_match(v)));
        }
        for (k, v) in &m.query_params {
            parts.push(format!("query {k} {}", describe_match(v)));
        }
        for k in m.without_headers.keys() {
            parts.push(format!("without header {k}"));
        }
        conds.push(if parts.is_empty() {
            "any request".into()
        } else {
            parts.join(" and ")
        });
    }
    let action = match &r.action {
        RouteAction::Forward(f) => {
            let total: u32 = f.clusters.iter().map(|c| c.weight).sum::<u32>().max(1);
            f.clusters
                .iter()
                .map(|c| {
                    let mut parts = c.cluster.split('|');
                    let subset = parts.nth(2).filter(|s| !s.is_empty());
                    let svc = parts.next().map(short_host).unwrap_or_default();
                    let target = match subset {
                        Some(s) => s.to_owned(),
                        None => svc,
                    };
                    format!("{}% {target}", c.weight * 100 / total)
                })
                .collect::<Vec<_>>()
                .join(" / ")
        }
        RouteAction::DirectResponse { status, .. } => format!("respond {status}"),
        RouteAction::Redirect { status, .. } => format!("redirect ({status})"),
    };
    if conds.is_empty() {
        action
    } else {
        format!("{}: {action}", conds.join(" or "))
    }
}

/// The differences between two compiled configs, in words.
fn config_changes(before: &ProxyConfig, after: &ProxyConfig) -> Vec<String> {
    let mut out = Vec::new();
    let vhosts = |c: &ProxyConfig| -> BTreeMap<String, Vec<String>> {
        c.routes
            .virtual_hosts
            .iter()
            .map(|v| {
                (
                    v.name.clone(),
                    v.routes.iter().map(describe_route).collect(),
                )
            })
            .collect()
    };
    let (b, a) = (vhosts(before), vhosts(after));
    for name in b.keys().chain(a.keys()).collect::<BTreeSet<_>>() {
        let (old, new) = (b.get(name), a.get(name));
        if old == new {
            continue;
        }
        let host = short_host(name);
        match (old, new) {
            (Some(o), Some(n)) if o.len() == 1 && n.len() == 1 => {
                out.push(format!("routes {host}: {} → {}", o[0], n[0]))
            }
            (o, n) => {
                out.push(format!("routes {host}:"));
                for r in o.into_iter().flatten() {
                    out.push(format!("  - {r}"));
                }
                for r in n.into_iter().flatten() {
                    out.push(format!("  + {r}"));
                }
            }
        }
    }
    let names = |c: &ProxyConfig| -> BTreeSet<String> {
        c.clusters.iter().map(|c| c.name.clone()).collect()
    };
    let (bc, ac) = (names(before), names(after));
    for c in ac.difference(&bc) {
        out.push(format!("cluster added: {c}"));
    }
    for c in bc.difference(&ac) {
        out.push(format!("cluster removed: {c}"));
    }
    let counts = |c: &ProxyConfig| -> BTreeMap<String, usize> {
        c.endpoints
            .iter()
            .map(|e| (e.cluster.clone(), e.endpoints.len()))
            .collect()
    };
    let (be, ae) = (counts(before), counts(after));
    for (cluster, n) in &ae {
        let old = be.get(cluster).copied().unwrap_or(0);
        if old != *n && bc.contains(cluster) {
            out.push(format!("endpoints of {cluster}: {old} → {n}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesh_api::proxy::{Forward, WeightedCluster};

    #[test]
    fn weighted_routes_read_as_shares_of_subsets() {
        let route = Route {
            name: String::new(),
            matches: Vec::new(),
            origin: None,
            fault: None,
            headers: Default::default(),
            cors: None,
            action: RouteAction::Forward(Forward {
                clusters: vec![
                    WeightedCluster {
                        cluster: "outbound|9080|v1|reviews.default.svc.cluster.local".into(),
                        weight: 80,
                        ..Default::default()
                    },
                    WeightedCluster {
                        cluster: "outbound|9080|v2|reviews.default.svc.cluster.local".into(),
                        weight: 20,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        };
        assert_eq!(describe_route(&route), "80% v1 / 20% v2");
    }
}
