//! The report: a Markdown page (docs/benchmarks.md) and an SVG plot of latency
//! against rate per setup, written by hand (no plotting dependency).

use std::fmt::Write as _;
use std::time::Duration;

use crate::dataplane::{Plan, Point, Sample, Setup};
use crate::procs::Mem;
use crate::stats::{Spread, median, spread};

/// Versions of what was measured.
#[derive(Debug, Clone)]
pub struct Versions {
    pub meshctl: String,
    pub envoy: String,
    pub oha: String,
    /// The single-hop reference proxies, "nginx 1.22.1" and so on.
    pub references: Vec<String>,
    /// How many functions of the release build's link order the binary has.
    pub link_order: String,
}

/// Everything the report is made of.
#[derive(Debug)]
pub struct Report<'a> {
    pub plan: &'a Plan,
    pub setups: &'a [Setup],
    pub samples: &'a [Sample],
    pub idle_mem: &'a [(Setup, Mem)],
    pub versions: Versions,
    pub command: String,
    pub elapsed: Duration,
}

impl Report<'_> {
    fn of(&self, point: usize, setup: Setup) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(move |s| s.point == point && s.setup == setup)
    }

    /// The median over rounds of `f`.
    fn med(&self, point: usize, setup: Setup, f: impl Fn(&Sample) -> f64) -> Option<f64> {
        median(self.of(point, setup).map(f))
    }

    /// The median over rounds of `g(f(a), f(b))`, pairing samples of the same round.
    fn paired(
        &self,
        point: usize,
        a: Setup,
        b: Setup,
        f: impl Fn(&Sample) -> f64,
        g: impl Fn(f64, f64) -> f64,
    ) -> Option<f64> {
        median(self.per_round(point, a, b, f, g))
    }

    /// `g(f(a), f(b))` for each round that has both (the summary also shows their
    /// range: `stats::spread`).
    fn per_round(
        &self,
        point: usize,
        a: Setup,
        b: Setup,
        f: impl Fn(&Sample) -> f64,
        g: impl Fn(f64, f64) -> f64,
    ) -> impl Iterator<Item = f64> {
        self.of(point, a).filter_map(move |sa| {
            self.of(point, b)
                .find(|sb| sb.round == sa.round)
                .map(|sb| g(f(sa), f(sb)))
        })
    }

    fn has(&self, s: Setup) -> bool {
        self.setups.contains(&s)
    }
}

fn ms(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.3}", v * 1e3))
}

fn us(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:+.0}", v * 1e6))
}

fn ratio(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.2}x"))
}

/// A median ratio, then the lowest and highest per-round ratio when there
/// were several rounds: `0.93x (0.81–1.04)`.
fn ratio_range(x: Option<Spread>) -> String {
    match x {
        Some(s) if s.n > 1 => format!("{:.2}x ({:.2}–{:.2})", s.median, s.min, s.max),
        Some(s) => ratio(Some(s.median)),
        None => ratio(None),
    }
}

fn num(x: Option<f64>, decimals: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

fn mib(kib: f64) -> String {
    format!("{:.1}", kib / 1024.0)
}

type Metric = fn(&Sample) -> f64;

const P50: Metric = |s| s.outcome.p50;
const P90: Metric = |s| s.outcome.p90;
const P99: Metric = |s| s.outcome.p99;
const P999: Metric = |s| s.outcome.p999;
const CPU_PER_REQ: Metric = Sample::cpu_us_per_req;
const RPS_PER_CORE: Metric = |s| s.outcome.ok as f64 / s.proxy_cpu_s;

pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cores} CPUs (nproc), {model}, Linux {kernel}")
}

