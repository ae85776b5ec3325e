//! The live view end to end: a real mesh (client -> reviews -> ratings, with
//! the installed CA, so mutual TLS) under steady traffic; `meshctl top --once`
//! and `meshctl dashboard` rendered by headless Chromium; and the Prometheus
//! addon scraping every proxy.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::mesh::{Mesh, Traffic};
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

/// client, reviews (calling ratings) and ratings, synced, with traffic
/// client -> reviews flowing.
fn busy_mesh() -> (Mesh, Traffic) {
    let mut mesh = Mesh::new();
    mesh.ok(&["install", "-y"]);
    mesh.run("ratings", "v1", &[]);
    mesh.run("reviews", "v1", &["http://ratings:9080/"]);
    mesh.run("client", "v1", &[]);
    mesh.wait_for("three synced proxies", |m| m.all_synced(3));
    let outbound = mesh.workload("client")["outboundAddress"]
        .as_str()
        .expect("outbound address")
        .to_owned();
    let traffic = Traffic::start(&outbound, "http://reviews:9080/");
    (mesh, traffic)
}

fn edge<'a>(snapshot: &'a Value, from: &str, to: &str) -> Option<&'a Value> {
    snapshot["edges"]
        .as_array()?
        .iter()
        .find(|e| e["sourceWorkload"] == from && e["destinationWorkload"] == to)
}

#[track_caller]
fn assert_live_edge(snapshot: &Value, from: &str, to: &str, service: &str) {
    let e = edge(snapshot, from, to)
        .unwrap_or_else(|| panic!("no edge {from} -> {to} in {snapshot:#}"));
    assert!(e["rps"].as_f64().unwrap_or(0.0) > 0.0, "{e:#}");
    assert_eq!(e["destinationService"], service);
    assert_eq!(e["reporter"], "destination", "{e:#}");
    assert_eq!(e["successRate"], 1.0, "{e:#}");
    assert_eq!(e["mtls"], "mutual_tls", "{e:#}");
    let (p50, p99) = (e["p50Ms"].as_f64(), e["p99Ms"].as_f64());
    assert!(p50.is_some_and(|p| p > 0.0) && p99 >= p50, "{e:#}");
}

#[test]
fn top_once_and_the_dashboard_in_chromium_show_live_edges() {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is required (Debian's chromium package; .ci/run installs it)"
    );
    let (mesh, traffic) = busy_mesh();

    let snap = mesh.json(&["top", "--once", "--interval", "1"]);
    assert_live_edge(&snap, "client-v1", "reviews-v1", "reviews");
    assert_live_edge(&snap, "reviews-v1", "ratings-v1", "ratings");
    assert_eq!(snap["proxies"].as_array().map(Vec::len), Some(3));
    for p in snap["proxies"].as_array().into_iter().flatten() {
        assert_eq!(p["sync"], "SYNCED", "{p:#}");
    }
    let reviews = snap["workloads"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["workload"] == "reviews-v1"))
        .expect("reviews-v1 in workloads");
    assert!(
        reviews["inboundRps"].as_f64() > Some(0.0) && reviews["outboundRps"].as_f64() > Some(0.0)
    );
    println!("top --once: scraped 3 proxies in {} ms", snap["scrapeMs"]);

    let table = mesh.ok(&["top", "--once", "--interval", "0.5"]);
    assert!(
        table.contains("default/client-v1") && table.contains("mutual_tls"),
        "{table}"
    );
    // -n keeps edges touching that namespace: none here.
    let other = mesh.json(&["top", "--once", "--interval", "0.2", "-n", "elsewhere"]);
    assert_eq!(other["edges"], serde_json::json!([]));

    let mut dashboard = Dashboard::start(&mesh);
    let url = dashboard.url.clone();
    // Rates need two samples: wait until the feed has them before rendering.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let feed = get_json(&format!("{url}api/snapshot"));
        if edge(&feed["snapshot"], "client-v1", "reviews-v1")
            .is_some_and(|e| e["rps"].as_f64() > Some(0.0))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no rates in the dashboard feed: {feed:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let profile = tempfile::tempdir().expect("chromium profile");
    let dom = chromium(profile.path(), &["--dump-dom", &url]);
    for (from, to) in [("client-v1", "reviews-v1"), ("reviews-v1", "ratings-v1")] {
        let rps = dom_edge_rps(&dom, &format!("default/{from}"), &format!("default/{to}"))
            .unwrap_or_else(|| panic!("no edge {from} -> {to} drawn in\n{dom}"));
        assert!(rps > 0.0, "{from} -> {to} drawn with rps {rps}");
    }
    for node in ["client-v1", "reviews-v1", "ratings-v1"] {
        assert!(
            dom.contains(&format!("data-id=\"default/{node}\"")),
            "no node {node}"
        );
    }
    assert!(
        dom.contains("class=\"lock closed\""),
        "mTLS edges show a closed lock"
    );
    assert_eq!(
        dom.matches(">SYNCED<").count(),
        6,
        "3 proxies and 3 nodes SYNCED"
    );

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
            &url,
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    println!("dashboard screenshot: {}", shot.display());

    dashboard.stop();
    drop(traffic);
}

