//! `meshctl proxy-status [NAME]`: is every proxy running what it was sent?

use mesh_control_plane::server::{ProxyStatus, SyncStatus, TypeStatus};

use crate::cli::{GlobalArgs, OutputFormat, ProxyStatusArgs};
use crate::commands::mesh;
use crate::output::{self, Output};

fn cell(t: &TypeStatus, out: &Output, wide: bool) -> String {
    match t.status {
        SyncStatus::Synced => out.paint(output::OK, "SYNCED"),
        SyncStatus::NotSent => "NOT SENT".into(),
        SyncStatus::Stale => {
            let waited = t
                .pending_ms
                .map(|ms| format!(" ({:.1}s)", ms as f64 / 1000.0))
                .unwrap_or_default();
            out.paint(output::WARNING, &format!("STALE{waited}"))
        }
        SyncStatus::Error => {
            let msg = if wide {
                format!("ERROR: {}", t.error.as_deref().unwrap_or_default())
            } else {
                "ERROR".into()
            };
            out.paint(output::ERROR, &msg)
        }
    }
}

pub fn run(args: &ProxyStatusArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    if let Some(name) = &args.name {
        return diff(&admin, &rt, name, out);
    }
    let status: Vec<ProxyStatus> = rt.block_on(admin.get("/v1/proxy-status"))?;
    if out.is_data() {
        return Ok(out.data(&status)?);
    }
    if status.is_empty() {
        out.note("no proxies are connected")?;
        return Ok(());
    }
    let wide = out.format() == OutputFormat::Wide;
    let rows: Vec<Vec<String>> = status
        .iter()
        .map(|p| {
            let mut row = vec![p.proxy_id.clone()];
            row.extend(p.types.iter().map(|t| cell(t, out, wide)));
            row.push(p.proxy_version.clone());
            row
        })
        .collect();
    out.table(
        &["name", "listeners", "clusters", "endpoints", "routes"],
        &rows,
    )?;
    let errors: Vec<String> = status
        .iter()
        .flat_map(|p| {
            p.types
                .iter()
                .filter(|t| t.status == SyncStatus::Error)
                .map(move |t| {
                    format!(
                        "{} {}: {}",
                        p.proxy_id,
                        t.type_url,
                        t.error.clone().unwrap_or_default()
                    )
                })
        })
        .collect();
    if !wide {
        for e in errors {
            out.note(&format!("rejected: {e}"))?;
        }
    }
    Ok(())
}

/// The per-type difference between what the control plane computes for a proxy
/// now and what the proxy runs.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct TypeDiff {
    type_url: String,
    in_sync: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    diff: String,
}

fn diff(
    admin: &mesh_control_plane::client::AdminClient,
    rt: &tokio::runtime::Runtime,
    name: &str,
    out: &Output,
) -> anyhow::Result<()> {
    let (w, sent, running) = rt.block_on(async {
        let w = crate::commands::proxy_config::find_proxy(admin, name).await?;
        let sent: serde_json::Value = admin
            .get(&format!("/v1/proxy-config?proxy={}", w.proxy_id))
            .await?;
        let dump = crate::commands::proxy_config::config_dump(&w).await?;
        anyhow::Ok((w, sent, dump["config"].clone()))
    })?;
    let diffs: Vec<TypeDiff> = mesh_api::proxy::PUSH_ORDER
        .iter()
        .map(|ty| {
            let a = serde_json::to_string_pretty(&sent[ty]).unwrap_or_default();
            let b = serde_json::to_string_pretty(&running[ty]).unwrap_or_default();
            let diff = if a == b {
                String::new()
            } else {
                similar::TextDiff::from_lines(&a, &b)
                    .unified_diff()
                    .context_radius(3)
                    .header("control plane", "proxy")
                    .to_string()
            };
            TypeDiff {
                type_url: (*ty).to_owned(),
                in_sync: a == b,
                diff,
            }
        })
        .collect();
    if out.is_data() {
        return Ok(out.data(&diffs)?);
    }
    out.line(&format!(
        "{}: the control plane's config for it now vs. what it runs",
        w.proxy_id
    ))?;
    for d in &diffs {
        if d.in_sync {
            out.line(&format!(
                "  {:<10} {}",
                d.type_url,
                out.paint(output::OK, "in sync")
            ))?;
        } else {
            out.line(&format!(
                "  {:<10} {}",
                d.type_url,
                out.paint(output::WARNING, "differs:")
            ))?;
            for l in d.diff.lines() {
                out.line(&format!("    {l}"))?;
            }
        }
    }
    Ok(())
}
