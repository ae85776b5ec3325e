//! `meshctl top`: the live view's numbers in the terminal, refreshed every
//! `--interval`, or one sample with `--once`.

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{GlobalArgs, OutputFormat, TopArgs};
use crate::commands::mesh;
use crate::liveview::snapshot::{destination_id, source_id};
use crate::liveview::window::{EdgeStats, Mtls};
use crate::liveview::{Sampler, SamplerOptions, Snapshot};
use crate::output::{self, Output};

pub fn run(args: &TopArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    let mut sampler = Sampler::new(
        admin,
        SamplerOptions {
            timeout: Duration::from_secs_f64(args.scrape_timeout),
            namespace: if g.all_namespaces {
                None
            } else {
                g.namespace.clone()
            },
        },
    );
    let interval = Duration::from_secs_f64(args.interval);
    let redraw = !args.once && !out.is_data() && std::io::stdout().is_terminal();
    rt.block_on(async {
        // The first scrape is the baseline the first rates are measured from.
        sampler.sample().await?;
        loop {
            tokio::time::sleep(interval).await;
            let snap = sampler.sample().await?;
            if redraw {
                out.raw("\x1b[2J\x1b[H")?;
            }
            show(&snap, out)?;
            if args.once {
                return Ok(());
            }
            if !redraw && !out.is_data() {
                out.line("")?;
            }
        }
    })
}

fn num(v: f64) -> String {
    format!("{v:.2}")
}

/// A byte rate with an SI prefix (`512 B/s`, `1.5 kB/s`, `2.0 MB/s`).
fn bytes_rate(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.1} GB/s", v / 1e9),
        v if v >= 1e6 => format!("{:.1} MB/s", v / 1e6),
        v if v >= 1e3 => format!("{:.1} kB/s", v / 1e3),
        v => format!("{v:.0} B/s"),
    }
}

/// TCP columns: `-` for an edge that never carried a TCP connection.
fn tcp(e: &EdgeStats, v: impl FnOnce(&EdgeStats) -> String) -> String {
    if e.total_connections > 0.0 {
        v(e)
    } else {
        "-".into()
    }
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

fn percent(v: Option<f64>, out: &Output) -> String {
    let Some(v) = v else { return "-".into() };
    let text = format!("{:.2}%", v * 100.0);
    match v {
        v if v >= 0.99 => text,
        v if v >= 0.95 => out.paint(output::WARNING, &text),
        _ => out.paint(output::ERROR, &text),
    }
}

fn mtls(m: Mtls, out: &Output) -> String {
    match m {
        Mtls::MutualTls => out.paint(output::OK, "mutual_tls"),
        Mtls::None => out.paint(output::WARNING, "none"),
        Mtls::Mixed => out.paint(output::WARNING, "mixed"),
        Mtls::Unknown => "unknown".into(),
    }
}

/// One snapshot as tables (or data).
pub fn show(snap: &Snapshot, out: &Output) -> anyhow::Result<()> {
    if out.is_data() {
        return Ok(out.data(snap)?);
    }
    let window = snap
        .window_seconds
        .map_or_else(|| "first sample".into(), |w| format!("rates over {w:.1}s"));
    out.line(&format!(
        "{} proxies, {} edges, {window}, scraped in {:.0} ms",
        snap.proxies.len(),
        snap.edges.len(),
        snap.scrape_ms
    ))?;
    if snap.proxies.is_empty() {
        out.line("no proxies are connected: start workloads with `meshctl run`")?;
        return Ok(());
    }
    out.line("")?;
    if snap.edges.is_empty() {
        out.line("no traffic seen yet: send requests through a sidecar")?;
    } else {
        let rows: Vec<Vec<String>> = snap
            .edges
            .iter()
            .map(|e| {
                vec![
                    source_id(e),
                    destination_id(e),
                    format!(
                        "{}.{}",
                        e.key.destination_service, e.key.destination_service_namespace
                    ),
                    e.protocol.clone(),
                    num(e.rps),
                    percent(e.success_rate, out),
                    opt_ms(e.p50_ms),
                    opt_ms(e.p99_ms),
                    tcp(e, |e| num(e.cps)),
                    tcp(e, |e| bytes_rate(e.received_bytes_per_second)),
                    tcp(e, |e| bytes_rate(e.sent_bytes_per_second)),
                    mtls(e.mtls, out),
                ]
            })
            .collect();
        out.table(
            &[
                "source",
                "destination",
                "service",
                "proto",
                "rps",
                "success",
                "p50 ms",
                "p99 ms",
                "conn/s",
                "bytes in",
                "bytes out",
                "mtls",
            ],
            &rows,
        )?;
    }
    out.line("")?;
    let rows: Vec<Vec<String>> = snap
        .workloads
        .iter()
        .map(|w| {
            vec![
                w.workload.clone(),
                w.namespace.clone(),
                w.proxies.to_string(),
                num(w.inbound_rps),
                percent(w.success_rate, out),
                opt_ms(w.p50_ms),
                opt_ms(w.p99_ms),
                num(w.outbound_rps),
                sync(&w.sync, out),
            ]
        })
        .collect();
    out.table(
        &[
            "workload",
            "namespace",
            "proxies",
            "in rps",
            "success",
            "p50 ms",
            "p99 ms",
            "out rps",
            "sync",
        ],
        &rows,
    )?;
    if out.format() == OutputFormat::Wide {
        out.line("")?;
        let rows: Vec<Vec<String>> = snap
            .proxies
            .iter()
            .map(|p| {
                vec![
                    p.proxy_id.clone(),
                    p.workload.clone(),
                    p.admin_address.clone(),
                    sync(&p.sync, out),
                    p.scrape_error.clone().unwrap_or_else(|| "ok".into()),
                ]
            })
            .collect();
        out.table(&["proxy", "workload", "admin", "sync", "metrics"], &rows)?;
    }
    for n in &snap.notes {
        out.note(n)?;
    }
    Ok(())
}

fn sync(s: &str, out: &Output) -> String {
    match s {
        "SYNCED" => out.paint(output::OK, s),
        "ERROR" => out.paint(output::ERROR, s),
        _ => out.paint(output::WARNING, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_rates_read_with_si_prefixes() {
        assert_eq!(bytes_rate(0.0), "0 B/s");
        assert_eq!(bytes_rate(512.4), "512 B/s");
        assert_eq!(bytes_rate(1500.0), "1.5 kB/s");
        assert_eq!(bytes_rate(2_000_000.0), "2.0 MB/s");
        assert_eq!(bytes_rate(3.2e9), "3.2 GB/s");
    }
}
