//! `meshctl install` and `meshctl uninstall`: the local control plane as a
//! background process under the mesh home.

use std::io::IsTerminal;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use mesh_api::mesh_config::{self, MeshConfig};
use mesh_control_plane::ca;
use mesh_control_plane::client::AdminClient;
use mesh_control_plane::server::{STATE_FILE, StateFile};

use crate::addons::prometheus;
use crate::cli::{GlobalArgs, InstallArgs, InstallProfile, UninstallArgs};
use crate::commands::mesh;
use crate::exit;
use crate::output::{self, Output};

pub const LOG_FILE: &str = "control-plane.log";
pub const PID_FILE: &str = "control-plane.pid";
/// The settings of the last install, with the addresses it actually got: a
/// reinstall binds the same ports, so running sidecars find it again.
pub const SETTINGS_FILE: &str = "install.json";
/// The mesh config the control plane is started with (`--mesh-config`).
pub const MESH_CONFIG_FILE: &str = "mesh-config.json";

/// What `--set` may change.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallSettings {
    pub discovery_address: String,
    pub admin_address: String,
    pub log_level: String,
    #[serde(default = "default_trust_domain")]
    pub trust_domain: String,
    #[serde(default = "default_workload_cert_ttl")]
    pub workload_cert_ttl: String,
    #[serde(default)]
    pub addons: Addons,
    /// `--set meshConfig.*`: access logging and tracing.
    #[serde(default)]
    pub mesh_config: MeshConfig,
}

/// `--set addons.*`: what starts beside the control plane.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addons {
    /// Run a Prometheus server scraping every proxy.
    #[serde(default)]
    pub prometheus: bool,
    /// Where it listens (kept once a free port was picked).
    #[serde(default = "default_prometheus_address")]
    pub prometheus_address: String,
}

fn default_prometheus_address() -> String {
    "127.0.0.1:0".into()
}

impl Default for Addons {
    fn default() -> Self {
        Self {
            prometheus: false,
            prometheus_address: default_prometheus_address(),
        }
    }
}

fn default_trust_domain() -> String {
    ca::DEFAULT_TRUST_DOMAIN.into()
}

fn default_workload_cert_ttl() -> String {
    "24h".into()
}

impl Default for InstallSettings {
    fn default() -> Self {
        Self {
            discovery_address: "127.0.0.1:0".into(),
            admin_address: "127.0.0.1:0".into(),
            log_level: "info".into(),
            trust_domain: default_trust_domain(),
            workload_cert_ttl: default_workload_cert_ttl(),
            addons: Addons::default(),
            mesh_config: MeshConfig::default(),
        }
    }
}

/// A workload certificate lifetime as `--set ca.workloadCertTtl` takes it (`2m`, `24h`).
pub fn parse_ttl(v: &str) -> Result<std::time::Duration, String> {
    let d: mesh_api::common::Duration = v
        .parse()
        .map_err(|_| format!("{v}: not a duration: write it like 90s, 2m, 12h"))?;
    let d = d.as_std();
    ca::validate_workload_ttl(d).map_err(|e| format!("{v}: {e}"))?;
    Ok(d)
}

/// The plugged-in CA of `--set ca.cert=... ca.key=... ca.chain=...`, if any.
pub fn plugged_ca(sets: &[String]) -> Result<Option<ca::PluggedCa>, String> {
    let get = |key: &str| {
        sets.iter()
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| std::path::PathBuf::from(v))
            .next_back()
    };
    match (get("ca.cert"), get("ca.key"), get("ca.chain")) {
        (None, None, None) => Ok(None),
        (Some(cert), Some(key), chain) => Ok(Some(ca::PluggedCa { cert, key, chain })),
        (None, _, _) => {
            Err("--set ca.key/ca.chain need --set ca.cert=FILE (the CA certificate)".into())
        }
        (Some(_), None, _) => Err("--set ca.cert needs --set ca.key=FILE (its private key)".into()),
    }
}

