//! Certificate lifetimes end to end, as issue #5 defines "done": the real
//! control plane, real sidecars in STRICT mutual TLS and a real client sending
//! a steady stream of requests through both sidecars while (1) `meshctl ca
//! rotate` replaces the root and (2) 2-minute certificates renew for 5 minutes.
//! Not one request may fail.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::mesh::{Mesh, scrape};
use http_body_util::{BodyExt, Empty};
use serde_json::Value;

/// A client `client` and a server `server`, both with sidecars, in mesh-wide
/// STRICT mutual TLS; returns the client sidecar's outbound address.
fn strict_pair(mesh: &mut Mesh) -> String {
    for service in ["client", "server"] {
        mesh.run_with(service, "v1", &["--service-account", service], &[]);
    }
    mesh.wait_for("both apps ready", |m| {
        let w = m.workloads();
        w.len() == 2 && w.iter().all(|w| w["appReady"] == true)
    });
    mesh.ok(&["mtls", "mode", "strict"]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    mesh.workload("client")["outboundAddress"]
        .as_str()
        .expect("outbound")
        .to_owned()
}

/// Every proxy's `/certs`, as `meshctl proxy-config secret` shows it.
fn secrets(mesh: &Mesh) -> Vec<Value> {
    mesh.workloads()
        .iter()
        .map(|w| mesh.json(&["proxy-config", "secret", w["proxyId"].as_str().expect("id")]))
        .collect()
}

/// A client app sending requests one after another (10 ms apart) to
/// `http://server:9080/` through its sidecar on a keep-alive connection, until
/// stopped; counts answers and failures (a failure is remembered).
struct Stream {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl Stream {
    fn start(proxy: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let (s, o) = (stop.clone(), ok.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut failures = Vec::new();
                let mut sender = None;
                while !s.load(Ordering::Relaxed) {
                    if sender.is_none() {
                        match connect(&proxy).await {
                            Ok(c) => sender = Some(c),
                            Err(e) => failures.push(format!("connect: {e}")),
                        }
                    }
                    if let Some(c) = sender.as_mut() {
                        match get(c).await {
                            Ok(()) => {
                                o.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                failures.push(e);
                                sender = None;
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                failures
            })
        });
        Self { stop, ok, thread }
    }

    fn ok(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }

    /// Stop and return the failures.
    fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let failures = self.thread.join().expect("client thread");
        (self.ok.load(Ordering::Relaxed), failures)
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(proxy: &str) -> Result<Sender, String> {
    let stream = tokio::net::TcpStream::connect(proxy)
        .await
        .map_err(|e| e.to_string())?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn get(sender: &mut Sender) -> Result<(), String> {
    let req = http::Request::get("http://server:9080/")
        .header(http::header::HOST, "server:9080")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(Duration::from_secs(10), sender.send_request(req))
        .await
        .map_err(|_| "no answer in 10 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let flags = resp
        .headers()
        .get("x-meshctl-flags")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "status {status} {flags}: {}",
            String::from_utf8_lossy(&body.to_bytes())
        ));
    }
    Ok(())
}

fn fingerprints(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["fingerprintSha256"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ca_rotate_under_a_steady_mtls_stream_fails_no_request() {
    let mut mesh = Mesh::new();
    mesh.ok(&["install", "-y"]);
    let proxy = strict_pair(&mut mesh);
    let old_roots = fingerprints(&mesh.json(&["ca", "status"])["roots"]);
    assert_eq!(old_roots.len(), 1);

    let stream = Stream::start(proxy);
    mesh.wait_for("requests flowing", |_| stream.ok() >= 20);
    let before = stream.ok();
    let out = mesh.ok(&["ca", "rotate", "--timeout", "60"]);
    for want in [
        "phase 1/3 add-root: 2/2 proxies have a trust bundle with the new root",
        "phase 2/3 reissue: 2/2 proxies have a certificate from the new root",
        "phase 3/3 remove-old: 2/2 proxies have a trust bundle without the old root",
        "rotation complete",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
    // Keep the stream going over the new root for a while.
    let after_rotation = stream.ok();
    mesh.wait_for("requests after the rotation", |_| {
        stream.ok() >= after_rotation + 20
    });
    let (ok, failures) = stream.finish();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    assert!(ok > before, "requests flowed during the rotation");
    eprintln!(
        "{} requests during the rotation, {ok} in all, none failed",
        after_rotation - before
    );

    // The CA trusts and signs with the new root only; every proxy says its
    // certificate chains to it and its bundle holds it alone.
    let status = mesh.json(&["ca", "status"]);
    let new_roots = fingerprints(&status["roots"]);
    assert_eq!(new_roots.len(), 1);
    assert_ne!(new_roots, old_roots, "a new root");
    assert!(status["rotation"].is_null(), "rotation over: {status}");
    let proxies = status["proxies"].as_array().expect("proxies");
    assert_eq!(proxies.len(), 2, "{status}");
    for p in proxies {
        assert_eq!(p["origin"], "reported", "{p}");
        assert_eq!(p["rootSha256"].as_str(), Some(new_roots[0].as_str()), "{p}");
        assert_eq!(p["current"], true, "{p}");
        assert_eq!(p["trustBundleSha256"], serde_json::json!(new_roots), "{p}");
    }
    for secret in secrets(&mesh) {
        assert_eq!(fingerprints(&secret["trustBundle"]), new_roots, "{secret}");
        let leaf = &secret["certChain"][0];
        assert_eq!(
            leaf["issuer"], status["roots"][0]["subject"],
            "the leaf names the root: {secret}"
        );
        assert!(
            secret["rotations"].as_u64() >= Some(4),
            "first certificate + one per phase: {secret}"
        );
    }
    assert!(
        !mesh.home.path().join("ca/rotation.json").exists(),
        "the rotation record is gone once complete"
    );
    // And the server's sidecar saw those calls as mutual TLS from the client.
    let server = mesh.workload("server");
    let stats = scrape(server["adminAddress"].as_str().expect("admin"));
    assert!(
        stats.lines().any(|l| l.starts_with("istio_requests_total{")
            && l.contains("reporter=\"destination\"")
            && l.contains("connection_security_policy=\"mutual_tls\"")
            && l.contains("source_principal=\"spiffe://cluster.local/ns/default/sa/client\"")),
        "{stats}"
    );
}

/// 2-minute certificates renew at 80% of what is left (~96 s): in 5 minutes
/// every proxy installs its first certificate and at least two renewals, while
/// the stream over the pooled mutual-TLS connection never fails.
#[test]
fn two_minute_certificates_renew_under_a_steady_stream_for_five_minutes() {
    let mut mesh = Mesh::new();
    mesh.ok(&["install", "-y", "--set", "ca.workloadCertTtl=2m"]);
    let proxy = strict_pair(&mut mesh);
    let stream = Stream::start(proxy);
    let start = Instant::now();
    let serials = |m: &Mesh| -> Vec<String> {
        secrets(m)
            .iter()
            .map(|s| {
                s["certChain"][0]["serial"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    };
    let first = serials(&mesh);
    while start.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_secs(5));
    }
    let (ok, failures) = stream.finish();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    assert!(ok > 1000, "a steady stream: {ok} requests");
    for secret in secrets(&mesh) {
        let rotations = secret["rotations"].as_u64().unwrap_or(0);
        eprintln!(
            "{}: {rotations} certificates in {:.0?}; {ok} requests, none failed",
            secret["proxyId"],
            start.elapsed()
        );
        assert!(
            rotations >= 3,
            "first certificate and at least two renewals: {secret}"
        );
        let serial = secret["certChain"][0]["serial"].as_str().unwrap_or("");
        assert!(!first.iter().any(|s| s == serial), "renewed: {secret}");
    }
}
