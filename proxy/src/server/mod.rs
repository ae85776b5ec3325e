//! Binding and running the three listeners, with graceful shutdown.

mod idle;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::mpsc;

use crate::authz::audit::AuditLog;
use crate::body::ProxyBody;
use crate::config::ConfigStore;
use crate::drain::{Drain, Watcher};
use crate::error::ProxyError;
use crate::forward::FLAGS_HEADER;
use crate::identity::IdentityHandle;
use crate::stats::{Flag, Side, Stats};
use crate::telemetry::{Call, Downstream, PeerSecurity, SecurityPolicy, Workload};
use crate::transport::{Conn, MeshTls};
use crate::{admin, inbound, outbound};

/// Changes the process's log level; the binary that owns the tracing subscriber
/// provides it (the library never installs one).
pub trait LogControl: Send + Sync {
    /// The current level or filter, as text.
    fn level(&self) -> String;
    /// Sets the level or filter (`debug`, `info,mesh_proxy=trace`); the error
    /// message is returned to the admin client.
    fn set_level(&self, level: &str) -> Result<(), String>;
}

/// Where the proxy listens and who it is.
#[derive(Clone)]
pub struct ProxyOptions {
    /// This proxy's id (shown in the config dump).
    pub proxy_id: String,
    /// The outbound listener (the app's HTTP_PROXY).
    pub outbound: SocketAddr,
    /// The inbound listener (peers' traffic for this workload).
    pub inbound: SocketAddr,
    /// The admin listener; must be a loopback address.
    pub admin: SocketAddr,
    /// Log level control for `/logging`; without it `/logging` answers 501.
    pub log_control: Option<Arc<dyn LogControl>>,
    /// The workload identity; disabled by default (no certificate, none awaited).
    pub identity: IdentityHandle,
    /// The workload this sidecar serves, for the metrics' labels (all
    /// `unknown` by default).
    pub workload: Workload,
    /// Where authorization decisions worth keeping go (the proxy's log by
    /// default).
    pub audit: AuditLog,
}

impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("proxy_id", &self.proxy_id)
            .field("outbound", &self.outbound)
            .field("inbound", &self.inbound)
            .field("admin", &self.admin)
            .field("log_control", &self.log_control.is_some())
            .field("identity", &self.identity.is_enabled())
            .field("workload", &self.workload.name)
            .finish()
    }
}

impl ProxyOptions {
    /// All three listeners on 127.0.0.1 with OS-chosen ports.
    pub fn local(proxy_id: impl Into<String>) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            proxy_id: proxy_id.into(),
            outbound: any,
            inbound: any,
            admin: any,
            log_control: None,
            identity: IdentityHandle::disabled(),
            workload: Workload::unknown(),
            audit: AuditLog::to_tracing(),
        }
    }
}

/// What every connection of the proxy shares.
pub(crate) struct Shared {
    pub config: ConfigStore,
    pub stats: Stats,
    pub proxy_id: String,
    pub log: Option<Arc<dyn LogControl>>,
    pub identity: IdentityHandle,
    /// Mutual TLS with peers, from `identity`.
    pub tls: MeshTls,
    pub audit: AuditLog,
    /// `namespace/name` of the workload, for the audit log.
    pub workload: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("proxy_id", &self.proxy_id)
            .finish_non_exhaustive()
    }
}

/// The sidecar proxy, before binding.
#[derive(Debug)]
pub struct Proxy {
    opts: ProxyOptions,
    config: ConfigStore,
}

impl Proxy {
    /// A proxy with an empty config store.
    pub fn new(opts: ProxyOptions) -> Self {
        Self::with_config(opts, ConfigStore::new())
    }

    /// A proxy running the config of an existing store.
    pub fn with_config(opts: ProxyOptions, config: ConfigStore) -> Self {
        Self { opts, config }
    }

    /// The config store to apply pushes to.
    pub fn config(&self) -> ConfigStore {
        self.config.clone()
    }

    /// Binds the three listeners (port 0 picks a free port).
    pub async fn bind(self) -> Result<BoundProxy, ProxyError> {
        if !self.opts.admin.ip().is_loopback() {
            return Err(ProxyError::AdminNotLoopback(self.opts.admin));
        }
        let bind = |listener: &'static str, addr: SocketAddr| async move {
            listen(addr).map_err(|source| ProxyError::Bind {
                listener,
                addr,
                source,
            })
        };
        let outbound = bind("outbound", self.opts.outbound).await?;
        let inbound = bind("inbound", self.opts.inbound).await?;
        let admin = bind("admin", self.opts.admin).await?;
        let addrs = [&outbound, &inbound, &admin].map(|l| l.local_addr().ok());
        let [Some(o), Some(i), Some(a)] = addrs else {
            return Err(ProxyError::Bind {
                listener: "outbound",
                addr: self.opts.outbound,
                source: std::io::Error::other("cannot read the bound address"),
            });
        };
        let workload = format!(
            "{}/{}",
            self.opts.workload.namespace, self.opts.workload.name
        );
        Ok(BoundProxy {
            shared: Arc::new(Shared {
                audit: self.opts.audit,
                workload,
                stats: Stats::new(
                    self.opts.workload,
                    self.config.clone(),
                    self.opts.identity.clone(),
                ),
                config: self.config,
                proxy_id: self.opts.proxy_id,
                log: self.opts.log_control,
                tls: MeshTls::new(self.opts.identity.clone()),
                identity: self.opts.identity,
            }),
            listeners: [outbound, inbound, admin],
            addrs: [o, i, a],
        })
    }
}

