//! Helpers shared by the CLI tests.
#![allow(dead_code)]

pub mod mesh;

use std::path::{Path, PathBuf};

/// `../shared/conformance` beside the repository, where Istio's test material lives.
pub fn conformance() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    assert!(
        p.is_dir(),
        "Istio's conformance material must be at {} (shared/ beside the repository)",
        p.display()
    );
    p
}

pub fn bookinfo() -> PathBuf {
    conformance().join("istio-samples/bookinfo")
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether tests should rewrite checked-in snapshots instead of comparing.
pub fn updating() -> bool {
    std::env::var_os("MESHCTL_UPDATE_SNAPSHOTS").is_some()
}

/// Compare `actual` with the checked-in file, or rewrite it when updating.
#[track_caller]
pub fn assert_snapshot(path: &Path, actual: &str, regenerate_hint: &str) {
    if updating() {
        std::fs::create_dir_all(path.parent().expect("snapshot has a parent")).expect("mkdir");
        std::fs::write(path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} is stale: regenerate with `{regenerate_hint}` and commit it",
        path.display()
    );
}
