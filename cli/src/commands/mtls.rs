//! `meshctl mtls status`: per workload and port, the inbound mutual-TLS mode the
//! sidecar runs and the PeerAuthentication that decided it (read from each
//! sidecar's running config, so it shows what is enforced, not what is stored).

use mesh_api::proxy::{InboundMtls, InboundPort};
use mesh_control_plane::registry::Workload;
use serde::Serialize;

use crate::cli::{GlobalArgs, MtlsCommand};
use crate::commands::mesh;
use crate::commands::proxy_config::config_dump;
use crate::output::Output;

/// One workload port's mode, as `-o json|yaml` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PortStatus {
    workload: String,
    namespace: String,
    identity: String,
    port: u16,
    mode: InboundMtls,
    /// `PeerAuthentication ns/name`, or `default` (PERMISSIVE, no policy).
    policy: String,
}

pub fn run(cmd: &MtlsCommand, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let MtlsCommand::Status = cmd;
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    let workloads: Vec<Workload> = rt.block_on(admin.get("/v1/workloads"))?;
    let mut rows: Vec<PortStatus> = Vec::new();
    for w in workloads.iter().filter(|w| in_scope(w, g)) {
        let dump = rt.block_on(config_dump(w))?;
        let ports: Vec<InboundPort> =
            serde_json::from_value(dump["config"]["listeners"]["inbound"].clone())
                .unwrap_or_default();
        let sa = if w.service_account.is_empty() {
            "default"
        } else {
            &w.service_account
        };
        for p in ports {
            rows.push(PortStatus {
                workload: w.proxy_id.clone(),
                namespace: w.namespace.clone(),
                identity: format!("ns/{}/sa/{sa}", w.namespace),
                port: p.port,
                mode: p.mtls,
                policy: p.mtls_origin.unwrap_or_else(|| "default".into()),
            });
        }
    }
    rows.sort_by(|a, b| {
        (&a.namespace, &a.workload, a.port).cmp(&(&b.namespace, &b.workload, b.port))
    });
    if out.is_data() {
        return Ok(out.data(&rows)?);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.workload.clone(),
                r.namespace.clone(),
                r.port.to_string(),
                format!("{:?}", r.mode).to_uppercase(),
                r.policy.clone(),
                r.identity.clone(),
            ]
        })
        .collect();
    Ok(out.table(
        &[
            "workload",
            "namespace",
            "port",
            "mode",
            "decided by",
            "identity",
        ],
        &table,
    )?)
}

/// `-n NS` limits to one namespace; `-A` (or neither) shows all.
fn in_scope(w: &Workload, g: &GlobalArgs) -> bool {
    match (&g.namespace, g.all_namespaces) {
        (Some(ns), false) => &w.namespace == ns,
        _ => true,
    }
}
