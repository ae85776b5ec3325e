//! `meshctl version`: the client's version, build commit and toolchain.

use serde::Serialize;

use crate::cli::VersionArgs;
use crate::output::Output;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub version: &'static str,
    pub git_commit: &'static str,
    pub rustc: &'static str,
    pub platform: String,
}

impl VersionInfo {
    pub fn current() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION"),
            git_commit: env!("MESHCTL_GIT_COMMIT"),
            rustc: env!("MESHCTL_RUSTC_VERSION"),
            platform: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    client: VersionInfo,
}

pub fn run(args: &VersionArgs, out: &Output) -> anyhow::Result<()> {
    let info = VersionInfo::current();
    if out.is_data() {
        out.data(&Report { client: info })?;
    } else if args.short {
        out.line(info.version)?;
    } else {
        out.line(&format!(
            "meshctl version: {} (commit {}, {}, {})",
            info.version, info.git_commit, info.rustc, info.platform
        ))?;
    }
    Ok(())
}
