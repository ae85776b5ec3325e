//! The control-plane section of docs/benchmarks.md. The data-plane benchmark
//! writes the rest of that page; each keeps the other's part.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::{Scale, ScaleResult};

const BEGIN: &str = "<!-- control-plane benchmark: begin (written by mesh-bench control-plane) -->";
const END: &str = "<!-- control-plane benchmark: end -->";

/// Everything the section shows.
#[derive(Debug)]
pub struct Run<'a> {
    pub results: &'a [Result<ScaleResult, (Scale, String)>],
    pub meshctl: String,
    pub command: String,
    pub changes: usize,
    pub streams_per_connection: usize,
    pub csr: Option<&'a Result<super::csr::CsrResult, String>>,
}

/// The control-plane section of the page at `path` (with its markers and a
/// leading blank line), or nothing when it has none.
pub fn kept_section(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => format!("\n{}\n", &text[b..e + END.len()]),
        _ => String::new(),
    }
}

/// Replace (or append) the control-plane section of the page at `path`.
pub fn write_section(path: &Path, section: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let rest = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{}", &text[..b], &text[e + END.len()..]),
        _ => text,
    };
    let rest = rest.trim_end();
    let page = if rest.is_empty() {
        format!("{BEGIN}\n{section}{END}\n")
    } else {
        format!("{rest}\n\n{BEGIN}\n{section}{END}\n")
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, page).with_context(|| format!("write {}", path.display()))
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

/// The `q` quantile (nearest rank) of `xs`.
fn quantile(xs: &[Duration], q: f64) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

/// One line per size, for the terminal.
pub fn one_line(r: &ScaleResult) -> String {
    format!(
        "{} endpoints, {} proxies: sync {} ms; change to all ACKed p50 {} ms, max {} ms; per proxy p99 {} ms; {} per change; resync {} ms; RSS {} MiB (peak {})",
        r.scale.endpoints,
        r.proxies,
        ms(r.initial_sync),
        ms(quantile(&r.change_all, 0.5)),
        ms(quantile(&r.change_all, 1.0)),
        ms(quantile(&r.change_each, 0.99)),
        bytes(mean(
            &r.change_bytes.iter().map(|b| *b as f64).collect::<Vec<_>>()
        )),
        ms(r.resync_settled),
        mib(r.rss_kib),
        mib(r.peak_rss_kib),
    )
}

/// The section's Markdown (between the markers).
pub fn section(run: &Run<'_>) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Control-plane benchmark\n");
    let _ = writeln!(
        md,
        "> Written by `mesh-bench control-plane`. Same caveat as above: a small shared machine; the simulated proxies run on the same two CPUs as the control plane.\n"
    );
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| date | {} |", crate::report::today());
    let _ = writeln!(md, "| machine | {} |", crate::report::machine());
    let _ = writeln!(md, "| meshctl | {} |", run.meshctl);
    let _ = writeln!(md, "| command | `{}` |", run.command.trim());
    let _ = writeln!(
        md,
        "| plan | per size: initial sync, {} VirtualService changes, one `kill -9` and restart |\n",
        run.changes
    );
    let _ = writeln!(md, "## Results by mesh size\n");
    let _ = writeln!(
        md,
        "| services | endpoints | proxies | initial sync ms | change, all ACKed: p50 / p99 / max ms | change, per proxy: p50 / p99 ms | bytes per change (per proxy) | CPU per change s | resync after restart: complete / settled ms | RSS MiB (peak) | RSS after resync MiB | CPU s: sync / resync |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in run.results {
        match r {
            Ok(r) => {
                let b = mean(&r.change_bytes.iter().map(|b| *b as f64).collect::<Vec<_>>());
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} / {} / {} | {} / {} | {} ({}) | {:.3} | {} / {} | {} ({}) | {} | {:.2} / {:.2} |",
                    r.scale.services,
                    r.scale.endpoints,
                    r.proxies,
                    ms(r.initial_sync),
                    ms(quantile(&r.change_all, 0.5)),
                    ms(quantile(&r.change_all, 0.99)),
                    ms(quantile(&r.change_all, 1.0)),
                    ms(quantile(&r.change_each, 0.5)),
                    ms(quantile(&r.change_each, 0.99)),
                    bytes(b),
                    bytes(b / r.proxies.max(1) as f64),
                    mean(&r.change_cpu_s),
                    ms(r.resync_complete),
                    ms(r.resync_settled),
                    mib(r.rss_kib),
                    mib(r.peak_rss_kib),
                    mib(r.rss_after_resync_kib),
                    r.initial_cpu_s,
                    r.resync_cpu_s,
                );
            }
            Err((s, e)) => {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | not measured: {} |||||||||",
                    s.services,
                    s.endpoints,
                    s.proxies,
                    e.replace('|', "/")
                );
            }
        }
    }
    let _ = writeln!(md);
    csr_section(&mut md, run.csr);
    let _ = writeln!(md, "## Method and caveats\n");
    let conns: Vec<String> = run
        .results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| format!("{} at {}", r.connections, r.proxies))
        .collect();
    for line in [
        "The control plane is the real `meshctl control-plane run` process on loopback; its RSS (VmRSS, VmHWM) comes from /proc, its CPU time from its CPU-time clock (`clock_getcpuclockid`: the scheduler's nanosecond count, every thread included).".to_owned(),
        format!("The proxies are simulated in the benchmark process: each is one discovery stream that says Hello (ready app, one HTTP port, labels `app` and `version`), asks for gzip and route deltas (as the real sidecar does), ACKs every push at once and does not decode payloads; {} streams share an HTTP/2 connection ({} connections). A real sidecar also decodes and compiles each payload, which is not counted here.", run.streams_per_connection, if conns.is_empty() { "-".to_owned() } else { conns.join(", ") }),
        "Endpoints beyond the connected proxies are WorkloadEntries (VMs without a connected sidecar) selected by MESH_INTERNAL ServiceEntries' `workloadSelector`, applied through `POST /v1/apply` like the rest: the proxies serve the first services (ten each), the entries the others (ten each). The 1,000-service, 10,000-endpoint, 2,000-proxy row is the issue's shape; the 10,000-proxy row has every endpoint a connected proxy.".to_owned(),
        "Pushes are as sent: proxies that accept gzip (as the real sidecar and the simulated one do) get payloads of 4 KiB or more compressed; bytes count the compressed payloads. A route change goes as a delta (only the changed virtual hosts) to every proxy that acknowledged the previous routes, the whole routes to the others.".to_owned(),
        "Mesh: ten endpoints per service (half `v1`, half `v2`), services spread over ten namespaces; every tenth service has a DestinationRule (subsets v1, v2) and a VirtualService (a header match, then a weighted split).".to_owned(),
        "A change: `POST /v1/apply` of service 0's VirtualService with new weights, as `meshctl apply` sends it. Without Sidecar scoping every proxy sees every service, so every proxy is affected. Time is from sending the apply to the proxy's ACK of the new routes (after the control plane's 20 ms debounce); \"all ACKed\" is the last proxy's time per change, \"per proxy\" pools every proxy of every change. The next change waits until no push arrived for 1 s.".to_owned(),
        "Bytes: payload bytes received by all proxies from the apply until quiet (gRPC framing not counted).".to_owned(),
        "Restart: `kill -9` of the control plane, then the same command on the same home and addresses. The proxies reconnect with the sidecar's backoff (100 ms doubling to 5 s), so the resync includes up to one backoff step. \"complete\": every proxy reconnected and has all four types; \"settled\": the last push of the resync (endpoints change while proxies rejoin).".to_owned(),
    ] {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(md);
    md
}

