//! The floor a proxy is measured against: a plain tokio TCP relay (one thread,
//! `copy_bidirectional` per connection, no HTTP). Whatever a proxy costs above it
//! is its own work: parsing, routing, telemetry, TLS.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::{TcpListener, TcpStream};

use crate::RelayArgs;
use crate::mesh::ECHO_PORT;
use crate::net;

pub fn run(args: &RelayArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start runtime")?;
    rt.block_on(async {
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listen on {}", args.listen))?;
        serve_on(listener, args.to).await
    })
}

/// Relays every connection on `listener` to `to`, byte for byte.
pub(crate) async fn serve_on(listener: TcpListener, to: SocketAddr) -> anyhow::Result<()> {
    loop {
        let (mut down, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("relay: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        tokio::spawn(async move {
            let Ok(mut up) = TcpStream::connect(to).await else {
                return;
            };
            let _ = down.set_nodelay(true);
            let _ = up.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
        });
    }
}

/// The relay as its own process (`mesh-bench relay`), in front of the backend.
pub struct Relay {
    child: Child,
    pub addr: String,
}

impl Relay {
    pub fn start(bench_exe: &std::path::Path, backend_port: u16) -> anyhow::Result<Relay> {
        let port = net::free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(bench_exe)
            .args(["relay", "--listen", &addr, "--to"])
            .arg(format!("127.0.0.1:{backend_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("start {} relay", bench_exe.display()))?;
        std::thread::sleep(Duration::from_millis(100));
        if let Some(status) = child.try_wait()? {
            bail!("the tokio relay exited at once ({status})");
        }
        let relay = Relay { child, addr };
        net::wait_for_echo(
            "tokio relay 1 hop",
            &relay.addr,
            "/",
            &format!("echo:{ECHO_PORT}"),
            Duration::from_secs(30),
        )?;
        Ok(relay)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        net::stop(&mut self.child, Duration::from_secs(5));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn relays_both_ways() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf.map(|b| b.to_ascii_uppercase()))
                .await
                .unwrap();
        });
        let relay = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_addr = relay.local_addr().unwrap();
        tokio::spawn(serve_on(relay, echo_addr));
        let mut c = TcpStream::connect(relay_addr).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut got = [0u8; 5];
        c.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"HELLO");
    }
}