pub(crate) fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The Markdown page.
pub fn markdown(r: &Report<'_>, svg_name: &str) -> String {
    let mut md = String::new();
    let plan = r.plan;
    let _ = writeln!(md, "# Data-plane benchmark\n");
    let _ = writeln!(
        md,
        "> **Preliminary.** Written by `mesh-bench data-plane`{}. Measured on a small \
         machine that was shared with other work at the time: treat absolute numbers as \
         indicative; the ratios (same machine, same round) are the more robust part.\n",
        if plan.smoke {
            " in `--smoke` mode (one short round: it checks that the harness works, the numbers mean nothing)"
        } else {
            ""
        }
    );
    let _ = writeln!(md, "## Run\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| date | {} |", today());
    let _ = writeln!(md, "| machine | {} |", machine());
    let _ = writeln!(md, "| meshctl | {} |", r.versions.meshctl);
    let _ = writeln!(md, "| meshctl link order | {} |", r.versions.link_order);
    let _ = writeln!(md, "| Envoy | {} |", r.versions.envoy);
    if !r.versions.references.is_empty() {
        let _ = writeln!(
            md,
            "| reference proxies | {} |",
            r.versions.references.join(", ")
        );
    }
    let _ = writeln!(md, "| load generator | {} |", r.versions.oha);
    let _ = writeln!(md, "| command | `{}` |", r.command.trim());
    let pinning = match (&plan.load_cpus, &plan.proxy_cpus) {
        (Some(l), Some(p)) => format!(
            "load generator, echo backend and control plane on CPU {l}; every proxy on CPU {p} (taskset)"
        ),
        _ => "none (one CPU, or --no-pin)".into(),
    };
    let _ = writeln!(md, "| pinning | {pinning} |");
    let _ = writeln!(
        md,
        "| plan | {} rounds x {} load points x {} setups, {} s per run, shuffled order (seed {}); {} s in all |",
        plan.rounds,
        plan.points.len(),
        r.setups.len(),
        plan.seconds,
        plan.seed,
        r.elapsed.as_secs()
    );
    let _ = writeln!(md);

    let _ = writeln!(md, "## Setups\n");
    let _ = writeln!(md, "| setup | path |\n|---|---|");
    for s in r.setups {
        let _ = writeln!(md, "| {} | {} |", s.name(), s.path());
    }
    let _ = writeln!(md);

    let fixed: Vec<usize> = (0..plan.points.len())
        .filter(|p| plan.points[*p].rate.is_some())
        .collect();
    let pairs = [
        (Setup::Mesh1, Setup::Envoy1, "1 hop"),
        (Setup::Mesh2, Setup::Envoy2, "2 hops"),
        (Setup::Mesh2Mtls, Setup::Envoy2Mtls, "2 hops mTLS"),
        // The issue's target: two meshctl sidecars with mTLS against one Envoy hop.
        (
            Setup::Mesh2Mtls,
            Setup::Envoy1,
            "meshctl 2 hops mTLS / Envoy 1 hop",
        ),
        (Setup::Mesh1H2, Setup::Envoy1H2, "1 hop (h2)"),
        (Setup::Mesh2MtlsH2, Setup::Envoy2MtlsH2, "2 hops mTLS (h2)"),
        (
            Setup::Mesh2MtlsTcp,
            Setup::Envoy2MtlsTcp,
            "2 hops mTLS (TCP)",
        ),
        (
            Setup::Mesh2MtlsGrpc,
            Setup::Envoy2MtlsGrpc,
            "2 hops mTLS (gRPC)",
        ),
        (Setup::Mesh1, Setup::Nginx1, "meshctl 1 hop / nginx 1 hop"),
        (
            Setup::Mesh1,
            Setup::Haproxy1,
            "meshctl 1 hop / HAProxy 1 hop",
        ),
        // The issue's floor: a meshctl hop within 1.3x a plain tokio relay.
        (
            Setup::Mesh1,
            Setup::Relay1,
            "meshctl 1 hop / tokio relay 1 hop",
        ),
    ];
    let pairs: Vec<_> = pairs
        .into_iter()
        .filter(|(m, e, _)| r.has(*m) && r.has(*e))
        .collect();
    if !pairs.is_empty() {
        let _ = writeln!(md, "## Summary: meshctl / Envoy, nginx, HAProxy\n");
        let _ = writeln!(
            md,
            "Medians over rounds of the per-round ratio meshctl / the other proxy at the \
             same load point (below 1 = meshctl lower). A bare hop count compares meshctl \
             with Envoy at the same hops and security; `(h2)` rows have the load generator \
             speak h2c to the first proxy; `(TCP)` rows relay `CONNECT` tunnels that carry \
             the client's own TLS (Envoy's server side is `tcp_proxy`); `(gRPC)` rows are \
             fortio's gRPC pings, whose latencies are not corrected for coordinated \
             omission, so they compare only with gRPC; the other rows name both setups (two meshctl \
             sidecars with mTLS against one Envoy hop; meshctl's server sidecar against \
             nginx and HAProxy as plain reverse proxies). Latency ratios are of total \
             latency; added latency over direct is in the tables below. Peak RSS is VmRSS; \
             peak RssAnon is the proxies' own (anonymous) memory, without the binary's \
             shared file pages (see Memory). The added p50 and CPU columns give, after \
             the median, the lowest and highest per-round ratio: a point whose range \
             spans 1 is not settled by this run.\n"
        );
        let _ = writeln!(
            md,
            "| load | compared | p50 | p99 | p99.9 | added p50 | added p99 | proxy CPU / request | peak RSS | peak RssAnon |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
        for &p in &fixed {
            for &(m, e, hops) in &pairs {
                let added = |metric: Metric| {
                    spread(r.per_round(
                        p,
                        m,
                        e,
                        |s| {
                            metric(s)
                                - r.of(p, m.baseline())
                                    .find(|d| d.round == s.round)
                                    .map_or(f64::NAN, metric)
                        },
                        |a, b| a / b,
                    ))
                };
                let _ = writeln!(
                    md,
                    "| {} | {hops} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    plan.points[p].label(),
                    ratio(r.paired(p, m, e, P50, |a, b| a / b)),
                    ratio(r.paired(p, m, e, P99, |a, b| a / b)),
                    ratio(r.paired(p, m, e, P999, |a, b| a / b)),
                    ratio_range(added(P50)),
                    ratio(added(P99).map(|s| s.median)),
                    ratio_range(spread(r.per_round(p, m, e, CPU_PER_REQ, |a, b| a / b))),
                    ratio(r.paired(p, m, e, |s| s.peak.rss as f64, |a, b| a / b)),
                    ratio(r.paired(p, m, e, |s| s.peak.anon as f64, |a, b| a / b)),
                );
            }
        }
        let _ = writeln!(md);
        // Peak throughput per proxy core, the same pairs.
        let sat: Vec<usize> = (0..plan.points.len())
            .filter(|p| plan.points[*p].rate.is_none())
            .collect();
        if !sat.is_empty() {
            let _ = writeln!(
                md,
                "At saturation (no rate limit), the ratio of `rps per proxy core` (above 1 = \
                 meshctl serves more requests per CPU second):\n"
            );
            let _ = writeln!(md, "| load | compared | rps per proxy core | peak rps |");
            let _ = writeln!(md, "|---|---|---|---|");
            for &p in &sat {
                for &(m, e, hops) in &pairs {
                    let _ = writeln!(
                        md,
                        "| {} | {hops} | {} | {} |",
                        plan.points[p].label(),
                        ratio(r.paired(p, m, e, RPS_PER_CORE, |a, b| a / b)),
                        ratio(r.paired(p, m, e, |s| s.outcome.rps, |a, b| a / b)),
                    );
                }
            }
            let _ = writeln!(md);
        }
    }

    let _ = writeln!(md, "## Latency at fixed rates\n");
    let _ = writeln!(
        md,
        "Latency in ms (oha with `--latency-correction`: measured from when each request \
         was due, so a stall is not hidden by coordinated omission; the gRPC setups' fortio \
         measures from when each call was sent, catching up after a stall instead); added \
         latency in µs over direct in the same round (the TCP and gRPC setups over their own \
         direct, with the same client and backend); `x direct` = median per-round ratio to \
         that direct; proxy CPU = \
         CPU time of the setup's proxy processes (their CPU-time clocks) per successful request; RSS = peak \
         summed VmRSS of those processes during the run. All values are medians over rounds.\n"
    );
    let _ = writeln!(md, "![latency against rate]({svg_name})\n");
    for &p in &fixed {
        let _ = writeln!(md, "### {}\n", plan.points[p].label());
        let _ = writeln!(
            md,
            "| setup | rps | p50 | p90 | p99 | p99.9 | added p50 µs | added p99 µs | p99 x direct | proxy CPU µs/req | RSS MiB | errors |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|");
        for &s in r.setups {
            let direct = s.is_direct();
            let diff = |m: Metric| {
                if direct {
                    None
                } else {
                    r.paired(p, s, s.baseline(), m, |a, b| a - b)
                }
            };
            let errors: u64 = r.of(p, s).map(|x| x.outcome.errors).sum();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {errors} |",
                s.name(),
                num(r.med(p, s, |x| x.outcome.rps), 0),
                ms(r.med(p, s, P50)),
                ms(r.med(p, s, P90)),
                ms(r.med(p, s, P99)),
                ms(r.med(p, s, P999)),
                us(diff(P50)),
                us(diff(P99)),
                if direct {
                    "-".into()
                } else {
                    ratio(r.paired(p, s, s.baseline(), P99, |a, b| a / b))
                },
                if direct {
                    "-".into()
                } else {
                    num(r.med(p, s, CPU_PER_REQ), 1)
                },
                if direct {
                    "-".into()
                } else {
                    r.med(p, s, |x| x.peak.rss as f64).map_or("-".into(), mib)
                },
            );
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## Peak throughput\n");
    let _ = writeln!(
        md,
        "No rate limit. `proxy CPU` = CPU seconds of the setup's proxies per second of \
         the run (the proxies share the pinned proxy CPUs; a 2-hop setup runs two proxies); \
         `rps per proxy core` = successful requests per proxy CPU second. When direct is not \
         far above the others, the load generator (sharing its CPU with the backend) is the \
         limit, not the proxy.\n"
    );
    let _ = writeln!(
        md,
        "| setup | load | peak rps | proxy CPU (cores) | rps per proxy core | p50 ms | p99 ms | errors |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for p in (0..plan.points.len()).filter(|p| plan.points[*p].rate.is_none()) {
        for &s in r.setups {
            let direct = s.is_direct();
            let errors: u64 = r.of(p, s).map(|x| x.outcome.errors).sum();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {errors} |",
                s.name(),
                plan.points[p].label(),
                num(r.med(p, s, |x| x.outcome.rps), 0),
                if direct {
                    "-".into()
                } else {
                    num(r.med(p, s, |x| x.proxy_cpu_s / f64::from(plan.seconds)), 2)
                },
                if direct {
                    "-".into()
                } else {
                    num(r.med(p, s, RPS_PER_CORE), 0)
                },
                ms(r.med(p, s, P50)),
                ms(r.med(p, s, P99)),
            );
        }
    }
    let _ = writeln!(md);

    let _ = writeln!(md, "## Memory\n");
    let _ = writeln!(
        md,
        "Summed over the setup's proxy processes, MiB: idle = after start, before any \
         request; under load = the highest sample of each column over every run (VmRSS, \
         RssAnon and RssFile every 100 ms, PSS every 500 ms; each column's own peak). \
         VmRSS = RssAnon + RssFile (+ RssShmem): RssAnon is the proxy's own memory (heap, \
         stacks, buffers), what each added sidecar costs; RssFile is resident pages of the \
         binary and libraries, shared by every process that maps the same files; PSS \
         charges each shared page to its processes in equal parts, so it depends on how \
         many copies of the binary run on the host (see the caveats). The 1-hop setups \
         use the server-side proxy of the 2-hop pair, so their proxies are a subset.\n"
    );
    let _ = writeln!(
        md,
        "| setup | idle VmRSS | idle RssAnon | idle RssFile | idle PSS | load VmRSS | load RssAnon | load RssFile | load PSS |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for &(s, idle) in r.idle_mem {
        if s.is_direct() {
            continue;
        }
        let peak = r
            .samples
            .iter()
            .filter(|x| x.setup == s)
            .fold(Mem::default(), |a, x| a.max(x.peak));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name(),
            mib(idle.rss as f64),
            mib(idle.anon as f64),
            mib(idle.file as f64),
            mib(idle.pss as f64),
            mib(peak.rss as f64),
            mib(peak.anon as f64),
            mib(peak.file as f64),
            mib(peak.pss as f64),
        );
    }
    let _ = writeln!(md);

    let _ = writeln!(md, "## Method and caveats\n");
    for line in [
        "Every setup runs at once (control plane, three sidecars, two Envoys, nginx, HAProxy, one backend); runs go one at a time, each round in a new shuffled order of load points and, within a point, of setups. Ratios are taken between runs of the same round, then the median over rounds is reported.",
        "Every setup hits the same backend process: `mesh-bench echo`, a one-thread hyper server answering a 16-byte body, started by `meshctl run --service echo --port 9080`.",
        "meshctl is the real product: `meshctl install` into a private home, `meshctl run` for the echo service and for a `loadgen` client workload (`sleep`); the load generator uses the loadgen sidecar's outbound listener (`outboundAddress` of `meshctl get workloads -o json`) as its HTTP proxy and asks for `http://echo:9080/`.",
        "meshctl 1 hop is the server side of the mesh path (the echo sidecar's inbound listener, `Host: echo:9080`), not the client side: today a sidecar's outbound listener can only forward to other sidecars' inbound listeners (endpoints are workloads; no passthrough or ServiceEntry endpoints yet), so there is no client-sidecar-to-bare-backend path in the product. Envoy 1 hop is the same shape (the server Envoy).",
        "Envoy runs with `--concurrency 1` and a minimal static bootstrap (HTTP connection manager, router, one static cluster): no Istio filters (stats, metadata exchange, authz), so it is a lower bound on an Istio sidecar's cost. meshctl's sidecars are single-threaded too.",
        "Between the two proxies of a 2-hop setup: plaintext HTTP/1.1 in the plain pairs (meshctl's DestinationRule `tls.mode: DISABLE`); in the mTLS pairs both speak HTTP/1.1 on keep-alive connections (Istio's default `h2UpgradePolicy`), with SPIFFE certificates.",
        "nginx and HAProxy are single-hop references, reverse proxies in front of the same backend, configured like the server Envoy: nginx with one worker process (plus its idle master, both counted), an upstream `keepalive` pool, HTTP/1.1 without `Connection: close`, no cap on requests per connection, `access_log off`; HAProxy with `nbthread 1`, `mode http`, keep-alive on both sides with `http-reuse always`, no logging. Both from generated configs in temporary directories, unprivileged ports, pinned to the proxy CPU. They do no routing by service, no mTLS, no telemetry: a floor for what any HTTP proxy hop costs on this machine, not a mesh.",
        "`(h2)` setups: oha speaks h2c (HTTP/2 with prior knowledge, `--http2`) to the first proxy, with `--connect-to echo:9080:ADDR` so that the request's `:authority` is `echo:9080` (no HTTP-proxy form in HTTP/2); oha opens the same number of connections with one stream each (`-p 1`). Behind the first proxy nothing changes: meshctl's inbound sidecar and both Envoys talk HTTP/1.1 to the backend; the Envoy pair's mTLS hop stays HTTP/1.1.",
        "TCP setups: the client is oha asking for `https://echo-tcp:9443/` through the first proxy as its HTTP proxy, so each of its connections is a `CONNECT echo-tcp:9443` tunnel carrying oha's own TLS to the HTTPS echo (`mesh-bench echo --tls`), many requests per tunnel; the proxies relay opaque bytes, what a mesh does for a database or any TCP port. meshctl: the `echo-tcp` service's port has protocol `tcp`; the loadgen sidecar opens a mutual-TLS tunnel to the echo-tcp sidecar, which connects to the app. Envoy: the client Envoy terminates `CONNECT` (`upgrade_configs` with `connect_config`) onto a mutual-TLS cluster, the server Envoy's `tcp_proxy` forwards to the app (Istio's own shape for TCP ports). Their baseline is `direct (TCP)`: oha to the HTTPS echo, no tunnel.",
        "gRPC setups: fortio (`fortio load -grpc -ping`, one unary call at a time per connection) against fortio's gRPC ping server (`GOMAXPROCS=1`, like the one-thread echo), h2c from the client to the first proxy with `:authority echo-grpc:9090`, HTTP/2 over mutual TLS between the proxies, h2c to the server. fortio's latencies are from when each call was sent (it catches up after a stall rather than correcting for coordinated omission), so compare them with each other and with `direct (gRPC)`, not with oha's. Go's gRPC client and server both send a PING with each response's WINDOW_UPDATE (BDP estimation), which every proxy answers.",
        "Memory: VmRSS counts every resident page a process maps, including the binary's file pages, which every process running the same binary shares: on this host 11 processes map meshctl (control plane, five `meshctl run` supervisors, five sidecars; 9 with `--no-grpc`), 2 map Envoy, 2 nginx, 1 HAProxy. RssAnon (from /proc/PID/status) is memory the proxy itself allocated and is what a further sidecar adds; RssFile is the shared, resident part of the binary and libraries (a larger binary shows more, but pays it once per host, not per sidecar); PSS (/proc/PID/smaps_rollup) divides shared pages between the processes mapping them, so it falls as more copies run. Release builds of meshctl place the functions a sidecar runs together (`meshctl link order` above; `cli/build.rs`), so its RssFile is mostly those few MiB of code rather than every 64 KiB block of the binary that one of them shares. The summary's `peak RSS` ratio is on VmRSS, `peak RssAnon` on the private part.",
        "At saturation the load generator shares its CPU with the backend: when direct is barely above a 1-hop setup, that CPU is the limit, so compare proxies by `rps per proxy core` (requests per proxy CPU second), not by peak rps alone.",
        "CPU time is each proxy process's CPU-time clock (`clock_getcpuclockid`, every thread, exited ones included), read before and after each run: the scheduler's nanosecond count. Runs before 2026-12-06 read utime+stime from /proc/PID/stat: the same count (the kernel scales them to it; over a whole run here the two agree within 1%), but in whole 10 ms ticks, so each run's figure could be off by up to 20 ms, 7-20% of a proxy's 0.1-0.3 s in a 4 s run at 500 rps.",
    ] {
        let _ = writeln!(md, "- {line}");
    }
    md
}

