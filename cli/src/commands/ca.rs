//! `meshctl ca status`: the mesh CA's roots, signing certificate, each proxy's
//! certificate and the rotation in progress (from the control plane's `/v1/ca`).
//! `meshctl ca rotate` is in [`super::ca_rotate`].

use mesh_api::proxy::{CaStatus, CertInfo};

use crate::cli::{CaCommand, GlobalArgs};
use crate::commands::mesh::{self, date, until};
use crate::output::Output;

/// One table row per CA certificate.
fn cert_row(role: &str, c: &CertInfo) -> Vec<String> {
    vec![
        role.into(),
        c.subject.clone(),
        short_fingerprint(&c.fingerprint_sha256),
        date(c.not_after_unix),
        until(c.not_after_unix),
    ]
}

/// The first 16 hex digits, colon-separated, as people compare them.
fn short_fingerprint(hex: &str) -> String {
    let pairs: Vec<&str> = (0..hex.len().min(16))
        .step_by(2)
        .filter_map(|i| hex.get(i..i + 2))
        .collect();
    format!("{}…", pairs.join(":"))
}

pub fn run(cmd: &CaCommand, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    match cmd {
        CaCommand::Status => status(g, out),
        CaCommand::Rotate(args) => super::ca_rotate::run(args, g, out),
    }
}

/// The first 16 hex digits of a SHA-256, as `ca status` shows it.
pub(crate) fn short(hex: &str) -> String {
    short_fingerprint(hex)
}

fn status(g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let admin = mesh::admin(&mesh::home(g))?;
    let status: CaStatus = mesh::runtime()?.block_on(admin.get("/v1/ca"))?;
    if out.is_data() {
        return Ok(out.data(&status)?);
    }
    out.line(&format!(
        "trust domain {}; {} CA; workload certificates live {}; {} signed since the control plane started",
        status.trust_domain,
        status.source,
        humanize(status.workload_cert_ttl_seconds),
        status.csrs_signed
    ))?;
    let mut rows: Vec<Vec<String>> = status.roots.iter().map(|c| cert_row("root", c)).collect();
    if !status
        .roots
        .iter()
        .any(|r| r.pem == status.signing_cert.pem)
    {
        rows.push(cert_row("signing CA", &status.signing_cert));
    }
    rows.extend(
        status
            .intermediates
            .iter()
            .map(|c| cert_row("intermediate", c)),
    );
    out.table(
        &["role", "subject", "sha-256", "not after", "expires in"],
        &rows,
    )?;
    if let Some(r) = &status.rotation {
        out.line("")?;
        out.line(&format!(
            "root rotation in phase {} (started {}): {}/{} proxies there{}",
            r.phase,
            date(r.started_unix),
            r.done,
            r.proxies,
            if r.laggards.is_empty() {
                String::new()
            } else {
                format!("; waiting for {}", r.laggards.join(", "))
            }
        ))?;
        out.line("continue it with `meshctl ca rotate`")?;
    }
    let proxies: Vec<Vec<String>> = status
        .proxies
        .iter()
        .filter(|p| p.connected)
        .map(|p| {
            vec![
                p.proxy_id.clone(),
                p.spiffe_id.clone(),
                p.serial.clone(),
                date(p.not_after_unix),
                until(p.not_after_unix),
                if p.root_sha256.is_empty() {
                    "?".into()
                } else {
                    short_fingerprint(&p.root_sha256)
                },
                if p.current { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    if proxies.is_empty() {
        out.line("no connected proxy has a certificate yet")?;
    } else {
        out.line("")?;
        out.table(
            &[
                "proxy",
                "spiffe id",
                "serial",
                "not after",
                "expires in",
                "root",
                "current",
            ],
            &proxies,
        )?;
    }
    Ok(())
}

/// `86400` as `24h`, `120` as `2m`.
fn humanize(secs: u64) -> String {
    match secs {
        s if s % 86400 == 0 && s >= 86400 * 2 => format!("{}d", s / 86400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
