//! `meshctl check`: verify the installation, each check with how to fix it.

use mesh_api::proxy::CaStatus;
use mesh_control_plane::api::Info;
use mesh_control_plane::server::{ProxyStatus, SyncStatus};
use serde::Serialize;

use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::mesh;
use crate::exit;
use crate::output::{self, Output};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn result(name: &str, ok: bool, detail: String, fix: Option<String>) -> CheckResult {
    CheckResult {
        name: name.into(),
        ok,
        detail,
        fix: if ok { None } else { fix },
    }
}

/// The CA's certificates last a while yet, and every connected proxy has a
/// current workload certificate.
fn ca_check(status: Result<CaStatus, mesh_control_plane::client::ClientError>) -> CheckResult {
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            return result(
                "mesh CA",
                false,
                e.to_string(),
                Some("reinstall: `meshctl uninstall && meshctl install`".into()),
            );
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let ends = status
        .roots
        .iter()
        .chain(&status.intermediates)
        .chain(std::iter::once(&status.signing_cert))
        .map(|c| c.not_after_unix)
        .min()
        .unwrap_or(0);
    let expired: Vec<&str> = status
        .proxies
        .iter()
        .filter(|p| p.connected && p.not_after_unix <= now)
        .map(|p| p.proxy_id.as_str())
        .collect();
    let soon = ends - now < 30 * 86400;
    let detail = if !expired.is_empty() {
        format!("expired workload certificates: {}", expired.join(", "))
    } else {
        format!(
            "{} CA for {}, valid {}; {} proxies with certificates",
            status.source,
            status.trust_domain,
            mesh::until(ends),
            status.proxies.iter().filter(|p| p.connected).count()
        )
    };
    let detail = match &status.rotation {
        Some(r) => format!(
            "{detail}; a root rotation is in phase {} (`meshctl ca rotate` continues it)",
            r.phase
        ),
        None => detail,
    };
    result(
        "mesh CA",
        !soon && expired.is_empty(),
        detail,
        Some(if soon {
            "the CA certificate expires within 30 days: replace it without downtime with `meshctl ca rotate` (your own with --cert/--key/--chain)".into()
        } else {
            "see the sidecars' logs (<home>/proxies/) and `meshctl proxy-config secret NAME`".into()
        }),
    )
}

pub fn run(_args: &CheckArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let home = mesh::home(g);
    let mut checks = Vec::new();
    let home_flag = format!("--home {}", home.display());
    checks.push(result(
        "mesh home",
        home.is_dir(),
        home.display().to_string(),
        Some(format!("run `meshctl install {home_flag}`")),
    ));
    let state = mesh::running(&home);
    checks.push(result(
        "control plane process",
        state.is_some(),
        state
            .as_ref()
            .map_or_else(|| "not running".to_string(), |s| format!("pid {}", s.pid)),
        Some(format!(
            "run `meshctl install {home_flag}`; if it fails, read {}",
            home.join(super::install::LOG_FILE).display()
        )),
    ));
    if state.is_some() {
        let admin = mesh::admin(&home)?;
        let rt = mesh::runtime()?;
        let info: Result<Info, _> = rt.block_on(admin.get("/v1/info"));
        match info {
            Ok(info) => {
                checks.push(result(
                    "control plane API",
                    true,
                    format!("answers on {}", admin.addr()),
                    None,
                ));
                let same = info.version == env!("CARGO_PKG_VERSION");
                checks.push(result(
                    "version",
                    same,
                    format!(
                        "control plane {}, meshctl {}",
                        info.version,
                        env!("CARGO_PKG_VERSION")
                    ),
                    Some("reinstall: `meshctl uninstall && meshctl install`".into()),
                ));
                checks.push(result(
                    "config store",
                    true,
                    format!("revision {}", info.revision),
                    None,
                ));
                let status: Vec<ProxyStatus> = rt.block_on(admin.get("/v1/proxy-status"))?;
                let unsynced: Vec<String> = status
                    .iter()
                    .filter(|p| p.types.iter().any(|t| t.status != SyncStatus::Synced))
                    .map(|p| p.proxy_id.clone())
                    .collect();
                checks.push(result(
                    "proxies in sync",
                    unsynced.is_empty(),
                    if unsynced.is_empty() {
                        format!("{} connected, all SYNCED", status.len())
                    } else {
                        format!("not synced: {}", unsynced.join(", "))
                    },
                    Some("see `meshctl proxy-status` for each proxy's state and errors".into()),
                ));
                checks.push(ca_check(rt.block_on(admin.get::<CaStatus>("/v1/ca"))));
            }
            Err(e) => checks.push(result(
                "control plane API",
                false,
                e.to_string(),
                Some("restart it: `meshctl uninstall && meshctl install`".into()),
            )),
        }
    }
    let ok = checks.iter().all(|c| c.ok);
    if out.is_data() {
        out.data(&checks)?;
    } else {
        for c in &checks {
            let mark = if c.ok {
                out.paint(output::OK, "ok")
            } else {
                out.paint(output::ERROR, "FAIL")
            };
            out.line(&format!("{mark:>4}  {}: {}", c.name, c.detail))?;
            if let Some(fix) = &c.fix {
                out.line(&format!("      fix: {fix}"))?;
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err(exit::Exit::with(exit::FAILURE))
    }
}
