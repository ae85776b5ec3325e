//! The mesh CA end to end: a real control plane and real sidecars started by
//! `meshctl run`; each sidecar gets a certificate with its own SPIFFE ID, and no
//! secret (CA key, workload tokens) shows in logs, dumps or `-o json`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

fn meshctl(home: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("meshctl"));
    c.env("MESHCTL_HOME", home).env_remove("NO_COLOR");
    c
}

fn ok(home: &Path, args: &[&str]) -> String {
    let out = meshctl(home).args(args).output().expect("meshctl");
    assert!(
        out.status.success(),
        "meshctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(home: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(home, args)).expect("json")
}

struct Mesh {
    home: tempfile::TempDir,
    runs: Vec<Child>,
}

impl Mesh {
    fn run(&mut self, service: &str, namespace: &str, sa: Option<&str>) {
        let mut c = meshctl(self.home.path());
        c.args([
            "run",
            "-n",
            namespace,
            "--service",
            service,
            "--port",
            "9080",
        ]);
        if let Some(sa) = sa {
            c.args(["--service-account", sa]);
        }
        let child = c
            .args(["--", "sleep", "600"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("meshctl run");
        self.runs.push(child);
    }

    fn stop_runs(&mut self) {
        for c in &mut self.runs {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        for c in &mut self.runs {
            let _ = c.wait();
        }
        self.runs.clear();
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        self.stop_runs();
        let _ = meshctl(self.home.path()).args(["uninstall", "-y"]).output();
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..600 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn every_sidecar_gets_its_own_spiffe_identity_and_no_secret_leaks() {
    let mut mesh = Mesh {
        home: tempfile::tempdir().expect("tmp"),
        runs: Vec::new(),
    };
    let home = mesh.home.path().to_owned();
    let installed = ok(
        &home,
        &[
            "install",
            "-y",
            "--set",
            "trustDomain=example.org",
            "--set",
            "ca.workloadCertTtl=2m",
        ],
    );
    assert!(
        installed.contains("self-signed root, trust domain example.org"),
        "{installed}"
    );
    mesh.run("reviews", "shop", Some("bookinfo-reviews"));
    mesh.run("ratings", "shop", None);

    wait_until("both sidecars to have certificates", || {
        let ca = json(&home, &["ca", "status", "-o", "json"]);
        ca["proxies"]
            .as_array()
            .is_some_and(|p| p.iter().filter(|p| p["connected"] == true).count() == 2)
    });
    let ca = json(&home, &["ca", "status", "-o", "json"]);
    assert_eq!(ca["trustDomain"], "example.org");
    assert_eq!(ca["workloadCertTtlSeconds"], 120);
    let root_fp = ca["roots"][0]["fingerprintSha256"].clone();
    let root_subject = ca["roots"][0]["subject"].clone();

    let workloads = json(&home, &["get", "workloads", "-A", "-o", "json"]);
    let mut seen = Vec::new();
    for w in workloads.as_array().expect("list") {
        let id = w["proxyId"].as_str().expect("id");
        let secret = json(&home, &["proxy-config", "secret", id, "-o", "json"]);
        assert_eq!(secret["state"], "ACTIVE");
        let leaf = &secret["certChain"][0];
        assert_eq!(
            leaf["issuer"], root_subject,
            "{id}: issued by the mesh root"
        );
        assert_eq!(secret["trustBundle"][0]["fingerprintSha256"], root_fp);
        let recorded = ca["proxies"]
            .as_array()
            .expect("proxies")
            .iter()
            .find(|p| p["proxyId"] == id)
            .expect("the CA recorded it");
        assert_eq!(
            recorded["serial"], leaf["serial"],
            "{id}: the CA's record is what it runs"
        );
        let lifetime =
            leaf["notAfterUnix"].as_i64().expect("n") - leaf["notBeforeUnix"].as_i64().expect("n");
        assert_eq!(lifetime, 120 + 60, "2m, backdated 1m for clock skew");
        seen.push(leaf["spiffeId"].as_str().expect("spiffe").to_owned());
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "spiffe://example.org/ns/shop/sa/bookinfo-reviews",
            "spiffe://example.org/ns/shop/sa/default"
        ]
    );

    let check = ok(&home, &["check"]);
    assert!(
        check.contains("mesh CA: self-signed CA for example.org")
            && check.contains("2 proxies with certificates"),
        "{check}"
    );

    // The table output names the identities too.
    let table = ok(&home, &["ca", "status"]);
    assert!(
        table.contains("spiffe://example.org/ns/shop/sa/bookinfo-reviews"),
        "{table}"
    );

    // Nothing secret anywhere a user or a log collector can read.
    let tokens: Vec<String> = std::fs::read_dir(home.join("tokens"))
        .expect("tokens dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "token"))
        .map(|e| std::fs::read_to_string(e.path()).expect("token"))
        .collect();
    assert_eq!(tokens.len(), 2, "one token per running workload");
    let ca_key = std::fs::read_to_string(home.join("ca/ca-key.pem")).expect("key");
    let key_body: String = ca_key.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut public = vec![
        ok(&home, &["ca", "status", "-o", "json"]),
        ok(&home, &["ca", "status"]),
        ok(&home, &["get", "workloads", "-A", "-o", "json"]),
    ];
    for w in workloads.as_array().expect("list") {
        let id = w["proxyId"].as_str().expect("id");
        for what in ["secret", "all"] {
            public.push(ok(&home, &["proxy-config", what, id, "-o", "json"]));
        }
        public.push(ok(&home, &["proxy-config", "secret", id]));
    }
    public.push(std::fs::read_to_string(home.join("control-plane.log")).expect("log"));
    for log in std::fs::read_dir(home.join("proxies")).expect("logs") {
        public.push(std::fs::read_to_string(log.expect("entry").path()).expect("log"));
    }
    for text in &public {
        assert!(!text.contains("PRIVATE KEY"), "a key in: {text}");
        assert!(!text.contains(&key_body[..40]), "the CA key in: {text}");
        for t in &tokens {
            assert!(!text.contains(t.trim()), "a bootstrap token in: {text}");
        }
    }

    // Tokens live as long as their workloads.
    mesh.stop_runs();
    let left = std::fs::read_dir(home.join("tokens")).expect("dir").count();
    assert_eq!(left, 0, "each run removes its token when it ends");
}

#[test]
fn a_plugged_in_ca_is_checked_and_then_used() {
    let home = tempfile::tempdir().expect("tmp");
    let mut mesh = Mesh {
        home: tempfile::tempdir().expect("tmp"),
        runs: Vec::new(),
    };
    // Unreadable files: invalid data, nothing installed.
    let out = meshctl(mesh.home.path())
        .args(["install", "-y", "--set", "ca.cert=/nonexistent/ca-cert.pem"])
        .args(["--set", "ca.key=/nonexistent/ca-key.pem"])
        .output()
        .expect("install");
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--set ca.cert=/nonexistent/ca-cert.pem: cannot read it"),
        "{err}"
    );
    assert!(!mesh.home.path().join("control-plane.pid").exists());
    // A cert without its key: usage.
    let out = meshctl(mesh.home.path())
        .args(["install", "-y", "--set", "ca.cert=x.pem"])
        .output()
        .expect("install");
    assert_eq!(out.status.code(), Some(64));

    // A real CA made elsewhere.
    let theirs = mesh_control_plane::ca::CaFiles::generate("corp.example").expect("ca");
    theirs.save(home.path()).expect("save");
    let cert = home.path().join("ca/ca-cert.pem");
    let key = home.path().join("ca/ca-key.pem");
    ok(
        mesh.home.path(),
        &[
            "install",
            "-y",
            "--set",
            &format!("ca.cert={}", cert.display()),
            "--set",
            &format!("ca.key={}", key.display()),
        ],
    );
    let status = json(mesh.home.path(), &["ca", "status", "-o", "json"]);
    assert_eq!(status["source"], "plugged-in");
    assert_eq!(
        status["roots"][0]["subject"],
        "O=meshctl, CN=meshctl root CA corp.example"
    );
    mesh.run("reviews", "default", None);
    wait_until("the sidecar's certificate", || {
        json(mesh.home.path(), &["ca", "status", "-o", "json"])["proxies"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    });
}
