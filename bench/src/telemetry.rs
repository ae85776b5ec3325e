//! `mesh-bench telemetry`: what access logging and tracing cost per request.
//! In process: a client sidecar and a server sidecar (mesh-proxy) in front of
//! the echo backend, reconfigured between setups (logging off, text, JSON;
//! two Telemetry UPSERT labels; tracing at 100% and 1% to an OTLP/HTTP sink
//! that accepts everything).
//! Keep-alive connections send requests back to back; each setup runs once
//! per round, rounds shuffle nothing but alternate, and the median round is
//! reported.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_api::proxy::{
    AccessLogConfig, AccessLogEncoding, Cluster, ClusterEndpoints, Endpoint, Forward, InboundPort,
    Listeners, MetricsOverrides, OtlpExporter, Protocol, ProxyConfig, Route, RouteAction,
    RouteConfig, TagUpsert, TelemetryConfig, TracingConfig, TrafficMode, VirtualHost,
    WeightedCluster,
};
use mesh_proxy::{ConfigStore, Proxy, ProxyOptions};

use crate::TelemetryArgs;

const CLUSTER: &str = "outbound|9080||echo.default.svc.cluster.local";

async fn sink(l: tokio::net::TcpListener) {
    while let Ok((io, _)) = l.accept().await {
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                let _ = req.into_body().collect().await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(io), svc)
                .await;
        });
    }
}

fn client_config(server: SocketAddr, telemetry: TelemetryConfig) -> ProxyConfig {
    ProxyConfig {
        listeners: Listeners {
            inbound: vec![],
            telemetry,
            ..Listeners::default()
        },
        clusters: vec![Cluster {
            name: CLUSTER.into(),
            service: "echo.default.svc.cluster.local".into(),
            port: 9080,
            protocol: Protocol::Http,
            ..Cluster::default()
        }],
        endpoints: vec![ClusterEndpoints {
            cluster: CLUSTER.into(),
            endpoints: vec![Endpoint {
                address: server.to_string(),
                proxy_id: "echo".into(),
                weight: 1,
                ..Endpoint::default()
            }],
        }],
        routes: RouteConfig {
            virtual_hosts: vec![VirtualHost {
                name: "echo:9080".into(),
                domains: vec!["echo".into(), "echo:9080".into()],
                port: 9080,
                routes: vec![Route {
                    name: "default".into(),
                    matches: vec![],
                    action: RouteAction::Forward(Forward {
                        clusters: vec![WeightedCluster {
                            cluster: CLUSTER.into(),
                            weight: 1,
                            ..WeightedCluster::default()
                        }],
                        ..Forward::default()
                    }),
                    origin: None,
                    fault: None,
                    headers: Default::default(),
                    cors: None,
                }],
            }],
            ..RouteConfig::default()
        },
    }
}

fn server_config(app: SocketAddr, telemetry: TelemetryConfig) -> ProxyConfig {
    ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port: 9080,
                app_port: app.port(),
                protocol: Protocol::Http,
                ..InboundPort::default()
            }],
            telemetry,
            ..Listeners::default()
        },
        ..ProxyConfig::default()
    }
}

fn setups(dir: &std::path::Path, collector: SocketAddr) -> Vec<(&'static str, TelemetryConfig)> {
    let log = |encoding, name: &str| AccessLogConfig {
        path: dir.join(name).display().to_string(),
        encoding,
        filter: None,
        mode: TrafficMode::ClientAndServer,
    };
    let trace = |sampling| TracingConfig {
        sampling,
        exporter: Some(OtlpExporter {
            provider: "sink".into(),
            address: collector.to_string(),
            http_path: Some("/v1/traces".into()),
        }),
        custom_tags: Default::default(),
        mode: TrafficMode::ClientAndServer,
    };
    let upsert = |tag: &str, value: &str| TagUpsert {
        tag: tag.into(),
        value: value.into(),
        metric: "ALL_METRICS".into(),
        mode: TrafficMode::ClientAndServer,
    };
    vec![
        ("off (metrics only)", TelemetryConfig::default()),
        (
            "access log TEXT",
            TelemetryConfig {
                access_log: Some(log(AccessLogEncoding::Text, "text.log")),
                ..TelemetryConfig::default()
            },
        ),
        (
            "access log JSON",
            TelemetryConfig {
                access_log: Some(log(AccessLogEncoding::Json, "json.log")),
                ..TelemetryConfig::default()
            },
        ),
        (
            "UPSERT 2 labels",
            TelemetryConfig {
                metrics: MetricsOverrides {
                    upserted_tags: vec![
                        upsert("request_host", "request.host"),
                        upsert("user", "request.headers['user-agent']"),
                    ],
                    ..MetricsOverrides::default()
                },
                ..TelemetryConfig::default()
            },
        ),
        (
            "tracing 1%",
            TelemetryConfig {
                tracing: Some(trace(1.0)),
                ..TelemetryConfig::default()
            },
        ),
        (
            "tracing 100% (OTLP/HTTP)",
            TelemetryConfig {
                tracing: Some(trace(100.0)),
                ..TelemetryConfig::default()
            },
        ),
    ]
}

