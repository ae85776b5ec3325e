//! The control plane's listening sockets, with a deep accept queue.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// The accept queue asked for; the kernel caps it at `net.core.somaxconn`
/// (4096 by default since Linux 5.4), as Go servers such as istiod ask for.
const BACKLOG: u32 = 4096;

/// Listens on `addr`. tokio's `TcpListener::bind` asks for an accept queue of
/// 128: when many sidecars start at once, each opening a connection for its
/// certificate, the queue overflowed while the workers were busy signing, and
/// every connection the kernel dropped cost its sidecar a 1 s SYN retransmission.
pub(crate) fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// More connections than tokio's default queue of 128 wait to be accepted
    /// without the kernel dropping any (up to the host's `somaxconn`).
    #[tokio::test]
    async fn the_accept_queue_holds_more_than_128_connections() {
        let listener = listen("127.0.0.1:0".parse().expect("address")).expect("listen");
        let addr = listener.local_addr().expect("local address");
        let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(128);
        let want = somaxconn.min(400);
        assert!(want > 128, "this host's somaxconn is {somaxconn}");
        // Nothing accepts: every connection stays in the queue. A dropped SYN
        // would leave its connect waiting for the retransmission, 1 s later.
        let opened = tokio::task::spawn_blocking(move || {
            let mut held = Vec::new();
            for _ in 0..want {
                match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                    Ok(s) => held.push(s),
                    Err(_) => break,
                }
            }
            held.len()
        })
        .await
        .expect("connect task");
        assert_eq!(opened, want, "connections queued before one was dropped");
        drop(listener);
    }
}
