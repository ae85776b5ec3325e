//! The Envoy side of the benchmark: a server Envoy in front of the backends (the
//! peer's inbound sidecar) and a client Envoy that routes `echo:9080` to it (the
//! app's outbound sidecar). Static bootstraps written by the bench, one listener
//! per setup: an HTTP connection manager with the router filter (HTTP, gRPC), or
//! for TCP a `CONNECT`-terminating one on the client and `tcp_proxy` on the
//! server; `--concurrency 1`; plaintext or mutual TLS between the two.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::mesh::{ECHO_PORT, GRPC_PORT, TCP_PORT};
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
    /// The client Envoy's `CONNECT` listener, tunnelling over mutual TLS to the
    /// server Envoy's `tcp_proxy` in front of the HTTPS echo.
    pub client_tcp_mtls_addr: String,
    /// The client Envoy's gRPC listener (HTTP/2 over mutual TLS to the server
    /// Envoy, h2c to fortio's server), when there is a gRPC backend.
    pub client_grpc_mtls_addr: Option<String>,
}

/// The backends the server Envoy fronts (loopback ports).
#[derive(Debug, Clone, Copy)]
pub struct Backends {
    /// The HTTP/1.1 echo.
    pub http: u16,
    /// The HTTPS echo (relayed as TCP).
    pub tls: u16,
    /// fortio's gRPC ping server.
    pub grpc: Option<u16>,
}

/// What a listener does with its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// HTTP connection manager routing `domains` to the cluster.
    Http,
    /// HTTP connection manager terminating `CONNECT`: the tunnel's bytes go to
    /// the cluster as a TCP stream.
    Connect,
    /// `tcp_proxy` to the cluster.
    Tcp,
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
    pub kind: ListenerKind,
}

