//! The installed mesh as `analyze`, `diff` and `apply` see it: its stored resources
//! and running workloads, turned into analyzer input, and the findings a change
//! introduces or fixes.

use std::collections::BTreeSet;
use std::path::Path;

use mesh_analyzer::{Entry, Finding, MeshConfig};
use mesh_api::{Kind, Resource};
use mesh_control_plane::api::StoredEntry;
use mesh_control_plane::registry::Workload;

use crate::commands::mesh;

/// Whether a control plane runs for this mesh home and answers.
pub fn mesh_answers(home: &Path) -> bool {
    if mesh::running(home).is_none() {
        return false;
    }
    let (Ok(admin), Ok(rt)) = (mesh::admin(home), mesh::runtime()) else {
        return false;
    };
    rt.block_on(admin.ready())
}

/// The stored resources and the running workloads.
pub fn fetch(home: &Path) -> anyhow::Result<(Vec<Resource>, Vec<Workload>)> {
    let admin = mesh::admin(home)?;
    let rt = mesh::runtime()?;
    let stored: Vec<StoredEntry> = rt.block_on(admin.get("/v1/resources"))?;
    let workloads: Vec<Workload> = rt.block_on(admin.get("/v1/workloads"))?;
    let resources = stored
        .into_iter()
        .filter_map(|s| Resource::from_json(s.manifest).ok())
        .collect();
    Ok((resources, workloads))
}

fn key(r: &Resource) -> (Kind, String, String) {
    let m = r.metadata();
    (
        r.kind(),
        m.namespace.clone().unwrap_or_default(),
        m.name.clone().unwrap_or_default(),
    )
}

/// `stored` with `changes` applied: a changed resource replaces the stored one in
/// place, a new one is added at the end.
pub fn layer(stored: &[Resource], changes: &[Resource]) -> Vec<Resource> {
    let mut out = stored.to_vec();
    for c in changes {
        match out.iter_mut().find(|r| key(r) == key(c)) {
            Some(r) => *r = c.clone(),
            None => out.push(c.clone()),
        }
    }
    out
}

/// Analyzer input for a live mesh: the resources, each workload as a pod with its
/// sidecar, a Service for each service workloads registered that has no Service
/// object, and the namespaces in use (injected: every local workload has a
/// sidecar).
pub fn analyzer_entries(resources: Vec<Resource>, workloads: &[Workload]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = resources.into_iter().map(Entry::new).collect();
    let exists = |entries: &[Entry], kind: Kind, ns: &str, name: &str| {
        entries.iter().any(|e| {
            let m = e.resource.metadata();
            e.resource.kind() == kind
                && m.name.as_deref() == Some(name)
                && m.namespace.as_deref().unwrap_or("") == ns
        })
    };
    let mut namespaces: BTreeSet<String> = entries
        .iter()
        .filter_map(|e| e.resource.metadata().namespace.clone())
        .collect();
    let mut synthesized = Vec::new();
    for w in workloads {
        namespaces.insert(w.namespace.clone());
        synthesized.push(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": w.proxy_id, "namespace": w.namespace, "labels": w.labels},
            "spec": {"containers": [{"name": w.service}, {"name": "istio-proxy", "image": "meshctl"}]},
        }));
    }
    let mut services: BTreeSet<(String, String)> = BTreeSet::new();
    for w in workloads {
        if exists(&entries, Kind::Service, &w.namespace, &w.service)
            || !services.insert((w.namespace.clone(), w.service.clone()))
        {
            continue;
        }
        let ports: Vec<serde_json::Value> = w
            .ports
            .iter()
            .map(|p| {
                let proto = match p.protocol {
                    Some(mesh_api::proxy::Protocol::Http2) => "http2",
                    Some(mesh_api::proxy::Protocol::Grpc) => "grpc",
                    Some(mesh_api::proxy::Protocol::Tcp) => "tcp",
                    _ => "http",
                };
                let name = if p.name.is_empty() {
                    format!("{proto}-{}", p.port)
                } else {
                    p.name.clone()
                };
                serde_json::json!({"name": name, "port": p.port, "protocol": "TCP"})
            })
            .collect();
        synthesized.push(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": w.service, "namespace": w.namespace},
            "spec": {"ports": ports, "selector": {"app": w.service}},
        }));
    }
    for ns in namespaces {
        if !exists(&entries, Kind::Namespace, "", &ns) {
            synthesized.push(serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}},
            }));
        }
    }
    entries.extend(
        synthesized
            .into_iter()
            .filter_map(|j| Resource::from_json(j).ok())
            .map(Entry::new),
    );
    entries
}

/// The findings `after` has that `before` had not (introduced), and those it no
/// longer has (fixed). Findings compare by code, resource and message.
pub fn finding_changes(
    before: Vec<Entry>,
    after: Vec<Entry>,
    mesh: &MeshConfig,
) -> anyhow::Result<(Vec<Finding>, Vec<Finding>)> {
    let b = mesh_analyzer::analyze(&before, mesh, &[])?;
    let a = mesh_analyzer::analyze(&after, mesh, &[])?;
    let id = |f: &Finding| (f.code, f.origin.clone(), f.message.clone());
    let bs: BTreeSet<_> = b.iter().map(id).collect();
    let as_: BTreeSet<_> = a.iter().map(id).collect();
    let introduced = a.iter().filter(|f| !bs.contains(&id(f))).cloned().collect();
    let fixed = b.into_iter().filter(|f| !as_.contains(&id(f))).collect();
    Ok((introduced, fixed))
}