#[test]
fn top_and_dashboard_without_a_mesh_say_how_to_start_one() {
    let mesh = Mesh::new();
    for args in [&["top", "--once"][..], &["dashboard"]] {
        let out = mesh.cmd(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no control plane is running") && err.contains("meshctl install"),
            "{err}"
        );
    }
    let out = mesh.cmd(&["dashboard", "--address", "0.0.0.0:0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be a loopback address"));
}

#[test]
fn prometheus_addon_scrapes_every_proxy_and_stops_with_uninstall() {
    let mut mesh = Mesh::new();
    // A missing server is said before anything starts.
    let out = mesh
        .command(&["install", "-y", "--set", "addons.prometheus=true"])
        .env("MESHCTL_PROMETHEUS", "/nonexistent/prometheus")
        .output()
        .expect("install");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("apt-get install prometheus"));
    assert!(!mesh.home.path().join("control-plane.json").exists());

    let text = mesh.ok(&["install", "-y", "--set", "addons.prometheus=true"]);
    let api = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("prometheus http://"))
        .and_then(|l| l.split('/').next())
        .map(|a| format!("http://{a}"))
        .unwrap_or_else(|| panic!("no prometheus address in {text}"));
    mesh.run("reviews", "v1", &[]);
    mesh.run("client", "v1", &[]);
    mesh.wait_for("two synced proxies", |m| m.all_synced(2));
    let outbound = mesh.workload("client")["outboundAddress"]
        .as_str()
        .expect("outbound")
        .to_owned();
    let traffic = Traffic::start(&outbound, "http://reviews:9080/");
    let ids: Vec<String> = mesh
        .workloads()
        .iter()
        .filter_map(|w| w["proxyId"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2);

    let deadline = Instant::now() + Duration::from_secs(60);
    let (total, targets) = loop {
        let q = get_json(&format!(
            "{api}/api/v1/query?query=sum(istio_requests_total)"
        ));
        let total: f64 = q["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let t = get_json(&format!("{api}/api/v1/targets"));
        let up: Vec<String> = t["data"]["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["health"] == "up")
            .map(|t| {
                t["labels"]["proxy_id"]
                    .as_str()
                    .unwrap_or("control-plane")
                    .to_owned()
            })
            .collect();
        if total > 0.0
            && ids
                .iter()
                .chain(["control-plane".to_owned()].iter())
                .all(|id| up.contains(id))
        {
            break (total, up);
        }
        assert!(
            Instant::now() < deadline,
            "prometheus: sum {total}, targets up {up:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    println!("prometheus: sum(istio_requests_total) = {total}, targets up {targets:?}");
    drop(traffic);

    let pid: u32 = std::fs::read_to_string(mesh.home.path().join("prometheus.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    let out = mesh.ok(&["uninstall", "-y"]);
    assert!(
        out.contains(&format!("stopped: prometheus (pid {pid})")),
        "{out}"
    );
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists() || zombie(pid),
        "prometheus still runs"
    );
    mesh.children.iter_mut().for_each(|c| {
        let _ = Command::new("kill").arg(c.id().to_string()).status();
    });
}

fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// `data-rps` of the edge element drawn from `from` to `to`.
fn dom_edge_rps(dom: &str, from: &str, to: &str) -> Option<f64> {
    let tag = format!("data-source=\"{from}\" data-destination=\"{to}\" data-rps=\"");
    let at = dom.find(&tag)? + tag.len();
    dom[at..].split('"').next()?.parse().ok()
}

fn chromium(profile: &Path, args: &[&str]) -> String {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A GET with a JSON answer (plain HTTP/1.1 on loopback).
fn get_json(url: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Empty<bytes::Bytes>>();
        let resp = client.get(url.parse().expect("url")).await.expect("GET");
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    })
}

/// `meshctl dashboard` in the background, with the URL it printed.
struct Dashboard {
    child: Child,
    url: String,
}

impl Dashboard {
    fn start(mesh: &Mesh) -> Self {
        let mut child = mesh
            .command(&["dashboard", "--interval", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("meshctl dashboard");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the URL");
        let url = line
            .trim()
            .strip_prefix("dashboard: ")
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
            "{url}"
        );
        Self { child, url }
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.stop();
    }
}
