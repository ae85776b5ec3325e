//! Small network helpers: free ports, a one-shot HTTP/1.1 probe, child processes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A loopback port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(l.local_addr()?.port())
}

/// Sends one `GET target` with `Host: host` to `addr` and returns the status and body.
pub fn probe(addr: &str, target: &str, host: &str) -> anyhow::Result<(u16, String)> {
    let addr: SocketAddr = addr.parse().with_context(|| format!("address {addr}"))?;
    let mut tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        tcp,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no HTTP status in {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Probes until the answer is 200 with the echo body, or fails after `timeout`.
pub fn wait_for_echo(
    what: &str,
    addr: &str,
    target: &str,
    host: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe(addr, target, host) {
            Ok((200, body)) if body.contains(crate::echo::BODY_TEXT) => return Ok(()),
            Ok((status, body)) => format!("HTTP {status}: {}", body.trim()),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() > deadline {
            bail!(
                "{what}: {addr} did not answer GET {target} (Host {host}) with the echo body within {}s; last: {last}",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM, up to `grace` to exit, then SIGKILL; reaps the child.
pub fn stop(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