impl InstallSettings {
    /// A profile's preset.
    pub fn profile(p: InstallProfile) -> Self {
        match p {
            InstallProfile::Default => Self::default(),
            InstallProfile::Demo => Self {
                discovery_address: "127.0.0.1:15010".into(),
                admin_address: "127.0.0.1:15014".into(),
                log_level: "debug".into(),
                ..Self::default()
            },
            InstallProfile::Minimal => Self {
                log_level: "warn".into(),
                ..Self::default()
            },
        }
    }

    /// The saved settings of `home`, or the defaults.
    pub fn saved(home: &Path) -> Self {
        std::fs::read_to_string(home.join(SETTINGS_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn save(&self, home: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(home.join(SETTINGS_FILE), text).context("save install settings")
    }

    /// `base` with `--set KEY=VALUE` applied.
    pub fn from_sets(base: Self, sets: &[String]) -> Result<Self, String> {
        let mut s = base;
        for kv in sets {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(format!("--set {kv:?}: expected KEY=VALUE"));
            };
            match k {
                "addons.prometheus" => {
                    s.addons.prometheus = v.parse().map_err(|_| {
                        format!("--set addons.prometheus={v}: expected true or false")
                    })?;
                }
                "discoveryAddress" | "adminAddress" | "addons.prometheusAddress" => {
                    let addr = v.parse::<std::net::SocketAddr>().map_err(|_| {
                        format!("--set {k}={v}: expected an address such as 127.0.0.1:15010")
                    })?;
                    // Until the control plane speaks mTLS, its APIs have no
                    // authentication: keep them on this machine.
                    if !addr.ip().is_loopback() {
                        return Err(format!(
                            "--set {k}={v}: must be a loopback address (127.0.0.1 or ::1): the local control plane's APIs are not authenticated"
                        ));
                    }
                    if k == "discoveryAddress" {
                        s.discovery_address = v.into();
                    } else if k == "addons.prometheusAddress" {
                        s.addons.prometheus_address = v.into();
                    } else {
                        s.admin_address = v.into();
                    }
                }
                "trustDomain" => {
                    ca::validate_trust_domain(v)
                        .map_err(|e| format!("--set trustDomain={v}: {e}"))?;
                    s.trust_domain = v.into();
                }
                "ca.workloadCertTtl" => {
                    parse_ttl(v).map_err(|e| format!("--set ca.workloadCertTtl={e}"))?;
                    s.workload_cert_ttl = v.into();
                }
                // Files, not settings: read by `plugged_ca` and kept in the home.
                "ca.cert" | "ca.key" | "ca.chain" => {}
                "logLevel" => {
                    if !["error", "warn", "info", "debug", "trace"].contains(&v) {
                        return Err(format!(
                            "--set logLevel={v}: one of error, warn, info, debug, trace"
                        ));
                    }
                    s.log_level = v.into();
                }
                _ if k.starts_with("meshConfig.") => {
                    let key = &k["meshConfig.".len()..];
                    s.mesh_config
                        .set(key, v)
                        .map_err(|e| format!("--set {k}={v}: {e}"))?;
                }
                _ => {
                    return Err(format!(
                        "--set {k}: unknown setting; known: discoveryAddress, adminAddress, logLevel, trustDomain, ca.workloadCertTtl, ca.cert, ca.key, ca.chain, addons.prometheus, addons.prometheusAddress, meshConfig.{{{}}}",
                        mesh_config::SETTABLE
                    ));
                }
            }
        }
        Ok(s)
    }
}

fn confirm(prompt: &str, skip: bool) -> anyhow::Result<bool> {
    if skip || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(true);
    }
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(true)
        .interact()
        .context("read confirmation")
}

pub fn install(args: &InstallArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let home = mesh::home(g);
    // A profile chooses the base; without one, the last install's settings (so the
    // addresses stay what running sidecars know).
    let base = match args.profile {
        Some(p) => InstallSettings::profile(p),
        None => InstallSettings::saved(&home),
    };
    let (settings, plugged) = match InstallSettings::from_sets(base, &args.set)
        .and_then(|s| Ok((s, plugged_ca(&args.set)?)))
    {
        Ok(s) => s,
        Err(e) => {
            out.error(&e);
            return Err(exit::Exit::with(exit::USAGE));
        }
    };
    // Check a plugged-in CA before anything starts or changes.
    let plugged = match plugged.as_ref().map(ca::CaFiles::import).transpose() {
        Ok(p) => p,
        Err(e) => {
            out.error(&e.to_string());
            return Err(exit::Exit::with(exit::DATA));
        }
    };
    // A missing addon binary is found before anything starts.
    let prometheus = if settings.addons.prometheus {
        match prometheus::binary() {
            Ok(b) => Some(b),
            Err(e) => {
                out.error(&e.to_string());
                return Err(exit::Exit::with(exit::FAILURE));
            }
        }
    } else {
        None
    };
    if let Some(state) = mesh::running(&home) {
        if plugged.is_some() {
            out.error(&format!(
                "the control plane is running in {} (pid {}); run `meshctl uninstall` first to change its CA",
                home.display(),
                state.pid
            ));
            return Err(exit::Exit::with(exit::FAILURE));
        }
        out.line(&format!(
            "{} the control plane is already running in {} (pid {}): admin {}, discovery {}; nothing to do",
            out.paint(output::OK, "installed:"),
            home.display(),
            state.pid,
            state.admin_address,
            state.discovery_address
        ))?;
        if prometheus.is_some() && prometheus::running(&home).is_none() {
            out.note("addons.prometheus: the running control plane was installed without it; run `meshctl uninstall`, then install again with the addon")?;
        }
        return Ok(());
    }
    if !confirm(
        &format!("Install the meshctl control plane in {}?", home.display()),
        args.yes,
    )? {
        out.line("cancelled: nothing was installed")?;
        return Err(exit::Exit::with(exit::FAILURE));
    }
    std::fs::create_dir_all(&home).with_context(|| format!("create {}", home.display()))?;
    let ca_files = match plugged {
        Some(p) => {
            // Another CA replaces the kept one, and any rotation of it.
            ca::rotation::abandon(&home)?;
            p.save(&home)?;
            p
        }
        None => ca::CaFiles::ensure(&home, &settings.trust_domain)?,
    };
    let _ = std::fs::remove_file(home.join(STATE_FILE));
    let log_path = home.join(LOG_FILE);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("open {}", log_path.display()))?;
    let mesh_config_path = home.join(MESH_CONFIG_FILE);
    std::fs::write(
        &mesh_config_path,
        serde_json::to_string_pretty(&settings.mesh_config)?,
    )
    .context("write the mesh config")?;
    let exe = std::env::current_exe().context("find the meshctl binary")?;
    let mut child = Command::new(exe)
        .arg("control-plane")
        .arg("run")
        .arg("--home")
        .arg(&home)
        .args(["--discovery-address", &settings.discovery_address])
        .args(["--admin-address", &settings.admin_address])
        .args(["--log-level", &settings.log_level])
        .args(["--trust-domain", &settings.trust_domain])
        .args(["--workload-cert-ttl", &settings.workload_cert_ttl])
        .args(
            prometheus
                .as_ref()
                .map(|_| ["--scrape-targets".into(), prometheus::targets_file(&home)])
                .into_iter()
                .flatten(),
        )
        .arg("--mesh-config")
        .arg(&mesh_config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("log file")?)
        .stderr(log)
        // Its own process group: Ctrl-C in this terminal does not stop it.
        .process_group(0)
        .spawn()
        .context("start the control plane")?;
    let pid = child.id();
    std::fs::write(home.join(PID_FILE), format!("{pid}\n")).context("write pid file")?;

    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message("starting the control plane");
    spinner.enable_steady_tick(Duration::from_millis(100));
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let rt = mesh::runtime()?;
    let state = loop {
        if let Some(status) = child.try_wait().context("watch the control plane")? {
            spinner.finish_and_clear();
            bail!(
                "the control plane exited ({status}) before it was ready; its log ({}) ends with:\n{}",
                log_path.display(),
                tail(&log_path, 15)
            );
        }
        if let Some(state) = StateFile::read(&home).filter(|s| s.pid == pid) {
            spinner.set_message("waiting for the control plane to answer");
            let admin: AdminClient =
                AdminClient::new(state.admin_address.parse().context("admin address")?);
            if rt.block_on(admin.ready()) {
                break state;
            }
        }
        if Instant::now() > deadline {
            spinner.finish_and_clear();
            bail!(
                "the control plane (pid {pid}) was not ready after {}s; see {}",
                args.timeout,
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    spinner.finish_and_clear();
    let mut addons = settings.addons.clone();
    let started_prometheus = match &prometheus {
        Some(binary) => {
            let (pid, addr) = prometheus::start(
                &home,
                binary,
                &addons.prometheus_address,
                Duration::from_secs(args.timeout),
            )?;
            addons.prometheus_address = addr.clone();
            Some((pid, addr))
        }
        None => None,
    };
    InstallSettings {
        discovery_address: state.discovery_address.clone(),
        admin_address: state.admin_address.clone(),
        addons,
        ..settings.clone()
    }
    .save(&home)?;
    out.line(&format!(
        "{} control plane running (pid {})",
        out.paint(output::OK, "installed:"),
        state.pid
    ))?;
    out.line(&format!(
        "  discovery  {}   proxies connect here",
        state.discovery_address
    ))?;
    out.line(&format!(
        "  admin      {}   meshctl connects here",
        state.admin_address
    ))?;
    out.line(&format!(
        "  home       {}   store, state, {LOG_FILE}",
        home.display()
    ))?;
    out.line(&format!(
        "  ca         {} root, trust domain {}, workload certificates for {} ({})",
        ca_files.source.as_str(),
        settings.trust_domain,
        settings.workload_cert_ttl,
        home.join("ca").display()
    ))?;
    if let Some((pid, addr)) = started_prometheus {
        out.line(&format!(
            "  prometheus http://{addr}/ (pid {pid}) scraping every proxy every {} ({})",
            prometheus::SCRAPE_INTERVAL,
            prometheus::targets_file(&home).display()
        ))?;
    }
    out.line("next: meshctl run --service NAME --port PORT -- COMMAND, then meshctl proxy-status")?;
    Ok(())
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn uninstall(args: &UninstallArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let home = mesh::home(g);
    match mesh::running(&home) {
        Some(state) => {
            stop(state.pid)?;
            out.line(&format!(
                "stopped: control plane (pid {}); sidecars keep serving with their last config until they stop",
                state.pid
            ))?;
        }
        None => out.line(&format!(
            "no control plane is running in {}; nothing to stop",
            home.display()
        ))?,
    }
    if let Some(pid) = prometheus::stop(&home)? {
        out.line(&format!("stopped: prometheus (pid {pid})"))?;
    }
    let _ = std::fs::remove_file(home.join(STATE_FILE));
    let _ = std::fs::remove_file(home.join(PID_FILE));
    if args.purge && home.exists() {
        if !confirm(
            &format!(
                "Delete {} and the mesh config stored there?",
                home.display()
            ),
            args.yes,
        )? {
            out.line("kept: the mesh home was not deleted")?;
            return Ok(());
        }
        std::fs::remove_dir_all(&home).with_context(|| format!("delete {}", home.display()))?;
        out.line(&format!("purged: {}", home.display()))?;
    }
    Ok(())
}

/// SIGTERM, wait up to 10 s, then SIGKILL.
fn stop(pid: u32) -> anyhow::Result<()> {
    use nix::sys::signal::{Signal, kill};
    let p = nix::unistd::Pid::from_raw(i32::try_from(pid).context("pid")?);
    kill(p, Signal::SIGTERM).with_context(|| format!("signal pid {pid}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while mesh::pid_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if mesh::pid_alive(pid) {
        let _ = kill(p, Signal::SIGKILL);
    }
    Ok(())
}
