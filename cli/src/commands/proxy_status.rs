//! `meshctl proxy-status [NAME]`: is every proxy running what it was sent?

use mesh_control_plane::server::{ProxyStatus, SyncStatus, TypeStatus};

use crate::cli::{GlobalArgs, OutputFormat, ProxyStatusArgs};
use crate::commands::mesh;
use crate::exit;
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
    let mut status: Vec<ProxyStatus> = rt.block_on(admin.get("/v1/proxy-status"))?;
    if let Some(name) = &args.name {
        status.retain(|p| &p.proxy_id == name);
        if status.is_empty() {
            out.error(&format!(
                "no connected proxy named {name:?}; see `meshctl proxy-status` for their names"
            ));
            return Err(exit::Exit::with(exit::FAILURE));
        }
    }
    if out.is_data() {
        return Ok(out.data(&status)?);
    }
    if status.is_empty() {
        out.note("no proxies are connected")?;
        return Ok(());
    }
    let wide = out.format() == OutputFormat::Wide || args.name.is_some();
    let rows: Vec<Vec<String>> = status
        .iter()
        .map(|p| {
            let mut row = vec![p.proxy_id.clone()];
            row.extend(p.types.iter().map(|t| cell(t, out, wide)));
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
