//! `meshctl proxy run`: PLACEHOLDER until the data plane lands.

use crate::cli::{GlobalArgs, ProxyCommand};

pub fn run(cmd: &ProxyCommand, g: &GlobalArgs) -> anyhow::Result<()> {
    let _ = (cmd, g);
    anyhow::bail!("not wired yet")
}
