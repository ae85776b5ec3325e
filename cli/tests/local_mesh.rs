//! The local mesh's management commands, run as a user runs them: real `meshctl`
//! processes, a real control plane in the background, a temporary mesh home.

mod common;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

struct Mesh {
    home: tempfile::TempDir,
}

impl Mesh {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("meshctl").expect("binary");
        c.env("MESHCTL_HOME", self.home.path())
            .env_remove("NO_COLOR");
        c
    }

    fn pid(&self) -> u32 {
        std::fs::read_to_string(self.home.path().join("control-plane.pid"))
            .expect("pid file")
            .trim()
            .parse()
            .expect("pid")
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        let _ = self.cmd().args(["uninstall", "-y"]).output();
    }
}

fn bookinfo(file: &str) -> std::path::PathBuf {
    common::bookinfo().join("networking").join(file)
}

fn kill9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_gone(home: &Path) {
    for _ in 0..100 {
        let out = Command::cargo_bin("meshctl")
            .expect("binary")
            .env("MESHCTL_HOME", home)
            .arg("check")
            .output()
            .expect("check");
        if !out.status.success() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("control plane still reported running");
}

#[test]
fn install_apply_get_delete_survive_a_crash_and_uninstall() {
    let mesh = Mesh::new();
    mesh.cmd()
        .arg("install")
        .assert()
        .success()
        .stdout(predicate::str::contains("installed: control plane running"));
    // Installing twice is safe and says so.
    mesh.cmd()
        .arg("install")
        .assert()
        .success()
        .stdout(predicate::str::contains("already running"));
    mesh.cmd().arg("check").assert().success();

    mesh.cmd()
        .args(["apply", "-f"])
        .arg(bookinfo("destination-rule-all.yaml"))
        .arg("-f")
        .arg(bookinfo("virtual-service-reviews-80-20.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "destinationrule.networking.istio.io/reviews created",
        ))
        .stdout(predicate::str::contains(
            "virtualservice.networking.istio.io/reviews created",
        ));
    mesh.cmd()
        .args(["apply", "-f"])
        .arg(bookinfo("virtual-service-reviews-80-20.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "virtualservice.networking.istio.io/reviews unchanged",
        ));

    // An invalid file is rejected whole: the valid document beside it is not stored.
    let dir = tempfile::tempdir().expect("tempdir");
    let mixed = dir.path().join("mixed.yaml");
    std::fs::write(
        &mixed,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bad\nspec:\n  hosts: [bad]\n  http:\n  - route:\n    - destination: {host: bad}\n      weight: -1\n",
    )
    .expect("write");
    mesh.cmd()
        .args(["apply", "-f"])
        .arg(&mixed)
        .assert()
        .code(65)
        .stdout(predicate::str::contains(
            "mixed.yaml:15:7: error: VirtualService bad",
        ))
        .stdout(predicate::str::contains("nothing was applied"));
    mesh.cmd()
        .args(["get", "configmap", "fine"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not found"));

    mesh.cmd()
        .args(["get", "vs"])
        .assert()
        .success()
        .stdout(predicate::str::contains("reviews").and(predicate::str::contains("[reviews]")));
    let out = mesh
        .cmd()
        .args(["get", "dr", "reviews", "-o", "json"])
        .output()
        .expect("get");
    let dr: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(dr["spec"]["subsets"].as_array().map(Vec::len), Some(3));
    assert_eq!(dr["metadata"]["namespace"], "default");

    // kill -9 the control plane: nothing acknowledged is lost.
    kill9(mesh.pid());
    wait_gone(mesh.home.path());
    mesh.cmd().arg("install").assert().success();
    mesh.cmd()
        .args(["get", "destinationrules", "-o", "json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\"productpage\"")
                .and(predicate::str::contains("\"ratings\"")),
        );

    mesh.cmd()
        .args(["delete", "vs", "reviews"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "virtualservice.networking.istio.io/reviews deleted",
        ));
    mesh.cmd()
        .args(["delete", "vs", "reviews"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not found"));

    mesh.cmd()
        .args(["uninstall", "--purge", "-y"])
        .assert()
        .success()
        .stdout(predicate::str::contains("stopped: control plane"));
    assert!(!mesh.home.path().exists());
    mesh.cmd()
        .args(["get", "vs"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no control plane is running"));
}

#[test]
fn bad_install_settings_are_usage_errors() {
    let mesh = Mesh::new();
    mesh.cmd()
        .args(["install", "--set", "nope=1"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("unknown setting"));
    mesh.cmd()
        .args(["install", "--set", "logLevel=loud"])
        .assert()
        .code(64);
}
