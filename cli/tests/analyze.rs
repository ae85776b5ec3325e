//! `meshctl analyze` run as a user runs it: the real binary on real files, and
//! against a real local mesh (control plane and a running workload).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn meshctl(home: &Path) -> Command {
    let mut c = Command::cargo_bin("meshctl").expect("binary built");
    c.env("MESHCTL_HOME", home).env_remove("NO_COLOR");
    c
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test file");
    p
}

const BOGUS_VS: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-bogus
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews-bogus
";

const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: default
spec:
  selector:
    app: reviews
  ports:
  - name: http
    port: 9080
";

#[test]
fn a_missing_host_is_an_error_at_its_line_with_a_hint_and_exit_79() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "vs.yaml", BOGUS_VS);
    let out = meshctl(dir.path())
        .arg("analyze")
        .arg("--use-store=false")
        .arg(&f)
        .assert()
        .code(79)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "Error [IST0101] (VirtualService default/reviews-bogus {}:11) Referenced host not found: \"reviews-bogus\"",
                f.display()
            )
            .as_str()
        ),
        "{text}"
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.trim_start().starts_with("hint: ")),
        "{text}"
    );
}

#[test]
fn json_and_yaml_carry_the_fields_istioctl_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "vs.yaml", BOGUS_VS);
    let out = meshctl(dir.path())
        .args(["analyze", "--use-store=false", "-o", "json", "-n", "prod"])
        .arg(&f)
        .assert()
        .code(79)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let items = v.as_array().expect("a list");
    assert_eq!(items.len(), 1, "{v:#}");
    let item = &items[0];
    assert_eq!(item["code"], "IST0101");
    assert_eq!(item["level"], "Error");
    assert_eq!(item["origin"], "VirtualService prod/reviews-bogus");
    assert_eq!(item["reference"], format!("{}:11", f.display()));
    assert_eq!(
        item["message"],
        "Referenced host not found: \"reviews-bogus\""
    );
    assert_eq!(
        item["documentationUrl"],
        "https://istio.io/latest/docs/reference/config/analysis/ist0101/"
    );
    meshctl(dir.path())
        .args(["analyze", "--use-store=false", "-o", "yaml"])
        .arg(&f)
        .assert()
        .code(79)
        .stdout(predicate::str::contains("code: IST0101"))
        .stdout(predicate::str::contains("documentationUrl:"));
}

#[test]
fn a_correct_config_is_clean_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vs = BOGUS_VS.replace("host: reviews-bogus", "host: reviews");
    write(dir.path(), "vs.yaml", &vs);
    write(dir.path(), "svc.yaml", SERVICE);
    meshctl(dir.path())
        .args(["analyze", "--use-store=false"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No validation issues found"));
}

#[test]
fn thresholds_and_suppressions_decide_what_is_shown_and_the_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port without a protocol name is Info (IST0118); a bogus host is an Error.
    let svc = SERVICE.replace("name: http", "name: web");
    let f = write(dir.path(), "all.yaml", &format!("{svc}---\n{BOGUS_VS}"));
    // Below the failure threshold: shown, but exit 0.
    meshctl(dir.path())
        .args([
            "analyze",
            "--use-store=false",
            "-S",
            "IST0101=VirtualService reviews-bogus.default",
        ])
        .arg(&f)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Info [IST0118] (Service default/reviews",
        ))
        .stdout(predicate::str::contains("IST0101").not());
    // An Info fails when the threshold is Info.
    meshctl(dir.path())
        .args([
            "analyze",
            "--use-store=false",
            "--failure-threshold",
            "Info",
            "-S",
            "IST0101=*",
        ])
        .arg(&f)
        .assert()
        .code(79);
    // The output threshold hides the Info line; the Error still fails.
    meshctl(dir.path())
        .args([
            "analyze",
            "--use-store=false",
            "--output-threshold",
            "Error",
        ])
        .arg(&f)
        .assert()
        .code(79)
        .stdout(predicate::str::contains("IST0118").not())
        .stdout(predicate::str::contains("Error [IST0101]"));
}

#[test]
fn one_analyzer_can_be_chosen_and_all_are_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "vs.yaml", BOGUS_VS);
    meshctl(dir.path())
        .args([
            "analyze",
            "--use-store=false",
            "--analyzer",
            "virtualservice.GatewayAnalyzer",
        ])
        .arg(&f)
        .assert()
        .code(0);
    meshctl(dir.path())
        .args(["analyze", "-L"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "virtualservice.DestinationHostAnalyzer",
        ))
        .stdout(predicate::str::contains("schema.ValidationAnalyzer"));
    meshctl(dir.path())
        .args([
            "analyze",
            "--use-store=false",
            "--analyzer",
            "nope.Analyzer",
        ])
        .arg(&f)
        .assert()
        .code(64)
        .stderr(predicate::str::contains(
            "unknown analyzer \"nope.Analyzer\"",
        ));
}