/// A proxy with its listeners bound, ready to run.
#[derive(Debug)]
pub struct BoundProxy {
    shared: Arc<Shared>,
    listeners: [TcpListener; 3],
    addrs: [SocketAddr; 3],
}

impl BoundProxy {
    /// The outbound listener's address.
    pub fn outbound_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The inbound listener's address (what peers' endpoints point at).
    pub fn inbound_addr(&self) -> SocketAddr {
        self.addrs[1]
    }

    /// The admin listener's address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.addrs[2]
    }

    /// The config store to apply pushes to.
    pub fn config(&self) -> ConfigStore {
        self.shared.config.clone()
    }

    /// The workload identity (for the certificate client and the TLS configs).
    pub fn identity(&self) -> IdentityHandle {
        self.shared.identity.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight
    /// requests finish and returns. Established CONNECT tunnels are not waited for.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ProxyError> {
        let drain = Drain::default();
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        let [outbound, inbound, admin] = self.listeners;
        for (listener, side) in [
            (outbound, Side::Outbound),
            (inbound, Side::Inbound),
            (admin, Side::Admin),
        ] {
            tokio::spawn(accept_loop(
                listener,
                side,
                self.shared.clone(),
                drain.watcher(),
                done_tx.clone(),
            ));
        }
        drop(done_tx);
        shutdown.await;
        tracing::info!("proxy shutting down: draining connections");
        drain.stop();
        // Every task holds a sender; recv returns None once all are gone.
        let _ = done_rx.recv().await;
        Ok(())
    }
}

/// The accept queue asked for (the kernel caps it at `net.core.somaxconn`,
/// 4096 by default since Linux 5.4). tokio's `TcpListener::bind` asks for 128:
/// a burst of new connections (an app's pool filling, a peer's restart) past
/// that while the proxy is busy has SYNs dropped, and each costs its client a
/// 1 s retransmission.
const BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restarted proxy rebinds at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

fn server_builder() -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    // No header read timeout: it arms a timer per request; `idle` closes quiet
    // connections with one per connection.
    b.http1().header_read_timeout(None).keep_alive(true);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(1024)
        .adaptive_window(true);
    b
}

async fn accept_loop(
    listener: TcpListener,
    side: Side,
    shared: Arc<Shared>,
    stop: Watcher,
    done: mpsc::Sender<()>,
) {
    let builder = Arc::new(server_builder());
    let mut stopped = std::pin::pin!(stop.stopped());
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off a little.
                tracing::warn!(listener = side.as_str(), error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().unwrap_or(peer);
        let shared = shared.clone();
        let builder = builder.clone();
        let stop = stop.clone();
        let done = done.clone();
        tokio::spawn(async move {
            shared.stats.conn_open(side);
            let (io, peer_identity, sni) = if side == Side::Inbound {
                match inbound_io(&shared, stream, peer).await {
                    Some(x) => x,
                    None => {
                        shared.stats.conn_close(side);
                        return;
                    }
                }
            } else {
                (Conn::Plain(stream), None, None)
            };
            let info = Arc::new(ConnInfo {
                peer,
                local,
                peer_identity: peer_identity.map(Arc::from),
                sni,
                activity: idle::Activity::default(),
            });
            let svc_shared = shared.clone();
            let svc_info = info.clone();
            let svc =
                service_fn(move |req| dispatch(side, svc_shared.clone(), req, svc_info.clone()));
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), svc);
            let graceful = |c: Pin<&mut _>| auto::UpgradeableConnection::graceful_shutdown(c);
            let res = idle::serve(std::pin::pin!(conn), graceful, &info.activity, &stop).await;
            match res {
                Some(Err(e)) => {
                    tracing::debug!(listener = side.as_str(), %peer, error = %e, "connection ended with an error");
                }
                None => {
                    tracing::debug!(listener = side.as_str(), %peer, "connection closed: no request in {:?}", idle::PERIOD);
                }
                Some(Ok(())) => {}
            }
            shared.stats.conn_close(side);
            drop(done);
        });
    }
}

