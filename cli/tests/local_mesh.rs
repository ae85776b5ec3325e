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

    // No reviews workload runs yet: analysis finds the route's host missing, so the
    // apply is refused (nothing stored) unless forced.
    mesh.cmd()
        .args(["apply", "-f"])
        .arg(bookinfo("destination-rule-all.yaml"))
        .arg("-f")
        .arg(bookinfo("virtual-service-reviews-80-20.yaml"))
        .assert()
        .code(79)
        .stdout(predicate::str::contains(
            "Error [IST0101] (VirtualService default/reviews) Referenced host not found: \"reviews\"",
        ))
        .stderr(predicate::str::contains("nothing was applied"));
    mesh.cmd()
        .args(["get", "vs"])
        .assert()
        .success()
        .stderr(predicate::str::contains("no virtualservices found"));
    mesh.cmd()
        .args(["apply", "--force", "-f"])
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
    mesh.cmd()
        .args(["install", "--set", "meshConfig.accessLogEncoding=XML"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("one of TEXT, JSON"));
    mesh.cmd()
        .args([
            "install",
            "--set",
            "meshConfig.tracing.otlpEndpoint=127.0.0.1:4317",
        ])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("expected http://HOST:PORT"));
    mesh.cmd()
        .args(["install", "--set", "adminAddress=0.0.0.0:15014"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("must be a loopback address"));
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}");
}

fn workloads(mesh: &Mesh) -> Vec<serde_json::Value> {
    let out = mesh
        .cmd()
        .args(["get", "workloads", "-o", "json"])
        .output()
        .expect("get");
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn run_exits_with_the_apps_code_and_takes_the_sidecar_with_it() {
    let mesh = Mesh::new();
    mesh.cmd().args(["install", "-y"]).assert().success();
    // The app sees its sidecar as HTTP_PROXY and its own port as PORT.
    mesh.cmd()
        .args([
            "run",
            "--service",
            "job",
            "--port",
            "9080",
            "--app-port",
            "19999",
            "--",
        ])
        .args([
            "sh",
            "-c",
            "test -n \"$HTTP_PROXY\" && test \"$PORT\" = 19999 && exit 3",
        ])
        .assert()
        .code(3);
    wait_until("the job's workload to leave", || {
        workloads(&mesh).is_empty()
    });
}

#[test]
fn sigterm_stops_app_and_sidecar() {
    let mesh = Mesh::new();
    mesh.cmd().args(["install", "-y"]).assert().success();
    let mut run = std::process::Command::new(assert_cmd::cargo::cargo_bin("meshctl"))
        .env("MESHCTL_HOME", mesh.home.path())
        .args([
            "run",
            "--service",
            "sleeper",
            "--port",
            "9080",
            "--",
            "sleep",
            "600",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("meshctl run");
    wait_until("the workload to join", || workloads(&mesh).len() == 1);
    std::process::Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .expect("kill");
    let status = run.wait().expect("wait");
    // sleep dies of SIGTERM: 128 + 15.
    assert_eq!(status.code(), Some(143));
    wait_until("the workload to leave", || workloads(&mesh).is_empty());
}

#[test]
fn the_demo_walks_through_the_rollout_and_cleans_up() {
    let mesh = Mesh::new();
    let out = mesh
        .cmd()
        .args(["demo", "--requests", "40"])
        .output()
        .expect("demo");
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // Say everything the demo's processes said, so a failure can be explained.
        let mut logs = String::new();
        for dir in ["demo", "proxies"] {
            if let Ok(entries) = std::fs::read_dir(mesh.home.path().join(dir)) {
                for e in entries.flatten() {
                    let body = std::fs::read_to_string(e.path()).unwrap_or_default();
                    logs.push_str(&format!("--- {}\n{body}\n", e.path().display()));
                }
            }
        }
        panic!(
            "demo failed:\n{text}{}\n{logs}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "step 1/4",
        "step 2/4",
        "step 3/4",
        "step 4/4",
        "demo finished",
    ] {
        assert!(text.contains(step), "missing {step:?} in:\n{text}");
    }
    // Step 4 sends everything to v3; step 3 sends jason to v2.
    let step4 = text.split("step 4/4").nth(1).expect("step 4");
    assert!(
        step4.contains("reviews v3") && !step4.contains("reviews v1"),
        "{text}"
    );
    let step3 = text
        .split("step 3/4")
        .nth(1)
        .and_then(|s| s.split("step 4/4").next())
        .expect("step 3");
    let jason = step3.split("as anyone else").next().expect("jason part");
    assert!(
        jason.contains("reviews v2") && !jason.contains("reviews v1"),
        "{text}"
    );
    // It installed the control plane itself, so it stopped it again.
    mesh.cmd().arg("check").assert().code(1);
}

#[test]
fn a_profile_presets_settings_and_set_refines_them() {
    let mesh = Mesh::new();
    // minimal: quiet logs; --set still wins for what it names.
    mesh.cmd()
        .args([
            "install",
            "-y",
            "--profile",
            "minimal",
            "--set",
            "logLevel=error",
        ])
        .assert()
        .success();
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(mesh.home.path().join("install.json")).expect("install.json"),
    )
    .expect("json");
    assert_eq!(saved["logLevel"], "error");
    // The addresses it got are kept for the next install.
    assert_ne!(saved["discoveryAddress"], "127.0.0.1:0");
}

/// `mtls mode` says what a selector must look like before it needs a mesh.
#[test]
fn mtls_mode_rejects_a_malformed_selector() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("meshctl"))
        .env("MESHCTL_HOME", home.path())
        .env("NO_COLOR", "1")
        .args([
            "mtls",
            "mode",
            "strict",
            "-n",
            "default",
            "--workload",
            "app",
        ])
        .output()
        .expect("run meshctl");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"app\" is not key=value") && err.contains("app=reviews"),
        "{err}"
    );
}
