//! The Prometheus addon: a real Prometheus server (Debian's `prometheus`
//! package) on loopback, scraping every proxy and the control plane through
//! the `file_sd` targets file the control plane keeps (`--scrape-targets`).
//! Its config, data and log live under the mesh home.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::commands::mesh;

/// Its folder in the mesh home: `prometheus.yml`, `targets.json`, `data/`.
pub const DIR: &str = "prometheus";
pub const PID_FILE: &str = "prometheus.pid";
pub const LOG_FILE: &str = "prometheus.log";
/// How often it scrapes.
pub const SCRAPE_INTERVAL: &str = "5s";

/// Where the control plane keeps the targets.
pub fn targets_file(home: &Path) -> PathBuf {
    home.join(DIR).join("targets.json")
}

/// The server binary: `$MESHCTL_PROMETHEUS`, else `prometheus` on `PATH`, else
/// `/usr/bin/prometheus`.
pub fn binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("MESHCTL_PROMETHEUS").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!(
                "addons.prometheus=true: $MESHCTL_PROMETHEUS is {}, which is not a file; `apt-get install prometheus` installs the server as /usr/bin/prometheus",
                p.display()
            );
        }
        return Ok(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("prometheus"))
            .find(|p| p.is_file())
    });
    match on_path.or_else(|| Some(PathBuf::from("/usr/bin/prometheus")).filter(|p| p.is_file())) {
        Some(p) => Ok(p),
        None => bail!(
            "addons.prometheus=true needs the Prometheus server, which is not installed: `apt-get install prometheus` (Debian's package), or put a `prometheus` binary on PATH"
        ),
    }
}

/// `prometheus.yml`: one job reading the targets file (each target carries its
/// own `job` and metrics path).
pub fn config(home: &Path) -> String {
    format!(
        "# Written by meshctl install; rewritten at each install.\n\
         global:\n  scrape_interval: {SCRAPE_INTERVAL}\n  evaluation_interval: {SCRAPE_INTERVAL}\n\
         scrape_configs:\n  - job_name: meshctl\n    file_sd_configs:\n      - files: [{:?}]\n        refresh_interval: {SCRAPE_INTERVAL}\n",
        targets_file(home).display().to_string()
    )
}

/// A free loopback port for `127.0.0.1:0`; other addresses as given.
fn resolve(address: &str) -> anyhow::Result<String> {
    let addr: std::net::SocketAddr = address
        .parse()
        .with_context(|| format!("addons.prometheusAddress {address:?}"))?;
    if addr.port() != 0 {
        return Ok(address.to_owned());
    }
    let l = std::net::TcpListener::bind(addr)
        .with_context(|| format!("find a free port on {}", addr.ip()))?;
    Ok(l.local_addr().context("free port")?.to_string())
}

/// The running server's pid, if any.
pub fn running(home: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(home.join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let exe = cmdline.split(|b| *b == 0).next()?;
    (mesh::pid_alive(pid) && exe.ends_with(b"prometheus")).then_some(pid)
}

/// Starts the server on `address` and waits until it is ready; returns its
/// pid and the address it listens on.
pub fn start(
    home: &Path,
    binary: &Path,
    address: &str,
    timeout: Duration,
) -> anyhow::Result<(u32, String)> {
    let address = resolve(address)?;
    let dir = home.join(DIR);
    std::fs::create_dir_all(dir.join("data"))
        .with_context(|| format!("create {}", dir.display()))?;
    let config_path = dir.join("prometheus.yml");
    std::fs::write(&config_path, config(home))
        .with_context(|| format!("write {}", config_path.display()))?;
    let log_path = home.join(LOG_FILE);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("open {}", log_path.display()))?;
    let mut child = Command::new(binary)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={address}"))
        .arg("--storage.tsdb.retention.time=1d")
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("log file")?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("start {}", binary.display()))?;
    let pid = child.id();
    std::fs::write(home.join(PID_FILE), format!("{pid}\n"))
        .context("write the prometheus pid file")?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().context("watch prometheus")? {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(10).collect();
            bail!(
                "prometheus exited ({status}) before it was ready; {} ends with:\n{}",
                log_path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        if ready(&address) {
            return Ok((pid, address));
        }
        if Instant::now() > deadline {
            bail!(
                "prometheus (pid {pid}) was not ready on {address} after {}s; see {}",
                timeout.as_secs(),
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `GET /-/ready` answers 200.
fn ready(address: &str) -> bool {
    let Ok(addr) = address.parse() else {
        return false;
    };
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET /-/ready HTTP/1.0\r\nHost: {address}\r\n\r\n");
    let mut head = [0u8; 12];
    s.write_all(req.as_bytes()).is_ok()
        && s.read_exact(&mut head).is_ok()
        && head.ends_with(b" 200")
}

/// Stops the running server (SIGTERM, then SIGKILL after 10 s); its pid if one ran.
pub fn stop(home: &Path) -> anyhow::Result<Option<u32>> {
    let pid = running(home);
    if let Some(pid) = pid {
        use nix::sys::signal::{Signal, kill};
        let p = nix::unistd::Pid::from_raw(i32::try_from(pid).context("pid")?);
        kill(p, Signal::SIGTERM).with_context(|| format!("signal prometheus (pid {pid})"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while mesh::pid_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if mesh::pid_alive(pid) {
            let _ = kill(p, Signal::SIGKILL);
        }
    }
    let _ = std::fs::remove_file(home.join(PID_FILE));
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_the_targets_file_of_the_home() {
        let c = config(Path::new("/tmp/mesh home"));
        assert!(
            c.contains("files: [\"/tmp/mesh home/prometheus/targets.json\"]"),
            "{c}"
        );
        assert!(c.contains("scrape_interval: 5s"));
        let port = resolve("127.0.0.1:0").expect("free port");
        assert!(!port.ends_with(":0"));
        assert_eq!(
            resolve("127.0.0.1:9090").expect("as given"),
            "127.0.0.1:9090"
        );
    }
}
