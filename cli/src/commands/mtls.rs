//! `meshctl mtls status`: per workload and port, the inbound mutual-TLS mode the
//! sidecar runs and the PeerAuthentication that decided it (read from each
//! sidecar's running config, so it shows what is enforced, not what is stored);
//! `meshctl mtls mode` writes the PeerAuthentication that sets it.

use mesh_api::proxy::{InboundMtls, InboundPort};
use mesh_control_plane::registry::Workload;
use serde::Serialize;

use crate::cli::{GlobalArgs, MtlsCommand, MtlsModeArg, MtlsModeArgs};
use crate::commands::mesh;
use crate::commands::proxy_config::config_dump;
use crate::liveview::counters::Reporter;
use crate::liveview::snapshot::workload_name;
use crate::liveview::window::Mtls;
use crate::liveview::{Sampler, SamplerOptions};
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
    match cmd {
        MtlsCommand::Status => status(g, out),
        MtlsCommand::Mode(args) => mode(args, g, out),
    }
}

/// The PeerAuthentication `mtls mode` writes: its namespace, name and manifest.
fn policy(
    args: &MtlsModeArgs,
    g: &GlobalArgs,
) -> anyhow::Result<(String, String, serde_json::Value)> {
    let mode = match args.mode {
        MtlsModeArg::Strict => "STRICT",
        MtlsModeArg::Permissive => "PERMISSIVE",
        MtlsModeArg::Disable => "DISABLE",
    };
    let mut spec = serde_json::json!({ "mtls": { "mode": mode } });
    let (namespace, name) = match (&args.workload, &g.namespace) {
        (None, None) => ("istio-system".to_owned(), "default".to_owned()),
        (None, Some(ns)) => (ns.clone(), "default".to_owned()),
        (Some(sel), ns) => {
            let mut labels = serde_json::Map::new();
            for pair in sel.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((k, v)) = pair.split_once('=') else {
                    anyhow::bail!(
                        "--workload {sel:?}: {pair:?} is not key=value; write labels as app=reviews,version=v1"
                    );
                };
                labels.insert(k.trim().to_owned(), v.trim().into());
            }
            if labels.is_empty() {
                anyhow::bail!("--workload is empty: give labels as app=reviews");
            }
            let name: String = labels
                .values()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("-")
                .to_ascii_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            spec["selector"] = serde_json::json!({ "matchLabels": labels });
            (
                ns.clone().unwrap_or_else(|| "default".into()),
                format!("{name}-mtls"),
            )
        }
    };
    let manifest = serde_json::json!({
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": { "name": name, "namespace": namespace },
        "spec": spec,
    });
    Ok((namespace, name, manifest))
}

fn mode(args: &MtlsModeArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let (namespace, name, manifest) = policy(args, g)?;
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    // What the covered workload ports enforce now.
    let workloads: Vec<Workload> = rt.block_on(admin.get("/v1/workloads"))?;
    let selector: Vec<(String, String)> = manifest["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let covered = |w: &Workload| {
        (namespace == "istio-system" || w.namespace == namespace)
            && selector
                .iter()
                .all(|(k, v)| w.labels.get(k).is_some_and(|l| l == v))
    };
    let mut before = Vec::new();
    for w in workloads.iter().filter(|w| covered(w)) {
        let dump = rt.block_on(config_dump(w))?;
        let ports: Vec<InboundPort> =
            serde_json::from_value(dump["config"]["listeners"]["inbound"].clone())
                .unwrap_or_default();
        for p in ports {
            before.push(format!(
                "  {} port {}: {:?} ({})",
                w.proxy_id,
                p.port,
                p.mtls,
                p.mtls_origin.as_deref().unwrap_or("default")
            ));
        }
    }
    out.line(&format!(
        "PeerAuthentication {namespace}/{name}: mtls.mode {:?}{}",
        args.mode,
        args.workload
            .as_deref()
            .map(|s| format!(" for workloads {s}"))
            .unwrap_or_default()
    ))?;
    if !before.is_empty() {
        out.line(
            "now (a policy selecting a workload, or its namespace's, may keep some as they are):",
        )?;
        for line in &before {
            out.line(line)?;
        }
    }
    if args.mode == MtlsModeArg::Strict {
        out.line("STRICT refuses plaintext: clients without a sidecar, or whose sidecar has no certificate, can no longer call these workloads")?;
        let servers: Vec<String> = workloads
            .iter()
            .filter(|w| covered(w))
            .map(|w| format!("{}/{}", w.namespace, workload_name(w)))
            .collect();
        let breaking: Vec<EdgeStatus> = edges(&rt, &admin, None)?
            .into_iter()
            .filter(|e| servers.contains(&e.server) && matches!(e.mtls, Mtls::None | Mtls::Mixed))
            .collect();
        if breaking.is_empty() {
            out.line(
                "no client has called these workloads in plaintext (from the sidecars' metrics)",
            )?;
        } else {
            out.line(
                "warning: these clients call these workloads in plaintext and would be refused:",
            )?;
            for e in &breaking {
                out.line(&format!(
                    "  {} -> {} ({}): {} since the sidecars started",
                    e.client,
                    e.server,
                    e.service,
                    mtls_word(e.mtls)
                ))?;
            }
        }
    }
    if args.dry_run {
        out.line("dry run: nothing was applied")?;
        return Ok(());
    }
    let resp: mesh_control_plane::api::ApplyResponse = rt.block_on(admin.post(
        "/v1/apply",
        &mesh_control_plane::api::ApplyRequest {
            manifests: vec![manifest],
            dry_run: false,
        },
    ))?;
    out.line(&format!(
        "applied at revision {}: `meshctl mtls status` shows the modes once proxies are synced",
        resp.revision
    ))?;
    Ok(())
}

