//! `meshctl validate` run as a user runs it: the real binary, real files, stdin.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;

fn meshctl() -> Command {
    let mut c = Command::cargo_bin("meshctl").expect("binary built");
    c.env_remove("NO_COLOR");
    c
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).expect("write test file");
    p
}

#[test]
fn every_bookinfo_sample_validates() {
    meshctl()
        .args(["validate", "-f"])
        .arg(common::bookinfo())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("valid: 52 resources in 22 files"))
        .stdout(predicate::str::contains("error").not());
}

const BAD_VS: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: -20
";

#[test]
fn an_invalid_resource_is_reported_at_file_line_resource_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(&dir, "reviews.yaml", BAD_VS);
    let out = meshctl()
        .args(["validate", "-f"])
        .arg(&f)
        .assert()
        .code(65)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).expect("utf-8");
    let expected_prefix = format!(
        "{}:18:7: error: VirtualService default/reviews: spec.http[0].route[1].weight:",
        f.display()
    );
    assert!(out.contains(&expected_prefix), "{out}");
    assert!(out.contains("invalid: 1 resource in 1 file"), "{out}");
}

#[test]
fn unparseable_yaml_and_unknown_fields_fail_with_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = write(&dir, "broken.yaml", "apiVersion: v1\nkind: [Service\n");
    meshctl()
        .args(["validate", "-f"])
        .arg(&broken)
        .assert()
        .code(65)
        .stdout(
            predicate::str::contains("broken.yaml:").and(predicate::str::contains("invalid YAML")),
        );

    let unknown = write(
        &dir,
        "gw.yaml",
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  selectr:\n    istio: ingressgateway\n",
    );
    meshctl()
        .args(["validate", "-f"])
        .arg(&unknown)
        .assert()
        .code(65)
        .stdout(predicate::str::contains(
            "gw.yaml:6:3: error: Gateway gw: spec.selectr: unknown field `selectr`",
        ));
}

#[test]
fn a_missing_file_is_an_error_but_other_inputs_are_still_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(&dir, "reviews.yaml", BAD_VS);
    meshctl()
        .args(["validate", "-f", "/nonexistent/file.yaml", "-f"])
        .arg(&bad)
        .assert()
        .code(65)
        .stdout(predicate::str::contains(
            "/nonexistent/file.yaml: no such file or directory",
        ))
        .stdout(predicate::str::contains("spec.http[0].route[1].weight"));
}

#[test]
fn reads_standard_input() {
    meshctl()
        .args(["validate", "-f", "-"])
        .write_stdin(BAD_VS)
        .assert()
        .code(65)
        .stdout(predicate::str::contains("<stdin>:18:7: error"));
}

#[test]
fn json_output_gives_the_same_findings_as_data() {
    let out = meshctl()
        .args(["validate", "-f", "-", "-o", "json"])
        .write_stdin(BAD_VS)
        .assert()
        .code(65)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["valid"], false);
    assert_eq!(v["resources"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "<stdin>");
    assert_eq!(d["line"], 18);
    assert_eq!(d["resource"], "VirtualService default/reviews");
    assert_eq!(d["field"], "spec.http[0].route[1].weight");
}

#[test]
fn yaml_output_is_yaml() {
    meshctl()
        .args(["validate", "-o", "yaml", "-f"])
        .arg(common::bookinfo().join("networking/virtual-service-reviews-80-20.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("valid: true"))
        .stdout(predicate::str::contains("resources: 1"));
}

#[test]
fn bad_usage_exits_64() {
    meshctl().arg("validate").assert().code(64);
    meshctl().args(["validate", "--bogus"]).assert().code(64);
    meshctl()
        .args(["validate", "-f", "x", "-o", "xml"])
        .assert()
        .code(64);
    meshctl().arg("no-such-command").assert().code(64);
    meshctl().arg("--help").assert().code(0);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let run = |extra: &[&str], no_color: bool| {
        let mut c = meshctl();
        c.args(["validate", "-f", "-"])
            .args(extra)
            .write_stdin(BAD_VS);
        if no_color {
            c.env("NO_COLOR", "1");
        }
        String::from_utf8(c.output().expect("runs").stdout).expect("utf-8")
    };
    // Not a terminal: no escape codes by default.
    assert!(!run(&[], false).contains('\x1b'));
    assert!(run(&["--color", "always"], false).contains('\x1b'));
    assert!(!run(&["--color", "never"], false).contains('\x1b'));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("meshctl");
    let mut child = std::process::Command::new(bin)
        .args(["completion", "zsh"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close our end before the child writes: its writes hit EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn version_as_text_and_json() {
    meshctl()
        .arg("version")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(format!(
            "meshctl version: {}",
            env!("CARGO_PKG_VERSION")
        )));
    let out = meshctl()
        .args(["version", "-o", "json"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["client"]["version"], env!("CARGO_PKG_VERSION"));
    meshctl()
        .args(["version", "--short"])
        .assert()
        .stdout(format!("{}\n", env!("CARGO_PKG_VERSION")));
    let _ = std::io::stdout().flush();
}
