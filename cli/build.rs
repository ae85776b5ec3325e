//! Records the git commit and compiler version for `meshctl version`.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.split_whitespace()
                .take(2)
                .last()
                .map(|v| format!("rustc {v}"))
        })
        .unwrap_or_else(|| "rustc unknown".into());
    println!("cargo:rustc-env=MESHCTL_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=MESHCTL_RUSTC_VERSION={rustc_version}");
    // Rebuild when the commit changes. Ask git where its files are: in a worktree
    // `.git` is a file, and naming a path that does not exist would make cargo
    // rebuild this crate every time.
    println!("cargo:rerun-if-changed=build.rs");
    for (flag, file) in [("--absolute-git-dir", "HEAD"), ("--git-common-dir", "refs")] {
        let dir = Command::new("git")
            .args(["rev-parse", flag])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok());
        if let Some(dir) = dir {
            let path = std::path::Path::new(dir.trim()).join(file);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}