/// Requests per connection on `conns` connections; per-request latencies.
async fn load(
    proxy: SocketAddr,
    conns: usize,
    per_conn: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(proxy).await?;
            tcp.set_nodelay(true)?;
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
            tokio::spawn(conn);
            let mut lat = Vec::with_capacity(per_conn);
            for _ in 0..per_conn {
                let req = Request::get("http://echo:9080/")
                    .header(http::header::HOST, "echo:9080")
                    .body(Empty::<Bytes>::new())?;
                let t = Instant::now();
                send.ready().await?;
                let resp = send.send_request(req).await?;
                anyhow::ensure!(resp.status().is_success(), "status {}", resp.status());
                resp.into_body().collect().await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, start.elapsed()))
}

fn apply(store: &ConfigStore, version: &str, cfg: &ProxyConfig) -> anyhow::Result<()> {
    store
        .apply_all(version, cfg)
        .map_err(|e| anyhow::anyhow!("apply: {e}"))
}

pub fn run(args: &TelemetryArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .context("start runtime")?;
    rt.block_on(bench(args))
}

async fn bench(args: &TelemetryArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app = echo.local_addr()?;
    tokio::spawn(crate::echo::serve_on(echo));
    let collector = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let collector_addr = collector.local_addr()?;
    tokio::spawn(sink(collector));

    let server = Proxy::new(ProxyOptions::local("echo-v1.default"))
        .bind()
        .await?;
    let client = Proxy::new(ProxyOptions::local("client-v1.default"))
        .bind()
        .await?;
    let (server_in, client_out) = (server.inbound_addr(), client.outbound_addr());
    let (server_cfg, client_cfg) = (server.config(), client.config());
    tokio::spawn(server.run(std::future::pending()));
    tokio::spawn(client.run(std::future::pending()));

    let setups = setups(dir.path(), collector_addr);
    let mut results: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); setups.len()];
    let per_conn = (args.requests / args.connections).max(1);
    let mut version = 0;
    for round in 0..args.rounds {
        for (i, (_, t)) in setups.iter().enumerate() {
            version += 1;
            let v = version.to_string();
            apply(&server_cfg, &v, &server_config(app, t.clone()))?;
            apply(&client_cfg, &v, &client_config(server_in, t.clone()))?;
            // Warm up the connections and writers.
            load(client_out, args.connections, 50).await?;
            let (mut lat, wall) = load(client_out, args.connections, per_conn).await?;
            lat.sort();
            let n = lat.len();
            let us = |d: Duration| d.as_secs_f64() * 1e6;
            let mean = lat.iter().map(|d| us(*d)).sum::<f64>() / n as f64;
            let p50 = us(lat[n / 2]);
            let p99 = us(lat[(n * 99 / 100).min(n - 1)]);
            let rps = n as f64 / wall.as_secs_f64();
            results[i].push((mean, p50, p99, rps));
            eprintln!(
                "round {round} {}: mean {mean:.0} µs, {rps:.0} req/s",
                setups[i].0
            );
        }
    }
    println!(
        "telemetry cost, client sidecar -> server sidecar -> echo, in process, {} worker threads, {} connections, {} requests per setup and round, median of {} rounds:",
        args.threads,
        args.connections,
        per_conn * args.connections,
        args.rounds
    );
    println!(
        "  {:<26} {:>10} {:>10} {:>10} {:>10}",
        "setup", "mean µs", "p50 µs", "p99 µs", "req/s"
    );
    let base = median(&results[0]).0;
    for (i, (name, _)) in setups.iter().enumerate() {
        let (mean, p50, p99, rps) = median(&results[i]);
        println!(
            "  {name:<26} {mean:>10.0} {p50:>10.0} {p99:>10.0} {rps:>10.0}   ({:+.1} µs mean vs off)",
            mean - base
        );
    }
    Ok(())
}

/// The round with the median mean latency.
fn median(rounds: &[(f64, f64, f64, f64)]) -> (f64, f64, f64, f64) {
    let mut r = rounds.to_vec();
    r.sort_by(|a, b| a.0.total_cmp(&b.0));
    r.get(r.len() / 2).copied().unwrap_or_default()
}