const COLORS: [(Setup, &str, &str); 20] = [
    (Setup::Direct, "#555555", ""),
    (Setup::Mesh1, "#6baed6", "6,4"),
    (Setup::Mesh1H2, "#6baed6", "1,2"),
    (Setup::Mesh2, "#2171b5", "2,3"),
    (Setup::Mesh2Mtls, "#08306b", ""),
    (Setup::Mesh2MtlsH2, "#08306b", "1,2"),
    (Setup::Envoy1, "#fd8d3c", "6,4"),
    (Setup::Envoy1H2, "#fd8d3c", "1,2"),
    (Setup::Envoy2, "#d94801", "2,3"),
    (Setup::Envoy2Mtls, "#7f2704", ""),
    (Setup::Envoy2MtlsH2, "#7f2704", "1,2"),
    (Setup::Nginx1, "#31a354", "6,4"),
    (Setup::Haproxy1, "#756bb1", "6,4"),
    (Setup::Relay1, "#999999", "1,3"),
    (Setup::DirectTls, "#555555", "4,2"),
    (Setup::Mesh2MtlsTcp, "#08306b", "8,3"),
    (Setup::Envoy2MtlsTcp, "#7f2704", "8,3"),
    (Setup::DirectGrpc, "#555555", "2,2"),
    (Setup::Mesh2MtlsGrpc, "#08306b", "3,1"),
    (Setup::Envoy2MtlsGrpc, "#7f2704", "3,1"),
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Latency (log scale) against rate: one row of panels (p50, p99) per connection count.
pub fn svg(r: &Report<'_>) -> String {
    let plan = r.plan;
    let mut conns: Vec<u32> = plan
        .points
        .iter()
        .filter(|p| p.rate.is_some())
        .map(|p| p.connections)
        .collect();
    conns.dedup();
    let metrics: [(&str, Metric); 2] = [("p50", P50), ("p99", P99)];
    let (pw, ph) = (420.0_f64, 260.0_f64);
    let (ml, mr, mt, mb) = (60.0, 20.0, 30.0, 45.0);
    let width = pw * metrics.len() as f64;
    // The legend wraps: as many 170 px entries per line as fit.
    let per_line = (((width - 20.0) / 170.0).floor() as usize).max(1);
    let shown = COLORS.iter().filter(|(st, _, _)| r.has(*st)).count();
    let legend_h = 20.0 * shown.div_ceil(per_line).max(1) as f64 + 10.0;
    let height = ph * conns.len().max(1) as f64 + legend_h;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let max_rate = plan
        .points
        .iter()
        .filter_map(|p| p.rate)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for (row, &c) in conns.iter().enumerate() {
        let pts: Vec<(usize, Point)> = plan
            .points
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, p)| p.connections == c && p.rate.is_some())
            .collect();
        for (col, (mname, metric)) in metrics.iter().enumerate() {
            let x0 = col as f64 * pw + ml;
            let y0 = row as f64 * ph + mt;
            let (w, h) = (pw - ml - mr, ph - mt - mb);
            let values: Vec<f64> = pts
                .iter()
                .flat_map(|(i, _)| r.setups.iter().filter_map(|st| r.med(*i, *st, metric)))
                .filter(|v| *v > 0.0)
                .collect();
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min) * 1e3;
            let hi = values.iter().copied().fold(0.0_f64, f64::max) * 1e3;
            let (lo, hi) = if lo.is_finite() && hi > 0.0 {
                (nice_below(lo * 0.9), nice_above(hi * 1.1))
            } else {
                (0.01, 10.0)
            };
            let ys =
                |v_ms: f64| y0 + h - (v_ms.log10() - lo.log10()) / (hi.log10() - lo.log10()) * h;
            let xs = |rate: f64| x0 + rate / max_rate * w;
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{mname} latency, {c} connections</text>"##,
                x0 + w / 2.0,
                y0 - 12.0
            );
            let _ = writeln!(
                s,
                r##"<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>"##
            );
            // y grid: 1, 2, 5 x 10^k ms
            let mut decade = 10f64.powf(lo.log10().floor());
            while decade < hi * 1.001 {
                for m in [1.0, 2.0, 5.0] {
                    let v = decade * m;
                    if v < lo * 0.999 || v > hi * 1.001 {
                        continue;
                    }
                    let y = ys(v);
                    let _ = writeln!(
                        s,
                        r##"<line x1="{x0}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                        x0 + w,
                        x0 - 4.0,
                        y + 4.0,
                        trim_num(v)
                    );
                }
                decade *= 10.0;
            }
            for (_, p) in &pts {
                let rate = f64::from(p.rate.unwrap_or(0));
                let x = xs(rate);
                let _ = writeln!(
                    s,
                    r##"<line x1="{x:.1}" x2="{x:.1}" y1="{y0}" y2="{}" stroke="#f0f0f0"/><text x="{x:.1}" y="{}" text-anchor="middle">{rate}</text>"##,
                    y0 + h,
                    y0 + h + 14.0
                );
            }
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle">requests per second</text><text x="{}" y="{}" text-anchor="middle" transform="rotate(-90 {} {})">ms (log)</text>"##,
                x0 + w / 2.0,
                y0 + h + 30.0,
                x0 - 42.0,
                y0 + h / 2.0,
                x0 - 42.0,
                y0 + h / 2.0
            );
            for (setup, color, dash) in COLORS {
                if !r.has(setup) {
                    continue;
                }
                let line: Vec<(f64, f64)> = pts
                    .iter()
                    .filter_map(|(i, p)| {
                        let v = r.med(*i, setup, metric)? * 1e3;
                        (v > 0.0).then(|| (xs(f64::from(p.rate.unwrap_or(0))), ys(v)))
                    })
                    .collect();
                let d: Vec<String> = line.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                let dash_attr = if dash.is_empty() {
                    String::new()
                } else {
                    format!(r#" stroke-dasharray="{dash}""#)
                };
                let _ = writeln!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash_attr}/>"#,
                    d.join(" ")
                );
                for (x, y) in &line {
                    let _ = writeln!(
                        s,
                        r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{color}"/>"#
                    );
                }
            }
        }
    }
    let legend_top = height - legend_h + 15.0;
    for (i, (setup, color, dash)) in COLORS
        .into_iter()
        .filter(|(st, _, _)| r.has(*st))
        .enumerate()
    {
        let lx = 20.0 + (i % per_line) as f64 * 170.0;
        let ly = legend_top + (i / per_line) as f64 * 20.0;
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"{dash_attr}/><text x="{}" y="{}">{}</text>"#,
            lx + 24.0,
            lx + 28.0,
            ly + 4.0,
            esc(setup.name())
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The largest 1, 2 or 5 x 10^k at or below `v` (> 0).
fn nice_below(v: f64) -> f64 {
    let decade = 10f64.powf(v.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|n| *n <= v * 1.000_001)
        .unwrap_or(decade)
}

/// The smallest 1, 2 or 5 x 10^k at or above `v` (> 0).
fn nice_above(v: f64) -> f64 {
    let decade = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|n| *n >= v * 0.999_999)
        .unwrap_or(decade * 10.0)
}

