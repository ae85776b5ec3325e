//! Reference reverse proxies for the single-hop comparison: nginx and HAProxy in
//! front of the same echo backend, configured like the server Envoy (keep-alive
//! upstream connections, one worker or thread, no access log), each from a
//! generated config in its own temporary directory, on unprivileged ports.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::mesh::ECHO_PORT;
use crate::net;
use crate::procs;

/// Which reference proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Haproxy,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx",
            Kind::Haproxy => "HAProxy",
        }
    }

    /// The Debian package that provides the binary.
    pub fn package(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx-light",
            Kind::Haproxy => "haproxy",
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx",
            Kind::Haproxy => "haproxy",
        }
    }

    /// `given`, else the binary on $PATH or in /usr/sbin; a missing binary is an
    /// error naming the package to install (never a silent skip).
    pub fn find(self, given: Option<&Path>) -> anyhow::Result<PathBuf> {
        if let Some(p) = given {
            return Ok(p.to_path_buf());
        }
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        dirs.push("/usr/sbin".into());
        self.locate(&dirs)
    }

    /// The binary in the first of `dirs` that has it.
    fn locate(self, dirs: &[PathBuf]) -> anyhow::Result<PathBuf> {
        match dirs
            .iter()
            .map(|d| d.join(self.binary()))
            .find(|p| p.is_file())
        {
            Some(p) => Ok(p),
            None => bail!(
                "{} not found: apt-get install -y {} (Debian/Ubuntu), pass --{} PATH, or leave it out with --no-{}",
                self.binary(),
                self.package(),
                self.binary(),
                self.binary()
            ),
        }
    }

    /// `nginx -v` / `haproxy -v`, shortened to the version.
    pub fn version(self, bin: &Path) -> String {
        let out = Command::new(bin).arg("-v").output().ok();
        let text = out
            .map(|o| {
                // nginx prints its version on stderr, HAProxy on stdout.
                String::from_utf8_lossy(&o.stderr).into_owned()
                    + &String::from_utf8_lossy(&o.stdout)
            })
            .unwrap_or_default();
        let v = match self {
            // "nginx version: nginx/1.22.1"
            Kind::Nginx => text
                .split_once("nginx/")
                .and_then(|(_, v)| v.split_whitespace().next()),
            // "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/"
            Kind::Haproxy => text
                .split_once("version ")
                .and_then(|(_, v)| v.split_whitespace().next()),
        };
        v.unwrap_or("unknown").to_owned()
    }
}

