//! `meshctl run`: an app and its sidecar, supervised together.
//!
//! The sidecar (`meshctl proxy run`) starts first, binds its listeners on free
//! ports and prints their addresses on its first stdout line; once it has its
//! config (its admin `/ready`), the app starts with `HTTP_PROXY` pointing at the
//! sidecar. Signals stop the app first, then the sidecar; whichever of the two
//! exits on its own takes the other with it.

use std::io::BufRead;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use mesh_control_plane::ca::tokens;
use mesh_control_plane::client::AdminClient;
use serde::Deserialize;

use crate::cli::{GlobalArgs, RunArgs};
use crate::commands::mesh::{self, AUDIT_LOG};
use crate::exit;
use crate::output::Output;

/// What `meshctl proxy run` prints once its listeners are bound.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarAddresses {
    pub proxy_id: String,
    pub outbound: String,
    pub inbound: String,
    pub admin: String,
}

/// `reviews-v2-1a2b.default`.
pub fn proxy_id(service: &str, version: &str, namespace: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let salt = (nanos ^ std::process::id().rotate_left(16)) & 0xffff;
    format!("{service}-{version}-{salt:04x}.{namespace}")
}

/// Removes the workload's bootstrap token when the run ends, however it ends.
struct WorkloadToken {
    path: std::path::PathBuf,
    home: std::path::PathBuf,
    proxy_id: String,
}

impl Drop for WorkloadToken {
    fn drop(&mut self) {
        tokens::remove(&self.home, &self.proxy_id);
    }
}

/// SIGINT and SIGTERM, caught from the very start: a signal while the sidecar is
/// still starting must stop it too, not just kill `meshctl run`.
struct Signals {
    rt: tokio::runtime::Runtime,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let rt = mesh::runtime()?;
        let _guard = rt.enter();
        Ok(Self {
            term: signal(SignalKind::terminate()).context("catch SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("catch SIGINT")?,
            rt,
        })
    }

    /// Wait up to `d` for a signal; its number if one came.
    fn wait(&mut self, d: Duration) -> Option<i32> {
        let Self { rt, term, int } = self;
        rt.block_on(async {
            tokio::select! {
                _ = term.recv() => Some(15),
                _ = int.recv() => Some(2),
                _ = tokio::time::sleep(d) => None,
            }
        })
    }
}

