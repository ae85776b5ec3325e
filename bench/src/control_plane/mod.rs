//! `mesh-bench control-plane`: the control plane at mesh scale. Starts the real
//! `meshctl control-plane run` process on loopback and a simulated mesh of
//! proxies speaking the discovery protocol from this process, then measures how
//! long one VirtualService change takes to reach and be ACKed by every proxy, how
//! long a full resync takes after the control plane is killed and started again,
//! the control plane's RSS and CPU time (from /proc), and the bytes each change
//! pushes, at several mesh sizes; and how many workload certificates the CA
//! signs per second through the discovery server ([`csr`]).

mod csr;
mod mesh;
mod report;
mod sim;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use mesh_control_plane::api::{ApplyRequest, ApplyResponse};
use mesh_control_plane::client::AdminClient;

use crate::{net, procs};
pub use mesh::Scale;
pub use report::kept_section;
use sim::Sim;

/// Options of `mesh-bench control-plane`.
#[derive(Debug, clap::Args)]
pub struct ControlPlaneArgs {
    /// A tiny mesh (5 services, 30 endpoints, 20 proxies), two changes, one
    /// restart and a few CSRs, in seconds (for CI); writes to a temporary
    /// directory unless --out is given
    #[arg(long)]
    pub smoke: bool,
    /// Mesh sizes: `ENDPOINTS[:SERVICES[:PROXIES]]`. Services default to
    /// ENDPOINTS / --endpoints-per-service, proxies to ENDPOINTS; endpoints
    /// beyond the proxies are WorkloadEntries of ServiceEntries
    /// (`10000:1000:2000`: the 1,000 services, 10,000 endpoints, 2,000
    /// proxies)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100,1000,10000:1000:2000,10000"
    )]
    pub endpoints: Vec<String>,
    /// Endpoints per service when a size does not say (1,000 services at 10,000
    /// endpoints)
    #[arg(long, default_value_t = 10)]
    pub endpoints_per_service: usize,
    /// VirtualService changes measured per size
    #[arg(long, default_value_t = 10)]
    pub changes: usize,
    /// Discovery streams per HTTP/2 connection
    #[arg(long, default_value_t = 100)]
    pub streams_per_connection: usize,
    /// Give up on one phase (sync, change, resync) after this many seconds
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Simulated proxies asking for certificates at once (0: skip the CSR
    /// measurement)
    #[arg(long, default_value_t = 500)]
    pub csr_proxies: usize,
    /// Certificates requested per way of connecting
    #[arg(long, default_value_t = 10_000)]
    pub csrs: usize,
    /// Shared HTTP/2 connections for the multiplexed CSR run
    #[arg(long, default_value_t = 8)]
    pub csr_connections: usize,
    /// The meshctl binary [default: beside this binary, built with cargo if missing]
    #[arg(long)]
    pub meshctl: Option<PathBuf>,
    /// Where to write the report: the control-plane section of this Markdown
    /// file is replaced, the rest kept [default: docs/benchmarks.md, or a
    /// temporary directory with --smoke]
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// What one mesh size measured.
#[derive(Debug, Clone)]
pub struct ScaleResult {
    pub scale: Scale,
    pub proxies: usize,
    pub connections: usize,
    /// From the first stream opening until every proxy had every type and the
    /// control plane went quiet.
    pub initial_sync: Duration,
    pub initial_cpu_s: f64,
    /// Per change: until the last affected proxy ACKed the new routes.
    pub change_all: Vec<Duration>,
    /// Per proxy and change: apply to that proxy's ACK.
    pub change_each: Vec<Duration>,
    /// Per change: payload bytes pushed to all proxies.
    pub change_bytes: Vec<u64>,
    pub change_cpu_s: Vec<f64>,
    /// Restart: from spawning the new process until every proxy reconnected and
    /// had every type.
    pub resync_complete: Duration,
    /// ... and until the last push of the resync (the control plane settled).
    pub resync_settled: Duration,
    pub resync_cpu_s: f64,
    /// VmRSS after the initial sync and changes, KiB.
    pub rss_kib: u64,
    /// VmHWM (peak RSS) of the first process, KiB.
    pub peak_rss_kib: u64,
    /// VmRSS after the resync, KiB.
    pub rss_after_resync_kib: u64,
}

pub fn run(args: &ControlPlaneArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let bench_exe = std::env::current_exe().context("find the mesh-bench binary")?;
    let meshctl = crate::dataplane::find_meshctl(args.meshctl.as_deref(), &bench_exe)?;
    let scales: Vec<Scale> = if args.smoke {
        vec![Scale {
            services: 5,
            endpoints: 30,
            proxies: 20,
        }]
    } else {
        args.endpoints
            .iter()
            .map(|spec| parse_scale(spec, args.endpoints_per_service))
            .collect::<anyhow::Result<_>>()?
    };
    let changes = if args.smoke { 2 } else { args.changes.max(1) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the tokio runtime")?;
    let mut results = Vec::new();
    for scale in scales {
        eprintln!(
            "mesh-bench: control plane with {} services, {} endpoints, {} connected proxies",
            scale.services, scale.endpoints, scale.proxies
        );
        let r = rt.block_on(measure(&meshctl, scale, changes, args));
        match r {
            Ok(r) => {
                eprintln!("mesh-bench: {}", report::one_line(&r));
                results.push(Ok(r));
            }
            Err(e) => {
                eprintln!("mesh-bench: {} endpoints: {e:#}", scale.endpoints);
                results.push(Err((scale, format!("{e:#}"))));
            }
        }
    }
    let (csr_proxies, csrs) = if args.smoke {
        (20, 100)
    } else {
        (args.csr_proxies, args.csrs)
    };
    let csr = (csr_proxies > 0).then(|| {
        eprintln!("mesh-bench: {csrs} CSRs from {csr_proxies} proxies at once");
        let r = rt.block_on(csr::measure(&meshctl, csr_proxies, csrs, args.csr_connections));
        match &r {
            Ok(c) => eprintln!(
                "mesh-bench: CSRs signed per second: {:.0} (each proxy on its own open connection), {:.0} (a new connection each), {:.0} (shared connections); in process {:.0}",
                c.own_connection.rate, c.new_connection.rate, c.shared.rate, c.in_process_whole
            ),
            Err(e) => eprintln!("mesh-bench: CSRs: {e:#}"),
        }
        r.map_err(|e| format!("{e:#}"))
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    let path = output_path(args)?;
    let section = report::section(&report::Run {
        results: &results,
        meshctl: crate::dataplane::meshctl_version(&meshctl),
        command: crate::dataplane::command_line(),
        changes,
        streams_per_connection: args.streams_per_connection,
        csr: csr.as_ref(),
    });
    report::write_section(&path, &section)?;
    eprintln!(
        "mesh-bench: wrote the control-plane section of {} ({}s)",
        path.display(),
        started.elapsed().as_secs()
    );
    if results.iter().all(Result::is_err) {
        bail!("no mesh size could be measured");
    }
    Ok(())
}

/// `E`, `E:S` or `E:S:P`: E endpoints, S services (E / per_service when not
/// given), P proxies (E when not given, at most E).
fn parse_scale(spec: &str, per_service: usize) -> anyhow::Result<Scale> {
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("--endpoints {spec:?}: expected ENDPOINTS[:SERVICES[:PROXIES]], positive numbers"))
    };
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() > 3 {
        bail!("--endpoints {spec:?}: expected ENDPOINTS[:SERVICES[:PROXIES]]");
    }
    let endpoints = number(parts[0])?;
    let services = match parts.get(1) {
        Some(s) => number(s)?,
        None => (endpoints / per_service.max(1)).max(1),
    };
    let proxies = match parts.get(2) {
        Some(p) => number(p)?,
        None => endpoints,
    };
    Ok(Scale {
        services: services.min(endpoints),
        endpoints,
        proxies: proxies.min(endpoints),
    })
}

fn output_path(args: &ControlPlaneArgs) -> anyhow::Result<PathBuf> {
    let path = match (&args.out, args.smoke) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            let dir =
                std::env::temp_dir().join(format!("mesh-bench-cp-smoke-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            dir.join("benchmarks.md")
        }
        (None, false) => crate::dataplane::workspace_root()
            .join("docs")
            .join("benchmarks.md"),
    };
    Ok(path)
}

/// One control-plane process with a fixed home and addresses.
#[derive(Debug)]
struct ControlPlane {
    meshctl: PathBuf,
    home: PathBuf,
    discovery: String,
    admin: String,
    child: Option<Child>,
}

impl ControlPlane {
    fn new(meshctl: &Path, tag: usize) -> anyhow::Result<Self> {
        let home = std::env::temp_dir().join(format!("mesh-bench-cp-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).with_context(|| format!("create {}", home.display()))?;
        Ok(ControlPlane {
            meshctl: meshctl.to_path_buf(),
            home,
            discovery: format!("127.0.0.1:{}", net::free_port()?),
            admin: format!("127.0.0.1:{}", net::free_port()?),
            child: None,
        })
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The running process's CPU seconds so far (0 when it is not running).
    fn cpu_s(&self) -> f64 {
        procs::cpu_seconds(self.pid()).unwrap_or(0.0)
    }

    /// Starts the process and waits until its admin API answers.
    async fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("bench-control-plane.log"))?;
        let child = Command::new(&self.meshctl)
            .arg("--home")
            .arg(&self.home)
            .args(["control-plane", "run", "--log-level", "warn"])
            .args(["--discovery-address", &self.discovery])
            .args(["--admin-address", &self.admin])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("start {} control-plane run", self.meshctl.display()))?;
        self.child = Some(child);
        let client = self.client()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !client.ready().await {
            if Instant::now() > deadline {
                bail!(
                    "the control plane did not answer /ready within 30 s (log: {})",
                    self.home.join("bench-control-plane.log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    fn client(&self) -> anyhow::Result<AdminClient> {
        Ok(AdminClient::new(self.admin.parse()?))
    }

    async fn apply(&self, manifests: Vec<serde_json::Value>) -> anyhow::Result<ApplyResponse> {
        let req = ApplyRequest {
            manifests,
            dry_run: false,
        };
        Ok(self.client()?.post("/v1/apply", &req).await?)
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            net::stop(&mut c, Duration::from_secs(3));
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// VmHWM (peak RSS) in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Waits until `done` holds and no push arrived for `quiet`; returns when the
/// last push arrived (or when `done` first held, if later).
async fn settle(
    sim: &Sim,
    quiet: Duration,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + timeout;
    let mut done_at = None;
    loop {
        if done_at.is_none() && done() {
            done_at = Some(Instant::now());
        }
        if let Some(d) = done_at {
            let last = sim.last_push().max(d);
            if last.elapsed() >= quiet {
                return Ok(last);
            }
        }
        if Instant::now() > deadline {
            bail!("{what}: not done within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn measure(
    meshctl: &Path,
    scale: Scale,
    changes: usize,
    args: &ControlPlaneArgs,
) -> anyhow::Result<ScaleResult> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let quiet = Duration::from_millis(if args.smoke { 300 } else { 1000 });
    let mut cp = ControlPlane::new(meshctl, scale.endpoints)?;
    cp.start().await?;
    for batch in scale.manifests(1000) {
        cp.apply(batch)
            .await
            .context("apply the mesh's resources")?;
    }

    let specs = scale.proxy_specs();
    let n = specs.len();
    let per_conn = args.streams_per_connection.max(1);
    let channels = sim::connections(&cp.discovery, n.div_ceil(per_conn));
    let sim = Sim::new(n);
    let cpu0 = cp.cpu_s();
    let t_start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (i, spec) in specs.into_iter().enumerate() {
        let ch = channels[i / per_conn].clone();
        tasks.push(tokio::spawn(sim::run_proxy(i, spec, ch, sim.clone())));
    }
    let result = async {
        let last = settle(&sim, quiet, timeout, "initial sync", || sim.complete() == n).await?;
        let initial_sync = last - t_start;
        let initial_cpu_s = cp.cpu_s() - cpu0;

        let mut r = ScaleResult {
            scale,
            proxies: n,
            connections: channels.len(),
            initial_sync,
            initial_cpu_s,
            change_all: Vec::new(),
            change_each: Vec::new(),
            change_bytes: Vec::new(),
            change_cpu_s: Vec::new(),
            resync_complete: Duration::ZERO,
            resync_settled: Duration::ZERO,
            resync_cpu_s: 0.0,
            rss_kib: 0,
            peak_rss_kib: 0,
            rss_after_resync_kib: 0,
        };
        for k in 1..=changes {
            sim.mark();
            let cpu = cp.cpu_s();
            let t0 = Instant::now();
            cp.apply(vec![scale.change(k)])
                .await
                .context("apply a change")?;
            // Every proxy sees every service (no Sidecar scoping), so every
            // proxy is affected by a change to any VirtualService.
            settle(&sim, quiet, timeout, "change", || {
                sim.routes_since_mark().len() == n
            })
            .await?;
            let times = sim.routes_since_mark();
            let each: Vec<Duration> = times.iter().map(|t| *t - t0).collect();
            r.change_all
                .push(each.iter().copied().max().unwrap_or_default());
            r.change_each.extend(each);
            r.change_bytes.push(sim.bytes_since_mark());
            r.change_cpu_s.push(cp.cpu_s() - cpu);
        }
        r.rss_kib = procs::rss_kib(cp.pid()).unwrap_or(0);
        r.peak_rss_kib = peak_rss_kib(cp.pid());

        // Restart: kill -9, start again on the same home and addresses.
        let before = sim.sessions();
        cp.kill();
        let t_spawn = Instant::now();
        cp.start().await?;
        let cpu1 = cp.cpu_s();
        let mut complete_at = None;
        let last = settle(&sim, quiet, timeout, "resync", || {
            let ok = sim.all_reconnected(&before) && sim.complete() == n;
            if ok && complete_at.is_none() {
                complete_at = Some(Instant::now());
            }
            ok
        })
        .await?;
        r.resync_complete = complete_at.unwrap_or(last) - t_spawn;
        r.resync_settled = last - t_spawn;
        r.resync_cpu_s = cp.cpu_s() - cpu1;
        r.rss_after_resync_kib = procs::rss_kib(cp.pid()).unwrap_or(0);
        anyhow::Ok(r)
    }
    .await;
    for t in &tasks {
        t.abort();
    }
    drop(cp);
    result
}
