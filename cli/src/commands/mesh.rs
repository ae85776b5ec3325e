//! What the local-mesh commands share: where the mesh home is, how to reach the
//! running control plane, an async runtime for one command.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mesh_control_plane::client::AdminClient;
use mesh_control_plane::server::StateFile;

use crate::cli::GlobalArgs;

/// `--home`, `$MESHCTL_HOME`, or `~/.meshctl`.
pub fn home(g: &GlobalArgs) -> PathBuf {
    if let Some(h) = &g.home {
        return h.clone();
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".meshctl")
}

/// The mesh's authorization audit log in the home: every sidecar `meshctl run`
/// starts appends its JSON lines here.
pub const AUDIT_LOG: &str = "audit.log";

/// A runtime for a command's async work.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start async runtime")
}

/// Whether a process with this pid is running: it exists and is not a zombie (a
/// killed process nobody reaped yet still answers `kill(pid, 0)`).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesized command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => true,
    }
}

/// Whether `pid` is a running meshctl process given `role` (`control-plane`) in its
/// command line, so a reused pid is not mistaken for ours.
pub fn is_meshctl(pid: u32, role: &str) -> bool {
    if !pid_alive(pid) {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => cmdline.split(|b| *b == 0).any(|arg| arg == role.as_bytes()),
        Err(_) => true,
    }
}

/// The running control plane of `home`, per its state file.
pub fn running(home: &Path) -> Option<StateFile> {
    StateFile::read(home).filter(|s| is_meshctl(s.pid, "control-plane"))
}

/// A client for the control plane of `home`, or an error that says how to start one.
pub fn admin(home: &Path) -> anyhow::Result<AdminClient> {
    let Some(state) = running(home) else {
        let flag = if home_is_default(home) {
            String::new()
        } else {
            format!(" --home {}", home.display())
        };
        bail!(
            "no control plane is running in {} (start one with `meshctl install{flag}`)",
            home.display()
        );
    };
    let addr = state
        .admin_address
        .parse()
        .with_context(|| format!("bad admin address in {}", home.display()))?;
    Ok(AdminClient::new(addr))
}

fn home_is_default(home: &Path) -> bool {
    std::env::var_os("HOME").is_some_and(|h| Path::new(&h).join(".meshctl") == home)
}

/// kubectl's age: `45s`, `12m`, `5h`, `3d`.
pub fn age(since_unix: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(since_unix);
    let s = now.saturating_sub(since_unix);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// A Unix time as RFC 3339 UTC (`2026-11-25T22:40:00Z`).
pub fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// How long until `unix`: `23h`, `4m`, or `expired 3m ago`.
pub fn until(unix: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let short = |s: i64| match s {
        ..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    };
    if unix >= now {
        short(unix - now)
    } else {
        format!("expired {} ago", short(now - unix))
    }
}
