//! The Envoy side of the benchmark: a server Envoy in front of the backend (the
//! peer's inbound sidecar) and a client Envoy that routes `echo:9080` to it (the
//! app's outbound sidecar). Static bootstraps written by the bench: one HTTP
//! connection manager with the router filter and one static cluster each,
//! `--concurrency 1`, plaintext between the two (as meshctl's sidecars today).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::mesh::ECHO_PORT;
use crate::net;

/// Two running Envoys.
#[derive(Debug)]
pub struct Envoys {
    children: Vec<Child>,
    dir: PathBuf,
    /// The server Envoy's listener (1 hop; forwards to the backend).
    pub server_addr: String,
    /// The client Envoy's listener (2 hops; the load generator's HTTP proxy).
    pub client_addr: String,
}

/// A bootstrap: one listener on `listen_port` routing `domains` to one static
/// cluster at `upstream_port` on loopback.
pub fn bootstrap(name: &str, listen_port: u16, domains: &[String], upstream_port: u16) -> String {
    let domains = domains
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"# Written by mesh-bench: the minimal {name} proxy.
static_resources:
  listeners:
  - name: {name}
    address:
      socket_address: {{ address: 127.0.0.1, port_value: {listen_port} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {name}
          codec_type: AUTO
          route_config:
            name: {name}
            virtual_hosts:
            - name: echo
              domains: [{domains}]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: upstream }}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: 127.0.0.1, port_value: {upstream_port} }}
"#
    )
}

impl Envoys {
    /// Starts the server Envoy (in front of `backend_port`) and the client Envoy
    /// (routing `echo:9080` to the server Envoy); returns once both forward.
    pub fn start(envoy: &Path, backend_port: u16) -> anyhow::Result<Envoys> {
        let dir = std::env::temp_dir().join(format!("mesh-bench-envoy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let server_port = net::free_port()?;
        let client_port = net::free_port()?;
        let mut envoys = Envoys {
            children: Vec::new(),
            dir,
            server_addr: format!("127.0.0.1:{server_port}"),
            client_addr: format!("127.0.0.1:{client_port}"),
        };
        let server = bootstrap("server", server_port, &["*".into()], backend_port);
        let echo_domains = [
            format!("echo:{ECHO_PORT}"),
            "echo".into(),
            format!("echo.default:{ECHO_PORT}"),
            format!("echo.default.svc.cluster.local:{ECHO_PORT}"),
        ];
        let client = bootstrap("client", client_port, &echo_domains, server_port);
        for (name, yaml) in [("server", server), ("client", client)] {
            let child = envoys.spawn(envoy, name, &yaml)?;
            envoys.children.push(child);
        }
        let host = format!("echo:{ECHO_PORT}");
        net::wait_for_echo(
            "Envoy 1 hop",
            &envoys.server_addr,
            "/",
            &host,
            Duration::from_secs(30),
        )?;
        net::wait_for_echo(
            "Envoy 2 hops",
            &envoys.client_addr,
            &format!("http://{host}/"),
            &host,
            Duration::from_secs(30),
        )?;
        Ok(envoys)
    }

    fn spawn(&self, envoy: &Path, name: &str, yaml: &str) -> anyhow::Result<Child> {
        let config = self.dir.join(format!("{name}.yaml"));
        std::fs::write(&config, yaml).with_context(|| format!("write {}", config.display()))?;
        let log = std::fs::File::create(self.dir.join(format!("{name}.log")))?;
        let err = log.try_clone()?;
        let mut child = Command::new(envoy)
            .arg("-c")
            .arg(&config)
            .args(["--concurrency", "1", "--disable-hot-restart", "-l", "warn"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .with_context(|| format!("start {}", envoy.display()))?;
        std::thread::sleep(Duration::from_millis(200));
        if let Some(status) = child.try_wait()? {
            let log =
                std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default();
            bail!("envoy ({name}) exited at once ({status}):\n{log}");
        }
        Ok(child)
    }

    /// Both Envoys' pids (server first).
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    /// `envoy --version`, shortened to the version and build.
    pub fn version(envoy: &Path) -> String {
        Command::new(envoy)
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| {
                // "<path>  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"
                let v = s.split_once("version:")?.1.split_whitespace().next()?;
                Some(v.split('/').skip(1).collect::<Vec<_>>().join("/"))
            })
            .unwrap_or_else(|| "unknown".into())
    }
}

impl Drop for Envoys {
    fn drop(&mut self) {
        for c in &mut self.children {
            net::stop(c, Duration::from_secs(5));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_routes_the_domains_to_the_upstream_port() {
        let y = bootstrap("client", 15001, &["echo:9080".into(), "echo".into()], 15006);
        assert!(y.contains("port_value: 15001"));
        assert!(y.contains("port_value: 15006"));
        assert!(y.contains(r#"domains: ["echo:9080", "echo"]"#));
        assert!(y.contains("envoy.filters.http.router"));
    }
}
