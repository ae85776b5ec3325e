//! `meshctl control-plane run`: the control plane in the foreground.

use anyhow::Context;
use mesh_control_plane::ca::CaSettings;
use mesh_control_plane::server::{self, ServerOptions};

use crate::cli::{ControlPlaneCommand, GlobalArgs};
use crate::commands::{mesh, signals};

pub fn run(cmd: &ControlPlaneCommand, g: &GlobalArgs) -> anyhow::Result<()> {
    let ControlPlaneCommand::Run(args) = cmd;
    crate::logging::init(&args.log_level)?;
    mesh_control_plane::ca::validate_trust_domain(&args.trust_domain)
        .map_err(|e| anyhow::anyhow!("--trust-domain {}: {e}", args.trust_domain))?;
    let workload_ttl = crate::commands::install::parse_ttl(&args.workload_cert_ttl)
        .map_err(|e| anyhow::anyhow!("--workload-cert-ttl {e}"))?;
    let mesh_config = match &args.mesh_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--mesh-config {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("--mesh-config {}: not a mesh config", path.display()))?
        }
        None => Default::default(),
    };
    let opts = ServerOptions {
        home: mesh::home(g),
        discovery: args.discovery_address,
        admin: args.admin_address,
        ca: CaSettings {
            trust_domain: args.trust_domain.clone(),
            workload_ttl,
        },
        scrape_targets: args.scrape_targets.clone(),
        mesh_config,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("start runtime")?;
    rt.block_on(async move {
        server::run(opts, signals::terminated()).await?;
        Ok(())
    })
}