/// Each client -> server edge seen by the sidecars' metrics: whether its
/// requests so far used mutual TLS.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EdgeStatus {
    /// `namespace/workload` of the caller (`unknown/unknown` outside the mesh).
    client: String,
    /// `namespace/workload` of the server.
    server: String,
    /// `service.namespace`.
    service: String,
    /// `mutual_tls`, `none` (plaintext), `mixed` or `unknown`.
    mtls: Mtls,
    /// Requests counted since the sidecars started.
    requests: f64,
    /// Whose metrics tell (`destination`: the server's sidecar saw the peer's
    /// certificate; `source`: the server has no sidecar).
    reporter: Reporter,
}

/// What `mtls status -o json|yaml` prints.
#[derive(Debug, Serialize)]
struct StatusReport {
    ports: Vec<PortStatus>,
    edges: Vec<EdgeStatus>,
}

/// The edges the sidecars have seen (one scrape of every sidecar's metrics).
fn edges(
    rt: &tokio::runtime::Runtime,
    admin: &mesh_control_plane::client::AdminClient,
    namespace: Option<String>,
) -> anyhow::Result<Vec<EdgeStatus>> {
    let mut sampler = Sampler::new(
        admin.clone(),
        SamplerOptions {
            namespace,
            ..SamplerOptions::default()
        },
    );
    let snap = rt.block_on(sampler.sample())?;
    let mut edges: Vec<EdgeStatus> = snap
        .edges
        .into_iter()
        .map(|e| EdgeStatus {
            client: format!("{}/{}", e.key.source_namespace, e.key.source_workload),
            server: format!(
                "{}/{}",
                e.key.destination_namespace, e.key.destination_workload
            ),
            service: format!(
                "{}.{}",
                e.key.destination_service, e.key.destination_service_namespace
            ),
            mtls: e.mtls,
            requests: e.total_requests,
            reporter: e.reporter,
        })
        .collect();
    edges.sort_by(|a, b| (&a.server, &a.client).cmp(&(&b.server, &b.client)));
    Ok(edges)
}

fn mtls_word(m: Mtls) -> &'static str {
    match m {
        Mtls::MutualTls => "mTLS",
        Mtls::None => "plaintext",
        Mtls::Mixed => "mixed",
        Mtls::Unknown => "unknown",
    }
}

fn status(g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
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
    let namespace = (!g.all_namespaces).then(|| g.namespace.clone()).flatten();
    let edges = edges(&rt, &admin, namespace)?;
    if out.is_data() {
        return Ok(out.data(&StatusReport { ports: rows, edges })?);
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
    out.table(
        &[
            "workload",
            "namespace",
            "port",
            "mode",
            "decided by",
            "identity",
        ],
        &table,
    )?;
    out.line("")?;
    if edges.is_empty() {
        out.line("edges: no requests between workloads yet (from the sidecars' metrics)")?;
        return Ok(());
    }
    out.line("edges (every request since the sidecars started, from their metrics):")?;
    let table: Vec<Vec<String>> = edges
        .iter()
        .map(|e| {
            vec![
                e.client.clone(),
                e.server.clone(),
                e.service.clone(),
                mtls_word(e.mtls).into(),
                format!("{}", e.requests),
                format!("{:?}", e.reporter).to_lowercase(),
            ]
        })
        .collect();
    Ok(out.table(
        &[
            "client",
            "server",
            "service",
            "mtls",
            "requests",
            "reported by",
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