pub fn run(args: &RunArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let mut signals = Signals::install()?;
    let home = mesh::home(g);
    let Some(state) = mesh::running(&home) else {
        // The same message the other commands give.
        mesh::admin(&home)?;
        bail!("no control plane is running in {}", home.display());
    };
    let namespace = g.namespace.clone().unwrap_or_else(|| "default".into());
    let app_port = args.app_port.unwrap_or(args.port);
    let id = proxy_id(&args.service, &args.version, &namespace);
    let logs = home.join("proxies");
    std::fs::create_dir_all(&logs).context("create the proxies' log directory")?;
    let log_path = logs.join(format!("{id}.log"));
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("create {}", log_path.display()))?;
    let exe = std::env::current_exe().context("find the meshctl binary")?;
    // The workload's bootstrap token: bound to its namespace and service account,
    // readable by this user only, removed when this run ends.
    let token = WorkloadToken {
        path: tokens::create(&home, &id, &namespace, &args.service_account)
            .context("create the workload's bootstrap token")?,
        home: home.clone(),
        proxy_id: id.clone(),
    };

    let mut sidecar = std::process::Command::new(&exe);
    sidecar
        .args(["proxy", "run", "--discovery-address"])
        .arg(format!("http://{}", state.discovery_address))
        .args(["--service", &args.service, "--proxy-namespace", &namespace])
        .args([
            "--service-account",
            &args.service_account,
            "--proxy-id",
            &id,
        ])
        .arg("--token-file")
        .arg(&token.path)
        .arg("--audit-log")
        .arg(home.join(AUDIT_LOG))
        .args(["--label", &format!("app={}", args.service)])
        .args(["--label", &format!("version={}", args.version)])
        .args(args.labels.iter().flat_map(|l| ["--label", l.as_str()]))
        .args([
            "--port",
            &format!("{}:{app_port}:{}", args.port, args.protocol),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .process_group(0);
    let mut sidecar = sidecar.spawn().context("start the sidecar")?;
    let addresses = read_addresses(&mut sidecar, &log_path)?;
    if let Some(sig) = wait_ready(
        &addresses,
        &mut sidecar,
        &log_path,
        Duration::from_secs(args.ready_timeout),
        &mut signals,
    )? {
        terminate(&mut sidecar);
        return Err(exit::Exit::with(128 + sig));
    }
    out.note(&format!(
        "meshctl: {id}: sidecar ready (outbound {}, inbound {}, admin {}; log {})",
        addresses.outbound,
        addresses.inbound,
        addresses.admin,
        log_path.display()
    ))?;

    let proxy_url = format!("http://{}", addresses.outbound);
    let mut app = std::process::Command::new(&args.command[0]);
    app.args(&args.command[1..])
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("NO_PROXY", "localhost,127.0.0.1,::1")
        .env("no_proxy", "localhost,127.0.0.1,::1")
        .env("PORT", app_port.to_string())
        .env("MESHCTL_PROXY_ID", &id)
        .env("MESHCTL_SERVICE", &args.service)
        .env("MESHCTL_VERSION", &args.version)
        .env("MESHCTL_NAMESPACE", &namespace)
        .process_group(0);
    let app = match app.spawn() {
        Ok(a) => a,
        Err(e) => {
            terminate(&mut sidecar);
            bail!("start {:?}: {e}", args.command[0]);
        }
    };
    let code = supervise(app, sidecar, &mut signals);
    if code == 0 {
        Ok(())
    } else {
        Err(exit::Exit::with(code))
    }
}

fn read_addresses(
    sidecar: &mut std::process::Child,
    log: &Path,
) -> anyhow::Result<SidecarAddresses> {
    let stdout = sidecar.stdout.take().context("sidecar stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .context("read the sidecar's addresses")?;
    serde_json::from_str(line.trim()).map_err(|_| {
        terminate(sidecar);
        anyhow::anyhow!(
            "the sidecar did not start; its log ({}) says:\n{}",
            log.display(),
            std::fs::read_to_string(log).unwrap_or_default()
        )
    })
}

/// Wait for the sidecar's config; `Some(signal)` if interrupted first.
fn wait_ready(
    a: &SidecarAddresses,
    sidecar: &mut std::process::Child,
    log: &Path,
    timeout: Duration,
    signals: &mut Signals,
) -> anyhow::Result<Option<i32>> {
    let admin = AdminClient::new(a.admin.parse().context("sidecar admin address")?);
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = sidecar.try_wait()? {
            bail!("the sidecar exited ({status}); see {}", log.display());
        }
        if signals.rt.block_on(admin.ready()) {
            return Ok(None);
        }
        if Instant::now() > deadline {
            terminate(sidecar);
            bail!(
                "the sidecar did not get its config and workload certificate from the control plane within {}s; see {} and `meshctl check`",
                timeout.as_secs(),
                log.display()
            );
        }
        if let Some(sig) = signals.wait(Duration::from_millis(25)) {
            return Ok(Some(sig));
        }
    }
}

fn signal(child: &std::process::Child, sig: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

/// SIGTERM, a grace period, then SIGKILL; reaps the child.
fn terminate(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    signal(child, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().ok()
}

fn code_of(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Wait for the app, the sidecar or a signal; stop the rest; return the exit code.
fn supervise(
    mut app: std::process::Child,
    mut sidecar: std::process::Child,
    signals: &mut Signals,
) -> i32 {
    let stop = loop {
        if signals.wait(Duration::from_millis(50)).is_some() {
            break Event::Signal;
        }
        if let Ok(Some(s)) = app.try_wait() {
            break Event::App(s);
        }
        if let Ok(Some(s)) = sidecar.try_wait() {
            break Event::Sidecar(s);
        }
    };
    match stop {
        Event::App(status) => {
            terminate(&mut sidecar);
            code_of(status)
        }
        Event::Signal => {
            let status = terminate(&mut app);
            terminate(&mut sidecar);
            status.map_or(130, code_of)
        }
        Event::Sidecar(status) => {
            eprintln!("meshctl: the sidecar exited ({status}); stopping the app");
            terminate(&mut app);
            1
        }
    }
}

enum Event {
    App(std::process::ExitStatus),
    Sidecar(std::process::ExitStatus),
    Signal,
}
