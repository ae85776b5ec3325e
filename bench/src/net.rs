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

/// Sends `CONNECT authority` to the HTTP proxy at `addr` until it answers 200
/// (the tunnel is open), or fails after `timeout`.
pub fn wait_for_connect(
    what: &str,
    addr: &str,
    authority: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let sock: SocketAddr = addr.parse().with_context(|| format!("address {addr}"))?;
    loop {
        let last = (|| -> anyhow::Result<String> {
            let mut tcp = TcpStream::connect_timeout(&sock, Duration::from_secs(2))?;
            tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(
                tcp,
                "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"
            )?;
            let mut head = [0u8; 64];
            let n = tcp.read(&mut head)?;
            Ok(String::from_utf8_lossy(&head[..n]).into_owned())
        })();
        let last = match last {
            Ok(head) if head.starts_with("HTTP/1.1 200") => return Ok(()),
            Ok(head) => head.lines().next().unwrap_or_default().to_owned(),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() > deadline {
            bail!(
                "{what}: {addr} did not open a tunnel to {authority} within {}s; last: {last}",
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