/// The CSR signing rate paragraph and table.
fn csr_section(md: &mut String, csr: Option<&Result<super::csr::CsrResult, String>>) {
    let _ = writeln!(md, "## CSR signing rate\n");
    match csr {
        None => {
            let _ = writeln!(md, "Not measured in this run (`--csr-proxies 0`).\n");
        }
        Some(Err(e)) => {
            let _ = writeln!(md, "Not measured: {e}\n");
        }
        Some(Ok(c)) => {
            let _ = writeln!(
                md,
                "{} simulated proxies, each with its own bootstrap token, send {} `CreateCertificate` requests at once over the real gRPC endpoint; certificates signed per second of wall time (target: 5,000/s), and per CPU second of the control plane (its CPU-time clock over the run: what one core of it signs when the clients do not share its CPUs).\n",
                c.proxies, c.requests
            );
            let _ = writeln!(
                md,
                "| how | certificates/s | control-plane CPU s | certificates per control-plane CPU s |\n|---|---|---|---|"
            );
            // A row: how, the rate, and the control plane's CPU seconds when
            // it ran as its own process (the in-process rates have none).
            let mut row = |how: &str, rate: f64, cpu: Option<f64>| {
                let (cpu_s, per_cpu) = match cpu {
                    Some(cpu) if cpu > 0.0 => (
                        format!("{cpu:.2}"),
                        format!("{:.0}", c.requests as f64 / cpu),
                    ),
                    Some(cpu) => (format!("{cpu:.2}"), "-".into()),
                    None => ("-".into(), "-".into()),
                };
                let _ = writeln!(md, "| {how} | {rate:.0} | {cpu_s} | {per_cpu} |");
            };
            row(
                &format!(
                    "discovery server, each proxy on its own connection, open before the run (as sidecars renew: over their discovery stream's connection; {} connections)",
                    c.proxies
                ),
                c.own_connection.rate,
                Some(c.own_connection.cpu_s),
            );
            row(
                &format!(
                    "discovery server, a new connection per request (as a sidecar's first certificate, before its stream is up; {} attempts retried after 1 s)",
                    c.retries
                ),
                c.new_connection.rate,
                Some(c.new_connection.cpu_s),
            );
            row(
                &format!(
                    "discovery server, {} HTTP/2 connections shared by every proxy",
                    c.shared_connections
                ),
                c.shared.rate,
                Some(c.shared.cpu_s),
            );
            row(
                "in process, one thread: token check + CSR check + signing",
                c.in_process_whole,
                None,
            );
            row(
                "in process, one thread: CSR check + signing",
                c.in_process_sign,
                None,
            );
            let _ = writeln!(
                md,
                "\nThe proxies' key pairs and CSRs are made before timing; the simulated proxies' gRPC clients (tonic; a TCP and HTTP/2 handshake per request in the new-connection run) share the two CPUs with the control plane, so the wall-time rates count the clients' cost too.\n"
            );
        }
    }
}
