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
    /// The client Envoy's listener whose hop to the server Envoy is mutual TLS.
    pub client_mtls_addr: String,
}

/// TLS files for one side of a mutual-TLS hop (PEM paths).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
    /// The peer's SPIFFE ID the client side insists on (server side: none).
    pub peer_san: Option<String>,
}

/// One listener: a port, the domains it routes, the cluster it routes them to,
/// and whether it requires mutual TLS.
#[derive(Debug, Clone)]
pub struct ListenerSpec {
    pub name: String,
    pub port: u16,
    pub domains: Vec<String>,
    pub cluster: String,
    pub tls: Option<TlsFiles>,
}

/// One static cluster of one endpoint on loopback, plaintext or mutual TLS.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub name: String,
    pub port: u16,
    pub tls: Option<TlsFiles>,
}

fn tls_context(t: &TlsFiles) -> String {
    let san = t.peer_san.as_ref().map_or_else(String::new, |san| {
        format!(
            r#"
              match_typed_subject_alt_names:
              - san_type: URI
                matcher: {{ exact: "{san}" }}"#
        )
    });
    format!(
        r#"common_tls_context:
            tls_certificates:
            - certificate_chain: {{ filename: "{}" }}
              private_key: {{ filename: "{}" }}
            validation_context:
              trusted_ca: {{ filename: "{}" }}{san}"#,
        t.cert.display(),
        t.key.display(),
        t.ca.display()
    )
}

/// A bootstrap of `listeners` (one HTTP connection manager with the router filter
/// each) and `clusters`, as Istio's sidecars would have them: mutual TLS where
/// given, the server requiring a client certificate, the client verifying the
/// server's SPIFFE ID; HTTP/1.1 upstream (Istio's default keeps the downstream
/// protocol).
pub fn bootstrap(what: &str, listeners: &[ListenerSpec], clusters: &[ClusterSpec]) -> String {
    let mut y = format!(
        "# Written by mesh-bench: the minimal {what} proxy.\nstatic_resources:\n  listeners:\n"
    );
    for l in listeners {
        let domains = l
            .domains
            .iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let tls = l.tls.as_ref().map_or_else(String::new, |t| {
            format!(
                r#"
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          {}"#,
                tls_context(t)
            )
        });
        y += &format!(
            r#"  - name: {name}
    address:
      socket_address: {{ address: 127.0.0.1, port_value: {port} }}
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
                route: {{ cluster: {cluster} }}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router{tls}
"#,
            name = l.name,
            port = l.port,
            cluster = l.cluster,
        );
    }
    y += "  clusters:\n";
    for c in clusters {
        let tls = c.tls.as_ref().map_or_else(String::new, |t| {
            format!(
                r#"
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        {}"#,
                tls_context(t).replace("\n          ", "\n        ")
            )
        });
        y += &format!(
            r#"  - name: {name}
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: {name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: 127.0.0.1, port_value: {port} }}{tls}
"#,
            name = c.name,
            port = c.port,
        );
    }
    y
}

impl Envoys {
    /// Starts the server Envoy (in front of `backend_port`) and the client Envoy
    /// (routing `echo:9080` to the server Envoy); returns once both forward.
    pub fn start(envoy: &Path, backend_port: u16) -> anyhow::Result<Envoys> {
        let dir = std::env::temp_dir().join(format!("mesh-bench-envoy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let [server_port, server_tls_port, client_port, client_tls_port] = [
            net::free_port()?,
            net::free_port()?,
            net::free_port()?,
            net::free_port()?,
        ];
        let mut envoys = Envoys {
            children: Vec::new(),
            dir,
            server_addr: format!("127.0.0.1:{server_port}"),
            client_addr: format!("127.0.0.1:{client_port}"),
            client_mtls_addr: format!("127.0.0.1:{client_tls_port}"),
        };
        let tls = crate::certs::write(&envoys.dir, &[("echo", None), ("loadgen", Some("echo"))])?;
        let [server_tls, client_tls] = [tls[0].clone(), tls[1].clone()];
        let listener = |name: &str, port, domains: &[String], cluster: &str, tls| ListenerSpec {
            name: name.into(),
            port,
            domains: domains.to_vec(),
            cluster: cluster.into(),
            tls,
        };
        let server = bootstrap(
            "server",
            &[
                listener("server", server_port, &["*".into()], "backend", None),
                listener(
                    "server_mtls",
                    server_tls_port,
                    &["*".into()],
                    "backend",
                    Some(server_tls),
                ),
            ],
            &[ClusterSpec {
                name: "backend".into(),
                port: backend_port,
                tls: None,
            }],
        );
        let echo_domains = [
            format!("echo:{ECHO_PORT}"),
            "echo".into(),
            format!("echo.default:{ECHO_PORT}"),
            format!("echo.default.svc.cluster.local:{ECHO_PORT}"),
        ];
        let client = bootstrap(
            "client",
            &[
                listener("client", client_port, &echo_domains, "upstream", None),
                listener(
                    "client_mtls",
                    client_tls_port,
                    &echo_domains,
                    "upstream_mtls",
                    None,
                ),
            ],
            &[
                ClusterSpec {
                    name: "upstream".into(),
                    port: server_port,
                    tls: None,
                },
                ClusterSpec {
                    name: "upstream_mtls".into(),
                    port: server_tls_port,
                    tls: Some(client_tls),
                },
            ],
        );
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
        for (what, addr) in [
            ("Envoy 2 hops", &envoys.client_addr),
            ("Envoy 2 hops mTLS", &envoys.client_mtls_addr),
        ] {
            net::wait_for_echo(
                what,
                addr,
                &format!("http://{host}/"),
                &host,
                Duration::from_secs(30),
            )?;
        }
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
        let y = bootstrap(
            "client",
            &[ListenerSpec {
                name: "client".into(),
                port: 15001,
                domains: vec!["echo:9080".into(), "echo".into()],
                cluster: "upstream".into(),
                tls: None,
            }],
            &[ClusterSpec {
                name: "upstream".into(),
                port: 15006,
                tls: None,
            }],
        );
        assert!(y.contains("port_value: 15001"));
        assert!(y.contains("port_value: 15006"));
        assert!(y.contains(r#"domains: ["echo:9080", "echo"]"#));
        assert!(y.contains("envoy.filters.http.router"));
        assert!(!y.contains("transport_socket"));
    }

    #[test]
    fn mutual_tls_sides_require_and_verify_certificates() {
        let files = TlsFiles {
            cert: "/c.pem".into(),
            key: "/k.pem".into(),
            ca: "/ca.pem".into(),
            peer_san: Some("spiffe://cluster.local/ns/default/sa/echo".into()),
        };
        let y = bootstrap(
            "client",
            &[ListenerSpec {
                name: "in".into(),
                port: 1,
                domains: vec!["*".into()],
                cluster: "up".into(),
                tls: Some(TlsFiles {
                    peer_san: None,
                    ..files.clone()
                }),
            }],
            &[ClusterSpec {
                name: "up".into(),
                port: 2,
                tls: Some(files),
            }],
        );
        assert!(
            y.contains("DownstreamTlsContext") && y.contains("require_client_certificate: true")
        );
        assert!(y.contains("UpstreamTlsContext"));
        assert!(y.contains(r#"exact: "spiffe://cluster.local/ns/default/sa/echo""#));
        assert_eq!(
            y.matches(r#"trusted_ca: { filename: "/ca.pem" }"#).count(),
            2
        );
    }
}