/// Who is on the other end of a downstream connection.
#[derive(Debug)]
pub(crate) struct ConnInfo {
    pub peer: SocketAddr,
    /// The listener's address the connection came in on.
    pub local: SocketAddr,
    /// The peer sidecar's SPIFFE ID when the connection is mutual TLS (shared:
    /// each request's telemetry takes it as its source principal).
    pub peer_identity: Option<Arc<str>>,
    /// The server name the peer's TLS handshake asked for.
    pub sni: Option<String>,
    /// Requests so far, for the idle check.
    pub activity: idle::Activity,
}

/// An inbound connection as the mesh accepts it: mutual TLS when it starts with
/// a TLS record and this proxy has a certificate (PERMISSIVE detection), else
/// plaintext, which is refused when every port is STRICT. `None`: closed.
async fn inbound_io(
    shared: &Shared,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
) -> Option<(Conn, Option<String>, Option<String>)> {
    let server = if shared.tls.enabled() {
        shared.tls.configs.server().ok().flatten()
    } else {
        None
    };
    if let Some(cfg) = server {
        // The first byte and the whole handshake within one period: a peer
        // that opens a connection and says nothing, or stalls mid-handshake,
        // is dropped (as `idle` drops one that completes no request).
        let deadline = tokio::time::Instant::now() + idle::PERIOD;
        let mut first = [0u8; 1];
        let peeked = tokio::time::timeout_at(deadline, stream.peek(&mut first)).await;
        let Ok(peeked) = peeked else {
            tracing::debug!(%peer, "inbound connection sent nothing for {:?}", idle::PERIOD);
            return None;
        };
        if matches!(peeked, Ok(1)) && first[0] == 0x16 {
            let accept = tokio_rustls::TlsAcceptor::from(cfg).accept(stream);
            return match tokio::time::timeout_at(deadline, accept).await {
                Ok(Ok(tls)) => {
                    let id = crate::tls::peer_spiffe_id(tls.get_ref().1);
                    let sni = tls.get_ref().1.server_name().map(str::to_owned);
                    Some((Conn::Server(Box::new(tls)), id, sni))
                }
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "inbound mutual TLS handshake failed");
                    None
                }
                Err(_) => {
                    tracing::debug!(%peer, "inbound mutual TLS handshake not done in {:?}", idle::PERIOD);
                    None
                }
            };
        }
    }
    if shared.config.snapshot().all_strict() {
        tracing::debug!(%peer, "plaintext connection refused: PeerAuthentication STRICT");
        return None;
    }
    Some((Conn::Plain(stream), None, None))
}

async fn dispatch(
    side: Side,
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    conn: Arc<ConnInfo>,
) -> Result<Response<ProxyBody>, Infallible> {
    let peer = conn.peer;
    conn.activity.request(req.version());
    if side == Side::Admin {
        return Ok(admin::handle(&shared, &req));
    }
    let snap = shared.config.snapshot();
    // Telemetry: measure (and log and trace) every data-path request (see `telemetry::Call`).
    let down = Downstream {
        local: conn.local,
        remote: peer,
        mtls: conn.peer_identity.is_some(),
    };
    // Who the peer is, for the destination side's principal labels.
    let security = match side {
        Side::Inbound => PeerSecurity {
            policy: match (&conn.peer_identity, shared.tls.enabled()) {
                (Some(_), _) => SecurityPolicy::MutualTls,
                (None, true) => SecurityPolicy::None,
                (None, false) => SecurityPolicy::Unknown,
            },
            principal: conn.peer_identity.clone(),
        },
        _ => PeerSecurity {
            policy: SecurityPolicy::Unknown,
            principal: None,
        },
    };
    let mut call = Call::start(
        &shared.stats,
        side,
        &mut req,
        snap.telemetry(),
        &shared.proxy_id,
        (down, security),
    );
    let req = call.tap(req);
    let (resp, flag) = match side {
        Side::Outbound => outbound::handle(&shared, &snap, req, peer).await,
        _ => inbound::handle(&shared, &snap, req, &conn).await,
    };
    let mut resp = resp;
    if flag != Flag::None && !resp.headers().contains_key(FLAGS_HEADER) {
        resp.headers_mut()
            .insert(FLAGS_HEADER, http::HeaderValue::from_static(flag.as_str()));
    }
    Ok(call.finish(&shared.stats, resp, flag))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// A listener that has not accepted yet holds a burst of 300 connections:
    /// with tokio's default queue of 128, the kernel drops the SYNs past it and
    /// those connects wait out a 1 s retransmission (here: time out at 500 ms).
    #[tokio::test]
    async fn a_burst_of_connections_waits_in_the_accept_queue() {
        let listener = super::listen("127.0.0.1:0".parse().expect("address")).expect("listen");
        let addr = listener.local_addr().expect("address");
        let connected = tokio::task::spawn_blocking(move || {
            (0..300)
                .map_while(|_| {
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()
                })
                .collect::<Vec<_>>()
                .len()
        })
        .await
        .expect("connect task");
        assert_eq!(connected, 300, "connections queued before one was dropped");
    }
}