fn trim_num(v: f64) -> String {
    let t = format!("{v:.3}");
    t.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oha::Outcome;

    fn sample(round: u32, point: usize, setup: Setup, p50: f64) -> Sample {
        Sample {
            round,
            point,
            setup,
            outcome: Outcome {
                ok: 1000,
                errors: 0,
                rps: 500.0,
                p50,
                p90: p50 * 1.5,
                p99: p50 * 2.0,
                p999: p50 * 3.0,
            },
            proxy_cpu_s: 0.1,
            peak: Mem {
                rss: 10240,
                anon: 2048,
                file: 8192,
                pss: 4096,
            },
        }
    }

    #[test]
    fn report_has_ratios_tables_and_a_plot() {
        let plan = Plan {
            points: vec![
                Point {
                    rate: Some(500),
                    connections: 16,
                },
                Point {
                    rate: Some(1000),
                    connections: 16,
                },
                Point {
                    rate: None,
                    connections: 64,
                },
            ],
            seconds: 4,
            rounds: 2,
            seed: 7,
            load_cpus: Some("0".into()),
            proxy_cpus: Some("1".into()),
            smoke: false,
        };
        let setups = [
            Setup::Direct,
            Setup::Mesh1,
            Setup::Mesh2,
            Setup::Envoy2,
            Setup::Nginx1,
        ];
        let mut samples = Vec::new();
        for round in 0..2 {
            for point in 0..3 {
                samples.push(sample(round, point, Setup::Direct, 0.0001));
                samples.push(sample(round, point, Setup::Mesh2, 0.0003));
                samples.push(sample(round, point, Setup::Envoy2, 0.0006));
                samples.push(sample(round, point, Setup::Mesh1, 0.0002));
                samples.push(sample(round, point, Setup::Nginx1, 0.0008));
            }
        }
        let r = Report {
            plan: &plan,
            setups: &setups,
            samples: &samples,
            idle_mem: &[
                (
                    Setup::Mesh2,
                    Mem {
                        rss: 9216,
                        anon: 1024,
                        file: 8192,
                        pss: 3072,
                    },
                ),
                (Setup::Envoy2, Mem::default()),
            ],
            versions: Versions {
                meshctl: "meshctl 0.1.0".into(),
                envoy: "1.40.0".into(),
                oha: "oha 1.16.0".into(),
                references: vec!["nginx 1.22.1".into()],
                link_order: "2340 of 2340 functions".into(),
            },
            command: "cargo run --release -p mesh-bench -- data-plane".into(),
            elapsed: Duration::from_secs(60),
        };
        let md = markdown(&r, "benchmarks-latency.svg");
        assert!(
            md.contains("| 500 rps, 16 connections | 2 hops | 0.50x |"),
            "{md}"
        );
        assert!(md.contains("| meshctl 2 hops | 500 | 0.300 |"), "{md}");
        assert!(
            md.contains("| 500 rps, 16 connections | meshctl 1 hop / nginx 1 hop | 0.25x |"),
            "{md}"
        );
        assert!(
            !md.contains("| 1 hop |"),
            "no meshctl / Envoy 1-hop row without Envoy 1 hop: {md}"
        );
        assert!(md.contains("+200"), "added p50 over direct in µs: {md}");
        assert!(
            md.contains("| 0.40x (0.40–0.40) | 0.40x | 1.00x (1.00–1.00) |"),
            "added p50 and CPU with their range over the two rounds: {md}"
        );
        let s = |median, min, max, n| {
            Some(Spread {
                median,
                min,
                max,
                n,
            })
        };
        assert_eq!(ratio_range(s(0.93, 0.81, 1.04, 3)), "0.93x (0.81–1.04)");
        assert_eq!(
            ratio_range(s(0.93, 0.93, 0.93, 1)),
            "0.93x",
            "one round: no range"
        );
        assert!(
            md.contains("| meshctl 2 hops | 9.0 | 1.0 | 8.0 | 3.0 | 10.0 | 2.0 | 8.0 | 4.0 |"),
            "idle and peak VmRSS, RssAnon, RssFile, PSS in MiB: {md}"
        );
        assert!(md.contains("| reference proxies | nginx 1.22.1 |"), "{md}");
        assert!(md.contains("![latency against rate](benchmarks-latency.svg)"));
        let svg = svg(&r);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2 * setups.len());
        assert_eq!(nice_below(0.088), 0.05);
        assert_eq!(nice_above(0.95), 1.0);
        assert_eq!(nice_above(2.6), 5.0);
    }
}