/// nginx's config: one worker, keep-alive to the backend (a pool of idle
/// connections, HTTP/1.1 without `Connection: close`), no access log, every path
/// in `dir`, and no cap on requests per client or upstream connection (nginx
/// closes a keep-alive connection after 1000 requests by default; Envoy does not).
pub fn nginx_config(dir: &Path, port: u16, backend_port: u16) -> String {
    let d = dir.display();
    format!(
        r#"# Written by mesh-bench: nginx as a single-hop reverse proxy.
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    upstream backend {{
        server 127.0.0.1:{backend_port};
        keepalive 256;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
"#
    )
}

/// HAProxy's config: one thread, HTTP mode with keep-alive on both sides and the
/// idle server connections shared between clients (`http-reuse always`, like
/// Envoy's connection pool), no logging.
pub fn haproxy_config(port: u16, backend_port: u16) -> String {
    format!(
        r#"# Written by mesh-bench: HAProxy as a single-hop reverse proxy.
global
    nbthread 1
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 75s

frontend bench
    bind 127.0.0.1:{port}
    default_backend echo

backend echo
    server echo 127.0.0.1:{backend_port}
"#
    )
}

/// One running reference proxy.
#[derive(Debug)]
pub struct RefProxy {
    pub kind: Kind,
    child: Child,
    dir: PathBuf,
    /// Its listener.
    pub addr: String,
}

impl RefProxy {
    /// Writes the config into a fresh temporary directory, starts the proxy in the
    /// foreground and returns once it forwards to the backend.
    pub fn start(kind: Kind, bin: &Path, backend_port: u16) -> anyhow::Result<RefProxy> {
        let dir = std::env::temp_dir().join(format!(
            "mesh-bench-{}-{}",
            kind.binary(),
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let port = net::free_port()?;
        let mut cmd = Command::new(bin);
        match kind {
            Kind::Nginx => {
                let conf = dir.join("nginx.conf");
                std::fs::write(&conf, nginx_config(&dir, port, backend_port))
                    .with_context(|| format!("write {}", conf.display()))?;
                // -e: the startup error log too, not /var/log/nginx.
                cmd.arg("-p")
                    .arg(&dir)
                    .arg("-e")
                    .arg(dir.join("nginx-error.log"))
                    .arg("-c")
                    .arg(&conf);
            }
            Kind::Haproxy => {
                let conf = dir.join("haproxy.cfg");
                std::fs::write(&conf, haproxy_config(port, backend_port))
                    .with_context(|| format!("write {}", conf.display()))?;
                // -db: foreground, no daemon.
                cmd.arg("-db").arg("-f").arg(&conf);
            }
        }
        let log_path = dir.join("stdout.log");
        let log = std::fs::File::create(&log_path)?;
        let err = log.try_clone()?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        std::thread::sleep(Duration::from_millis(200));
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default()
                + &std::fs::read_to_string(dir.join("nginx-error.log")).unwrap_or_default();
            bail!("{} exited at once ({status}):\n{log}", kind.name());
        }
        let proxy = RefProxy {
            kind,
            child,
            dir,
            addr: format!("127.0.0.1:{port}"),
        };
        net::wait_for_echo(
            &format!("{} 1 hop", kind.name()),
            &proxy.addr,
            "/",
            &format!("echo:{ECHO_PORT}"),
            Duration::from_secs(30),
        )?;
        Ok(proxy)
    }

    /// The proxy's processes: HAProxy's one, nginx's master and its worker.
    pub fn pids(&self) -> Vec<u32> {
        let main = self.child.id();
        let mut pids = vec![main];
        pids.extend(procs::children(main));
        pids
    }
}

impl Drop for RefProxy {
    fn drop(&mut self) {
        // SIGTERM: nginx's master stops its worker; HAProxy exits.
        net::stop(&mut self.child, Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_keeps_upstream_connections_alive_with_one_worker_and_no_access_log() {
        let c = nginx_config(Path::new("/tmp/x"), 18080, 19090);
        for want in [
            "worker_processes 1;",
            "access_log off;",
            "listen 127.0.0.1:18080;",
            "server 127.0.0.1:19090;",
            "keepalive 256;",
            "proxy_http_version 1.1;",
            r#"proxy_set_header Connection "";"#,
            "pid /tmp/x/nginx.pid;",
        ] {
            assert!(c.contains(want), "{want} missing from:\n{c}");
        }
    }

    #[test]
    fn haproxy_has_one_thread_and_reuses_server_connections() {
        let c = haproxy_config(18080, 19090);
        for want in [
            "nbthread 1",
            "mode http",
            "http-reuse always",
            "bind 127.0.0.1:18080",
            "server echo 127.0.0.1:19090",
        ] {
            assert!(c.contains(want), "{want} missing from:\n{c}");
        }
        assert!(!c.contains("log "), "no logging:\n{c}");
    }

    #[test]
    fn a_missing_binary_names_its_package() {
        let empty = std::env::temp_dir().join(format!("mesh-bench-empty-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&empty);
        for (kind, install) in [
            (Kind::Nginx, "apt-get install -y nginx-light"),
            (Kind::Haproxy, "apt-get install -y haproxy"),
        ] {
            let err = kind
                .locate(std::slice::from_ref(&empty))
                .map_or_else(|e| e.to_string(), |p| p.display().to_string());
            assert!(err.contains(install), "{err}");
        }
        let _ = std::fs::remove_dir(&empty);
    }
}
