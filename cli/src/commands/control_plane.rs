//! `meshctl control-plane run`: the control plane in the foreground.

use anyhow::Context;
use mesh_control_plane::server::{self, ServerOptions};

use crate::cli::{ControlPlaneCommand, GlobalArgs};
use crate::commands::{mesh, signals};

pub fn run(cmd: &ControlPlaneCommand, g: &GlobalArgs) -> anyhow::Result<()> {
    let ControlPlaneCommand::Run(args) = cmd;
    crate::logging::init(&args.log_level)?;
    let opts = ServerOptions {
        home: mesh::home(g),
        discovery: args.discovery_address,
        admin: args.admin_address,
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
