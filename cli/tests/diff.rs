//! `meshctl diff` against a real local mesh: what applying bookinfo's
//! virtual-service-reviews-v3 over the 80/20 split would change, in words.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn meshctl(home: &Path) -> Command {
    let mut c = Command::cargo_bin("meshctl").expect("binary built");
    c.env("MESHCTL_HOME", home).env_remove("NO_COLOR");
    c
}

fn bookinfo(file: &str) -> PathBuf {
    common::bookinfo().join("networking").join(file)
}

/// Stops what the test started, even when it fails.
struct LiveMesh {
    home: tempfile::TempDir,
    runs: Vec<Child>,
}

impl LiveMesh {
    fn run(&mut self, service: &str, version: &str) {
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("meshctl"))
            .env("MESHCTL_HOME", self.home.path())
            .args([
                "run",
                "--service",
                service,
                "--version",
                version,
                "--port",
                "9080",
            ])
            .args(["--", "sleep", "600"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("meshctl run");
        self.runs.push(child);
    }

    fn workloads(&self) -> usize {
        let out = meshctl(self.home.path())
            .args(["get", "workloads", "-o", "json"])
            .output()
            .expect("get");
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0)
    }
}

impl Drop for LiveMesh {
    fn drop(&mut self) {
        for run in &mut self.runs {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &run.id().to_string()])
                .status();
            let _ = run.wait();
        }
        let _ = meshctl(self.home.path()).args(["uninstall", "-y"]).output();
    }
}

#[test]
fn diff_shows_the_resource_the_findings_and_each_proxys_routing_change() {
    let mut mesh = LiveMesh {
        home: tempfile::tempdir().expect("tempdir"),
        runs: Vec::new(),
    };
    let home = mesh.home.path().to_owned();
    meshctl(&home).args(["install", "-y"]).assert().success();
    for v in ["v1", "v2", "v3"] {
        mesh.run("reviews", v);
    }
    mesh.run("productpage", "v1");
    let deadline = Instant::now() + Duration::from_secs(30);
    while mesh.workloads() < 4 {
        assert!(Instant::now() < deadline, "workloads did not join");
        std::thread::sleep(Duration::from_millis(100));
    }
    meshctl(&home)
        .args(["apply", "-f"])
        .arg(bookinfo("destination-rule-reviews.yaml"))
        .arg("-f")
        .arg(bookinfo("virtual-service-reviews-80-20.yaml"))
        .assert()
        .success();

    meshctl(&home)
        .args(["diff", "-f"])
        .arg(bookinfo("virtual-service-reviews-v3.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "VirtualService default/reviews changed",
        ))
        .stdout(predicate::str::contains("+        subset: v3"))
        .stdout(predicate::str::contains(
            "analysis: no findings introduced or fixed",
        ))
        .stdout(predicate::str::contains(
            "routes reviews.default:9080: 80% v1 / 20% v2 → 100% v3",
        ));

    // As data: every proxy (the three reviews and productpage) sees the change.
    let out = meshctl(&home)
        .args(["diff", "-o", "json", "-f"])
        .arg(bookinfo("virtual-service-reviews-v3.yaml"))
        .output()
        .expect("diff");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let proxies: usize = v["proxies"]
        .as_array()
        .expect("proxies")
        .iter()
        .map(|p| p["proxies"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(proxies, 4, "{v:#}");
    assert_eq!(v["resources"][0]["change"], "changed");

    // A route to a subset no DestinationRule defines: diff says the change
    // introduces the error, and apply refuses it.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("v9.yaml");
    std::fs::write(
        &bad,
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}\n",
    )
    .expect("write");
    meshctl(&home)
        .args(["diff", "-f"])
        .arg(&bad)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("analysis: the change introduces:"))
        .stdout(predicate::str::contains("\"reviews+v9\""));
    meshctl(&home)
        .args(["apply", "-f"])
        .arg(&bad)
        .assert()
        .code(79)
        .stderr(predicate::str::contains("nothing was applied"));
}