/// One static cluster of one endpoint on loopback, plaintext or mutual TLS,
/// HTTP/1.1 or HTTP/2.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub name: String,
    pub port: u16,
    pub tls: Option<TlsFiles>,
    pub http2: bool,
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
        let filter = match l.kind {
            ListenerKind::Tcp => format!(
                r#"      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: {name}
          cluster: {cluster}"#,
                name = l.name,
                cluster = l.cluster,
            ),
            ListenerKind::Http | ListenerKind::Connect => {
                let connect = l.kind == ListenerKind::Connect;
                let (upgrades, matcher, route_upgrade) = if connect {
                    (
                        "\n          upgrade_configs: [{ upgrade_type: CONNECT }]",
                        "connect_matcher: {}",
                        ", upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {} }]",
                    )
                } else {
                    ("", "prefix: \"/\"", "")
                };
                format!(
                    r#"      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {name}
          codec_type: AUTO{upgrades}
          route_config:
            name: {name}
            virtual_hosts:
            - name: echo
              domains: [{domains}]
              routes:
              - match: {{ {matcher} }}
                route: {{ cluster: {cluster}{route_upgrade} }}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"#,
                    name = l.name,
                    cluster = l.cluster,
                )
            }
        };
        y += &format!(
            r#"  - name: {name}
    address:
      socket_address: {{ address: 127.0.0.1, port_value: {port} }}
    filter_chains:
    - filters:
{filter}{tls}
"#,
            name = l.name,
            port = l.port,
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
        let http2 = if c.http2 {
            r#"
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }"#
        } else {
            ""
        };
        y += &format!(
            r#"  - name: {name}
    type: STATIC
    connect_timeout: 1s{http2}
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
    /// Starts the server Envoy (in front of the backends) and the client Envoy
    /// (routing `echo:9080` and the other services to it); returns once both
    /// forward.
    pub fn start(envoy: &Path, backends: Backends) -> anyhow::Result<Envoys> {
        let dir = std::env::temp_dir().join(format!("mesh-bench-envoy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let port = net::free_port;
        let [server_port, server_tls_port, client_port, client_tls_port] =
            [port()?, port()?, port()?, port()?];
        let [
            server_tcp_port,
            client_tcp_port,
            server_grpc_port,
            client_grpc_port,
        ] = [port()?, port()?, port()?, port()?];
        let mut envoys = Envoys {
            children: Vec::new(),
            dir,
            server_addr: format!("127.0.0.1:{server_port}"),
            client_addr: format!("127.0.0.1:{client_port}"),
            client_mtls_addr: format!("127.0.0.1:{client_tls_port}"),
            client_tcp_mtls_addr: format!("127.0.0.1:{client_tcp_port}"),
            client_grpc_mtls_addr: backends
                .grpc
                .map(|_| format!("127.0.0.1:{client_grpc_port}")),
        };
        let tls = crate::certs::write(&envoys.dir, &[("echo", None), ("loadgen", Some("echo"))])?;
        let [server_tls, client_tls] = [tls[0].clone(), tls[1].clone()];
        let listener =
            |name: &str, port, domains: &[String], cluster: &str, tls, kind| ListenerSpec {
                name: name.into(),
                port,
                domains: domains.to_vec(),
                cluster: cluster.into(),
                tls,
                kind,
            };
        let cluster = |name: &str, port, tls, http2| ClusterSpec {
            name: name.into(),
            port,
            tls,
            http2,
        };
        let any = ["*".to_string()];
        let mut server_listeners = vec![
            listener(
                "server",
                server_port,
                &any,
                "backend",
                None,
                ListenerKind::Http,
            ),
            listener(
                "server_mtls",
                server_tls_port,
                &any,
                "backend",
                Some(server_tls.clone()),
                ListenerKind::Http,
            ),
            listener(
                "server_tcp_mtls",
                server_tcp_port,
                &any,
                "backend_tls",
                Some(server_tls.clone()),
                ListenerKind::Tcp,
            ),
        ];
        let mut server_clusters = vec![
            cluster("backend", backends.http, None, false),
            cluster("backend_tls", backends.tls, None, false),
        ];
        let domains = |service: &str, port: u16| {
            vec![
                format!("{service}:{port}"),
                service.to_string(),
                format!("{service}.default:{port}"),
                format!("{service}.default.svc.cluster.local:{port}"),
            ]
        };
        let echo_domains = domains("echo", ECHO_PORT);
        let mut client_listeners = vec![
            listener(
                "client",
                client_port,
                &echo_domains,
                "upstream",
                None,
                ListenerKind::Http,
            ),
            listener(
                "client_mtls",
                client_tls_port,
                &echo_domains,
                "upstream_mtls",
                None,
                ListenerKind::Http,
            ),
            listener(
                "client_tcp_mtls",
                client_tcp_port,
                &any,
                "upstream_tcp_mtls",
                None,
                ListenerKind::Connect,
            ),
        ];
        let mut client_clusters = vec![
            cluster("upstream", server_port, None, false),
            cluster(
                "upstream_mtls",
                server_tls_port,
                Some(client_tls.clone()),
                false,
            ),
            cluster(
                "upstream_tcp_mtls",
                server_tcp_port,
                Some(client_tls.clone()),
                false,
            ),
        ];
        if let Some(grpc) = backends.grpc {
            server_listeners.push(listener(
                "server_grpc_mtls",
                server_grpc_port,
                &any,
                "backend_grpc",
                Some(server_tls),
                ListenerKind::Http,
            ));
            server_clusters.push(cluster("backend_grpc", grpc, None, true));
            client_listeners.push(listener(
                "client_grpc_mtls",
                client_grpc_port,
                &domains("echo-grpc", GRPC_PORT),
                "upstream_grpc_mtls",
                None,
                ListenerKind::Http,
            ));
            client_clusters.push(cluster(
                "upstream_grpc_mtls",
                server_grpc_port,
                Some(client_tls),
                true,
            ));
        }
        let server = bootstrap("server", &server_listeners, &server_clusters);
        let client = bootstrap("client", &client_listeners, &client_clusters);
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
        net::wait_for_connect(
            "Envoy 2 hops mTLS (TCP)",
            &envoys.client_tcp_mtls_addr,
            &format!("echo-tcp:{TCP_PORT}"),
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
        let y = bootstrap(
            "client",
            &[ListenerSpec {
                name: "client".into(),
                port: 15001,
                domains: vec!["echo:9080".into(), "echo".into()],
                cluster: "upstream".into(),
                tls: None,
                kind: ListenerKind::Http,
            }],
            &[ClusterSpec {
                name: "upstream".into(),
                port: 15006,
                tls: None,
                http2: false,
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
                kind: ListenerKind::Http,
            }],
            &[ClusterSpec {
                name: "up".into(),
                port: 2,
                tls: Some(files),
                http2: false,
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

    #[test]
    fn tcp_setups_terminate_connect_on_the_client_and_proxy_tcp_on_the_server() {
        let listener = |kind| ListenerSpec {
            name: "l".into(),
            port: 1,
            domains: vec!["*".into()],
            cluster: "up".into(),
            tls: None,
            kind,
        };
        let client = bootstrap("client", &[listener(ListenerKind::Connect)], &[]);
        assert!(client.contains("upgrade_configs: [{ upgrade_type: CONNECT }]"));
        assert!(client.contains("match: { connect_matcher: {} }"));
        assert!(client.contains("connect_config: {}"), "{client}");
        let server = bootstrap("server", &[listener(ListenerKind::Tcp)], &[]);
        assert!(
            server.contains("envoy.filters.network.tcp_proxy") && server.contains("cluster: up")
        );
        assert!(!server.contains("http_connection_manager"), "{server}");
    }

    #[test]
    fn grpc_clusters_speak_http2_upstream() {
        let cluster = |http2| ClusterSpec {
            name: "c".into(),
            port: 1,
            tls: None,
            http2,
        };
        assert!(bootstrap("s", &[], &[cluster(true)]).contains("http2_protocol_options: {}"));
        assert!(!bootstrap("s", &[], &[cluster(false)]).contains("http2_protocol_options"));
    }
}
