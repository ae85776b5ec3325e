//! A local mesh for tests: a control plane in a temporary home, sample apps
//! with sidecars (`meshctl run`), and steady traffic through a sidecar.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use serde_json::Value;

pub fn meshctl() -> PathBuf {
    assert_cmd::cargo::cargo_bin("meshctl")
}

/// A mesh home with the processes started in it; dropping it stops them all.
pub struct Mesh {
    pub home: tempfile::TempDir,
    pub children: Vec<Child>,
}

impl Mesh {
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("tempdir"),
            children: Vec::new(),
        }
    }

    /// `meshctl ARGS` in this mesh's home.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(meshctl());
        c.env("MESHCTL_HOME", self.home.path())
            .env("NO_COLOR", "1")
            .args(args);
        c
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("run meshctl")
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "meshctl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&a)).expect("json output")
    }

    /// A sample app of `service`/`version` with its sidecar, calling `calls`
    /// for each request it serves.
    pub fn run(&mut self, service: &str, version: &str, calls: &[&str]) {
        self.run_with(service, version, &[], calls);
    }

    /// [`Mesh::run`] with more `meshctl run` flags (`--service-account sa`).
    pub fn run_with(&mut self, service: &str, version: &str, flags: &[&str], calls: &[&str]) {
        let app_port = meshctl::commands::demo::free_app_port().expect("free port");
        let mut c = self.command(&["run", "--service", service, "--version", version]);
        c.args(flags)
            .args(["--port", "9080", "--app-port", &app_port.to_string(), "--"])
            .arg(meshctl())
            .args(["sample-app", "--service", service, "--version", version]);
        for url in calls {
            c.args(["--call", url]);
        }
        let child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("meshctl run");
        self.children.push(child);
    }

    pub fn workloads(&self) -> Vec<Value> {
        self.json(&["get", "workloads"])
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The connected workload of `service`.
    pub fn workload(&self, service: &str) -> Value {
        self.workloads()
            .into_iter()
            .find(|w| w["service"] == service)
            .unwrap_or_else(|| panic!("no workload of {service}"))
    }

    #[track_caller]
    pub fn wait_for(&self, what: &str, mut f: impl FnMut(&Mesh) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if f(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {what}");
    }

    pub fn all_synced(&self, proxies: usize) -> bool {
        let list = self.json(&["proxy-status"]);
        let list = list.as_array().cloned().unwrap_or_default();
        list.len() == proxies
            && list.iter().all(|p| {
                p["types"]
                    .as_array()
                    .is_some_and(|t| t.iter().all(|t| t["status"] == "SYNCED"))
            })
    }

    /// The control plane's process id (from its pid file).
    pub fn pid(&self) -> u32 {
        std::fs::read_to_string(self.home.path().join("control-plane.pid"))
            .expect("pid file")
            .trim()
            .parse()
            .expect("pid")
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
        let _ = self.cmd(&["uninstall", "-y"]);
    }
}

/// A sidecar's Prometheus metrics, from its admin listener at `admin`.
pub fn scrape(admin: &str) -> String {
    let out = Command::new("curl")
        .args(["-sf", &format!("http://{admin}/stats/prometheus")])
        .output()
        .expect("curl");
    assert!(out.status.success(), "scrape {admin}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sum of `istio_requests_total` in a scrape over the series that carry
/// every label of `want` (`key="value"` strings).
pub fn requests(stats: &str, want: &[impl AsRef<str>]) -> u64 {
    stats
        .lines()
        .filter(|l| l.starts_with("istio_requests_total{"))
        .filter(|l| want.iter().all(|w| l.contains(w.as_ref())))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// GETs of one URL through a sidecar's outbound listener, one every few
/// milliseconds on a keep-alive connection, until dropped.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    /// Answers received (any status).
    pub sent: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Traffic {
    pub fn start(proxy: &str, url: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (proxy, uri) = (proxy.to_owned(), url.parse::<http::Uri>().expect("url"));
        let (s, n) = (stop.clone(), sent.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                while !s.load(Ordering::Relaxed) {
                    let Ok(stream) = tokio::net::TcpStream::connect(&proxy).await else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(io).await
                    else {
                        continue;
                    };
                    tokio::spawn(conn);
                    while !s.load(Ordering::Relaxed) {
                        let req = http::Request::get(uri.clone())
                            .header(
                                http::header::HOST,
                                uri.authority().expect("authority").as_str(),
                            )
                            .body(Empty::<Bytes>::new())
                            .expect("request");
                        let Ok(resp) = sender.send_request(req).await else {
                            break;
                        };
                        let _ = resp.into_body().collect().await;
                        n.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            });
        });
        Self {
            stop,
            sent,
            thread: Some(thread),
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
