//! The meshctl side of the benchmark, built with the real product: `meshctl
//! install` into a private home, `meshctl run` for the echo backend (service
//! `echo`, port 9080) and for a client workload (`loadgen`, whose sidecar's
//! outbound listener is the load generator's HTTP proxy). The loadgen sidecar
//! reaches `echo` over mutual TLS (auto mTLS with the installed CA, checked from
//! the echo sidecar's metrics), and `echo-plain` (a second sidecar in front of the
//! same backend) in plaintext (a DestinationRule with `tls.mode: DISABLE`). Two
//! more services carry the other protocols over mutual TLS: `echo-tcp` (a TCP
//! port, 9443, in front of the HTTPS echo: clients `CONNECT` to it) and, with
//! fortio, `echo-grpc` (a gRPC port, 9090, in front of fortio's ping server).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::net;
use crate::procs;

/// The service port clients use for the echo service.
pub const ECHO_PORT: u16 = 9080;
/// The TCP service port of `echo-tcp`.
pub const TCP_PORT: u16 = 9443;
/// The gRPC service port of `echo-grpc`.
pub const GRPC_PORT: u16 = 9090;

/// A running local mesh: control plane, echo (sidecar + backend), loadgen (sidecar).
#[derive(Debug)]
pub struct Mesh {
    meshctl: PathBuf,
    home: PathBuf,
    runs: Vec<Child>,
    /// Where the echo backend listens (the direct setup's target).
    pub backend_addr: String,
    /// The echo sidecar's inbound listener (1 hop).
    pub echo_inbound: String,
    /// The loadgen sidecar's outbound listener (2 hops, used as HTTP proxy).
    pub client_outbound: String,
    pub backend_pid: u32,
    pub echo_sidecar_pid: u32,
    /// The sidecar of `echo-plain`, reached in plaintext.
    pub plain_sidecar_pid: u32,
    pub client_sidecar_pid: u32,
    pub control_plane_pid: Option<u32>,
    /// The HTTPS echo behind `echo-tcp` (the direct TCP setup's target).
    pub tls_backend_addr: String,
    pub tls_backend_pid: u32,
    pub tcp_sidecar_pid: u32,
    /// fortio's gRPC ping server behind `echo-grpc`, its pid, and the sidecar's.
    pub grpc: Option<(String, u32, u32)>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadRow {
    service: String,
    inbound_address: String,
    outbound_address: String,
    admin_address: String,
}

impl Mesh {
    /// Installs a control plane into a fresh home and starts both workloads;
    /// returns once a request through the loadgen sidecar reaches the backend.
    pub fn start(meshctl: &Path, bench_exe: &Path, fortio: Option<&Path>) -> anyhow::Result<Mesh> {
        let home = std::env::temp_dir().join(format!("mesh-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).with_context(|| format!("create {}", home.display()))?;
        let mut mesh = Mesh {
            meshctl: meshctl.to_path_buf(),
            home,
            runs: Vec::new(),
            backend_addr: String::new(),
            echo_inbound: String::new(),
            client_outbound: String::new(),
            backend_pid: 0,
            echo_sidecar_pid: 0,
            plain_sidecar_pid: 0,
            client_sidecar_pid: 0,
            control_plane_pid: None,
            tls_backend_addr: String::new(),
            tls_backend_pid: 0,
            tcp_sidecar_pid: 0,
            grpc: None,
        };
        mesh.meshctl_ok(&["install", "-y"])?;
        mesh.control_plane_pid = std::fs::read_to_string(mesh.home.join("control-plane.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v.get("pid")?.as_u64())
            .and_then(|p| u32::try_from(p).ok());

        let app_port = net::free_port()?;
        mesh.backend_addr = format!("127.0.0.1:{app_port}");
        let echo_cmd = [
            bench_exe.display().to_string(),
            "echo".into(),
            "--listen".into(),
            mesh.backend_addr.clone(),
        ];
        let echo = mesh.run_workload(
            &[
                "--service",
                "echo",
                "--port",
                &ECHO_PORT.to_string(),
                "--app-port",
                &app_port.to_string(),
            ],
            &echo_cmd,
        )?;
        mesh.runs.push(echo);
        mesh.wait_workload("echo")?;
        net::wait_for_echo(
            "echo backend",
            &mesh.backend_addr,
            "/",
            "echo",
            Duration::from_secs(20),
        )?;
        // echo-plain: a second sidecar in front of the same backend, which
        // clients reach in plaintext (the app is a placeholder: the backend
        // already listens on its port).
        let plain = mesh.run_workload(
            &[
                "--service",
                "echo-plain",
                "--port",
                &ECHO_PORT.to_string(),
                "--app-port",
                &app_port.to_string(),
            ],
            &["sleep".into(), "100000".into()],
        )?;
        mesh.runs.push(plain);
        mesh.wait_workload("echo-plain")?;
        let dr = mesh.home.join("echo-plain-dr.yaml");
        std::fs::write(
            &dr,
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: echo-plain, namespace: default}\nspec:\n  host: echo-plain\n  trafficPolicy: {tls: {mode: DISABLE}}\n",
        )
        .context("write the echo-plain DestinationRule")?;
        mesh.meshctl_ok(&["apply", "-f", &dr.display().to_string()])?;
        let client = mesh.run_workload(
            &["--service", "loadgen", "--port", "9081"],
            &["sleep".into(), "100000".into()],
        )?;
        mesh.runs.push(client);
        mesh.wait_workload("loadgen")?;
        // echo-tcp: the HTTPS echo behind a TCP port.
        let tls_port = net::free_port()?;
        mesh.tls_backend_addr = format!("127.0.0.1:{tls_port}");
        let tcp = mesh.run_workload(
            &[
                "--service",
                "echo-tcp",
                "--port",
                &TCP_PORT.to_string(),
                "--protocol",
                "tcp",
                "--app-port",
                &tls_port.to_string(),
            ],
            &[
                bench_exe.display().to_string(),
                "echo".into(),
                "--tls".into(),
                "--listen".into(),
                mesh.tls_backend_addr.clone(),
            ],
        )?;
        mesh.runs.push(tcp);
        let mut rows = mesh.wait_workload("echo-tcp")?;
        // echo-grpc: fortio's ping server (one thread, as the echo) behind a gRPC port.
        if let Some(fortio) = fortio {
            let grpc_port = net::free_port()?;
            let grpc = mesh.run_workload(
                &[
                    "--service",
                    "echo-grpc",
                    "--port",
                    &GRPC_PORT.to_string(),
                    "--protocol",
                    "grpc",
                    "--app-port",
                    &grpc_port.to_string(),
                ],
                &[
                    "env".into(),
                    "GOMAXPROCS=1".into(),
                    fortio.display().to_string(),
                    "server".into(),
                    "-grpc-port".into(),
                    format!("127.0.0.1:{grpc_port}"),
                    "-http-port".into(),
                    "disabled".into(),
                    "-redirect-port".into(),
                    "disabled".into(),
                    "-tcp-port".into(),
                    "disabled".into(),
                    "-udp-port".into(),
                    "disabled".into(),
                ],
            )?;
            mesh.runs.push(grpc);
            rows = mesh.wait_workload("echo-grpc")?;
            let run = mesh.runs[4].id();
            mesh.grpc = Some((
                format!("127.0.0.1:{grpc_port}"),
                child_with(run, "server")?,
                child_with(run, "proxy")?,
            ));
        }
        let mut admin = std::collections::HashMap::new();
        for r in &rows {
            admin.insert(r.service.clone(), r.admin_address.clone());
            match r.service.as_str() {
                "echo" => mesh.echo_inbound = r.inbound_address.clone(),
                "loadgen" => mesh.client_outbound = r.outbound_address.clone(),
                _ => {}
            }
        }
        let (echo_pid, plain_pid, client_pid) =
            (mesh.runs[0].id(), mesh.runs[1].id(), mesh.runs[2].id());
        mesh.echo_sidecar_pid = child_with(echo_pid, "proxy")?;
        mesh.backend_pid = child_with(echo_pid, "echo")?;
        mesh.plain_sidecar_pid = child_with(plain_pid, "proxy")?;
        mesh.client_sidecar_pid = child_with(client_pid, "proxy")?;
        let tcp_pid = mesh.runs[3].id();
        mesh.tcp_sidecar_pid = child_with(tcp_pid, "proxy")?;
        mesh.tls_backend_pid = child_with(tcp_pid, "echo")?;
        let host = format!("echo:{ECHO_PORT}");
        net::wait_for_echo(
            "meshctl 1 hop",
            &mesh.echo_inbound,
            "/",
            &host,
            Duration::from_secs(20),
        )?;
        for (what, service) in [
            ("meshctl 2 hops mTLS", "echo"),
            ("meshctl 2 hops", "echo-plain"),
        ] {
            let host = format!("{service}:{ECHO_PORT}");
            net::wait_for_echo(
                what,
                &mesh.client_outbound,
                &format!("http://{host}/"),
                &host,
                Duration::from_secs(20),
            )?;
        }
        let tcp_host = format!("echo-tcp:{TCP_PORT}");
        net::wait_for_connect(
            "meshctl 2 hops mTLS (TCP)",
            &mesh.client_outbound,
            &tcp_host,
            Duration::from_secs(20),
        )?;
        if let Some(fortio) = fortio.filter(|_| mesh.grpc.is_some()) {
            let authority = format!("echo-grpc:{GRPC_PORT}");
            let deadline = Instant::now() + Duration::from_secs(20);
            while let Err(e) = crate::fortio::ping(fortio, &mesh.client_outbound, Some(&authority))
            {
                if Instant::now() > deadline {
                    bail!("meshctl 2 hops mTLS (gRPC): no ping answered within 20s: {e:#}");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        // The setups are what they say: the echo sidecar saw the loadgen's
        // calls over mutual TLS, the echo-plain sidecar in plaintext, and so on.
        let mut checks = vec![
            ("echo", "istio_requests_total{", "mutual_tls"),
            ("echo-plain", "istio_requests_total{", "none"),
            (
                "echo-tcp",
                "istio_tcp_connections_opened_total{",
                "mutual_tls",
            ),
        ];
        if mesh.grpc.is_some() {
            checks.push(("echo-grpc", "istio_requests_total{", "mutual_tls"));
        }
        for (service, metric, policy) in checks {
            let addr = admin
                .get(service)
                .with_context(|| format!("admin address of {service}"))?;
            let (_, stats) = net::probe(addr, "/stats/prometheus", addr)?;
            let seen = stats.lines().any(|l| {
                l.starts_with(metric)
                    && l.contains("reporter=\"destination\"")
                    && l.contains("source_workload=\"loadgen")
                    && l.contains(&format!("connection_security_policy=\"{policy}\""))
            });
            if !seen {
                bail!(
                    "the {service} sidecar did not count the loadgen's calls as {policy}:\n{stats}"
                );
            }
        }
        Ok(mesh)
    }

    /// `meshctl --version`'s first line.
    pub fn version(meshctl: &Path) -> String {
        Command::new(meshctl)
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into())
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.meshctl);
        c.arg("--home").arg(&self.home).env("NO_COLOR", "1");
        c
    }

    fn meshctl_ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("run {}", self.meshctl.display()))?;
        if !out.status.success() {
            bail!(
                "meshctl {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn run_workload(&self, flags: &[&str], cmd: &[String]) -> anyhow::Result<Child> {
        let log = std::fs::File::create(self.home.join(format!("run-{}.log", self.runs.len())))
            .context("create a run log")?;
        let err = log.try_clone().context("clone a run log")?;
        self.command()
            .arg("run")
            .args(flags)
            .arg("--")
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .context("start meshctl run")
    }

    /// Waits until `service` is among the workloads; returns them all.
    fn wait_workload(&mut self, service: &str) -> anyhow::Result<Vec<WorkloadRow>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for (i, run) in self.runs.iter_mut().enumerate() {
                if let Some(status) = run.try_wait()? {
                    let log = std::fs::read_to_string(self.home.join(format!("run-{i}.log")))
                        .unwrap_or_default();
                    bail!("meshctl run exited ({status}):\n{log}");
                }
            }
            let json = self.meshctl_ok(&["get", "workloads", "-o", "json"])?;
            let rows: Vec<WorkloadRow> =
                serde_json::from_str(&json).context("parse `meshctl get workloads -o json`")?;
            if rows.iter().any(|r| r.service == service) {
                return Ok(rows);
            }
            if Instant::now() > deadline {
                bail!("workload {service} did not register within 30s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every pid of the mesh's data plane (all its sidecars).
    pub fn proxy_pids(&self) -> Vec<u32> {
        let mut pids = vec![
            self.echo_sidecar_pid,
            self.plain_sidecar_pid,
            self.client_sidecar_pid,
            self.tcp_sidecar_pid,
        ];
        pids.extend(self.grpc.as_ref().map(|g| g.2));
        pids
    }

    /// The backends' pids (pinned with the load generator).
    pub fn backend_pids(&self) -> Vec<u32> {
        let mut pids = vec![self.backend_pid, self.tls_backend_pid];
        pids.extend(self.grpc.as_ref().map(|g| g.1));
        pids
    }
}

/// The child of `parent` whose first argument is `word` (waits a little:
/// `meshctl run` starts the app after its sidecar is ready).
fn child_with(parent: u32, word: &str) -> anyhow::Result<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(p) = procs::children(parent)
            .into_iter()
            .find(|c| procs::cmdline(*c).get(1).is_some_and(|a| a == word))
        {
            return Ok(p);
        }
        if Instant::now() > deadline {
            bail!("no child of pid {parent} runs `{word}`");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        for run in self.runs.iter_mut().rev() {
            net::stop(run, Duration::from_secs(10));
        }
        let _ = self
            .command()
            .args(["uninstall", "--purge", "-y"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}