#[test]
fn unparsable_input_exits_65_and_bad_usage_64() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "bad.yaml", "kind: [unclosed\n");
    meshctl(dir.path())
        .args(["analyze", "--use-store=false"])
        .arg(&f)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("bad.yaml"));
    meshctl(dir.path())
        .args(["analyze", "--use-store=false", "-S", "no-equals-sign"])
        .arg(&f)
        .assert()
        .code(64);
    meshctl(dir.path())
        .args(["analyze", "--use-store=maybe"])
        .assert()
        .code(64);
}

#[test]
fn standard_input_and_a_mesh_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let se = "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: db
spec:
  hosts: [db.example.com]
  ports:
  - {number: 5432, name: tcp, protocol: TCP}
";
    meshctl(dir.path())
        .args(["analyze", "--use-store=false", "-"])
        .write_stdin(se)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Warning [IST0134] (ServiceEntry default/db <stdin>:8)",
        ));
    let mesh = write(
        dir.path(),
        "mesh.yaml",
        "defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: \"true\"\n    ISTIO_META_DNS_AUTO_ALLOCATE: \"true\"\n",
    );
    meshctl(dir.path())
        .args(["analyze", "--use-store=false", "-", "--meshConfigFile"])
        .arg(&mesh)
        .write_stdin(se)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No validation issues found"));
}

#[test]
fn istios_samples_are_analyzed_with_every_finding_placed_in_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = meshctl(dir.path())
        .args(["analyze", "--use-store=false", "-o", "json"])
        .arg(common::bookinfo().join("networking"))
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = v.as_array().expect("list");
    assert!(!items.is_empty());
    for i in items {
        let r = i["reference"].as_str().expect("reference");
        let (file, line) = r.rsplit_once(':').expect("file:line");
        assert!(Path::new(file).is_file(), "{r}");
        assert!(line.parse::<u32>().expect("line") > 0, "{r}");
    }
    // Deterministic: the same input gives the same output, byte for byte.
    let again = meshctl(dir.path())
        .args(["analyze", "--use-store=false", "-o", "json"])
        .arg(common::bookinfo().join("networking"))
        .output()
        .expect("run");
    assert_eq!(out.stdout, again.stdout);
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops what the test started, even when it fails.
struct LiveMesh {
    home: tempfile::TempDir,
    run: Option<std::process::Child>,
}

impl Drop for LiveMesh {
    fn drop(&mut self) {
        if let Some(mut run) = self.run.take() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &run.id().to_string()])
                .status();
            let _ = run.wait();
        }
        let _ = meshctl(self.home.path()).args(["uninstall", "-y"]).output();
    }
}

#[test]
fn files_are_layered_over_the_live_mesh_and_its_workloads() {
    let mut mesh = LiveMesh {
        home: tempfile::tempdir().expect("tempdir"),
        run: None,
    };
    let home = mesh.home.path().to_owned();
    meshctl(&home).args(["install", "-y"]).assert().success();
    mesh.run = Some(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("meshctl"))
            .env("MESHCTL_HOME", &home)
            .args([
                "run",
                "--service",
                "reviews",
                "--version",
                "v1",
                "--port",
                "9080",
                "--",
                "sleep",
                "600",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("meshctl run"),
    );
    wait_until("the workload to join", || {
        let out = meshctl(&home)
            .args(["get", "workloads", "-o", "json"])
            .output()
            .expect("get");
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().map(|a| a.len() == 1))
            .unwrap_or(false)
    });
    // A DestinationRule in the store: v1 selects the running workload, v9 nothing.
    let dr = write(
        &home,
        "dr.yaml",
        "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v9
    labels: {version: v9}
",
    );
    // (apply would refuse the v9 subset that selects nothing: forced on purpose.)
    meshctl(&home)
        .args(["apply", "--force", "-f"])
        .arg(&dr)
        .assert()
        .success();
    // A file routing to v1: the host is the running service and v1 exists, so the
    // only finding is the live subset that selects nothing.
    let vs = write(
        &home,
        "vs.yaml",
        "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
",
    );
    let out = meshctl(&home)
        .args(["analyze", "-o", "json"])
        .arg(&vs)
        .output()
        .expect("analyze");
    assert_eq!(
        out.status.code(),
        Some(79),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found: Vec<(String, String)> = v
        .as_array()
        .expect("list")
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap_or("").to_owned(),
                i["origin"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            "IST0173".to_owned(),
            "DestinationRule default/reviews".to_owned()
        )],
        "{v:#}"
    );
    // Alone, the same file knows neither the service nor the subset.
    meshctl(&home)
        .args(["analyze", "--use-store=false"])
        .arg(&vs)
        .assert()
        .code(79)
        .stdout(predicate::str::contains(
            "Referenced host not found: \"reviews\"",
        ));
}
