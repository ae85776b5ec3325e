//! Upstream connections: a [`Slot`] per upstream endpoint (its multiplexed
//! HTTP/2 connection, and its keep-alive HTTP/1.1 connections, see [`h1`]), the
//! [`UpstreamBody`] of their responses, and raw TCP for tunnels.

mod body;
mod codec;
mod h1;

pub use body::UpstreamBody;
pub(crate) use codec::has_token;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use hyper::client::conn::http2;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::body::ProxyBody;
use crate::transport::{Conn, MeshTls, dial_with};

/// Why an upstream exchange failed, mapped to a response flag by the caller.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    /// No connection could be made (`UF`).
    #[error("connect to {addr} failed: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The connection was made but the exchange failed (`UC`).
    #[error("upstream exchange failed: {0}")]
    Exchange(String),
    /// The upstream refused the HTTP/2 stream (REFUSED_STREAM): nothing was processed.
    #[error("upstream refused the stream")]
    Refused,
    /// Mutual TLS cannot be set up from this side (no certificate yet).
    #[error("mutual TLS: {0}")]
    Tls(String),
}

impl UpstreamError {
    pub(crate) fn from_legacy(e: hyper_util::client::legacy::Error, addr: SocketAddr) -> Self {
        if e.is_connect() {
            UpstreamError::Connect {
                addr,
                source: std::io::Error::other(e.to_string()),
            }
        } else {
            UpstreamError::Exchange(e.to_string())
        }
    }

    pub(crate) fn is_connect(&self) -> bool {
        matches!(self, UpstreamError::Connect { .. } | UpstreamError::Tls(_))
    }
}

/// Opens a TCP connection with TCP_NODELAY.
pub(crate) async fn connect_tcp(addr: SocketAddr) -> Result<TcpStream, UpstreamError> {
    connect_tcp_with(addr, &PoolSettings::default()).await
}

/// How a cluster's connections are made and kept (DestinationRule
/// `connectionPool`): connect timeout, TCP keepalive, requests per connection
/// and idle timeout. Connections are shared only between clusters with equal
/// settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct PoolSettings {
    pub connect_timeout: Option<Duration>,
    pub keepalive: Option<mesh_api::proxy::TcpKeepalive>,
    pub max_requests_per_connection: Option<u32>,
    pub idle_timeout: Option<Duration>,
    /// `h2UpgradePolicy: UPGRADE`.
    pub h2_upgrade: bool,
}

impl PoolSettings {
    pub(crate) fn of(l: &mesh_api::proxy::ConnectionLimits) -> Self {
        Self {
            connect_timeout: l
                .connect_timeout
                .map(|d| d.as_std())
                .filter(|d| !d.is_zero()),
            keepalive: l.tcp_keepalive.clone(),
            max_requests_per_connection: l.max_requests_per_connection,
            idle_timeout: l.idle_timeout.map(|d| d.as_std()).filter(|d| !d.is_zero()),
            h2_upgrade: l.h2_upgrade,
        }
    }
}

/// Istio's default connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a TCP connection with TCP_NODELAY, the settings' connect timeout and
/// keepalive.
pub(crate) async fn connect_tcp_with(
    addr: SocketAddr,
    settings: &PoolSettings,
) -> Result<TcpStream, UpstreamError> {
    let timeout = settings.connect_timeout.unwrap_or(CONNECT_TIMEOUT);
    let s = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(r) => r.map_err(|source| UpstreamError::Connect { addr, source })?,
        Err(_) => return Err(timed_out(addr, "connect", timeout)),
    };
    // Best effort: a socket that refuses NODELAY or keepalive still works.
    let _ = s.set_nodelay(true);
    if let Some(k) = &settings.keepalive {
        let mut ka = socket2::TcpKeepalive::new();
        if let Some(t) = k.time {
            ka = ka.with_time(t.as_std());
        }
        if let Some(i) = k.interval {
            ka = ka.with_interval(i.as_std());
        }
        if let Some(p) = k.probes {
            ka = ka.with_retries(p);
        }
        let _ = socket2::SockRef::from(&s).set_tcp_keepalive(&ka);
    }
    Ok(s)
}

/// Connects as [`connect_tcp_with`] and handshakes TLS with `config` and
/// `name`, both within the settings' connect timeout, as Envoy's covers its
/// transport socket's handshake: a peer that accepts and never answers the
/// ClientHello fails the try instead of holding the request. `what` names the
/// TLS in errors (`mutual TLS`, `TLS origination`).
pub(crate) async fn connect_tls(
    addr: SocketAddr,
    settings: &PoolSettings,
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    what: &str,
) -> Result<TlsStream<TcpStream>, UpstreamError> {
    let timeout = settings.connect_timeout.unwrap_or(CONNECT_TIMEOUT);
    let deadline = tokio::time::Instant::now() + timeout;
    let tcp = connect_tcp_with(addr, settings).await?;
    let handshake = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
    match tokio::time::timeout_at(deadline, handshake).await {
        Ok(r) => r.map_err(|e| UpstreamError::Connect {
            addr,
            source: std::io::Error::other(format!("{what} handshake failed: {e}")),
        }),
        Err(_) => Err(timed_out(addr, "TLS handshake", timeout)),
    }
}

fn timed_out(addr: SocketAddr, what: &str, timeout: Duration) -> UpstreamError {
    UpstreamError::Connect {
        addr,
        source: std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{what} timed out after {timeout:?}"),
        ),
    }
}

/// The connections to one upstream endpoint: one shared HTTP/2 connection,
/// replaced when it closes, and keep-alive HTTP/1.1 connections
/// ([`h1::H1Pool`]), mutual TLS to a peer sidecar.
#[derive(Debug)]
pub(crate) struct Slot {
    addr: SocketAddr,
    /// The peer's SPIFFE ID path when the connection is mutual TLS.
    identity: Option<Box<str>>,
    settings: PoolSettings,
    /// Requests sent on the current connection, and when it was last used.
    usage: std::sync::Mutex<(u32, Option<tokio::time::Instant>)>,
    conn: ArcSwapOption<http2::SendRequest<ProxyBody>>,
    /// The trust bundle (`Identity::bundle_id`) the mutual-TLS connection was
    /// verified with: when a CA rotation changes the bundle, the connection is
    /// replaced (requests in flight on it finish).
    bundle: std::sync::atomic::AtomicU64,
    /// Held only while (re)connecting, so concurrent requests share one handshake.
    connecting: tokio::sync::Mutex<()>,
    /// Keep-alive HTTP/1.1 connections.
    h1: h1::H1Pool,
}

impl Slot {
    pub(crate) fn new(
        addr: SocketAddr,
        identity: Option<Box<str>>,
        settings: PoolSettings,
    ) -> Self {
        Self {
            addr,
            identity,
            h1: h1::H1Pool::new(&settings),
            settings,
            usage: std::sync::Mutex::new((0, None)),
            conn: ArcSwapOption::empty(),
            bundle: std::sync::atomic::AtomicU64::new(0),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether HTTP/1.1 requests to this endpoint go over its HTTP/2 connection
    /// when it is a peer sidecar (`h2UpgradePolicy: UPGRADE`).
    pub(crate) fn upgrades_h2(&self) -> bool {
        self.settings.h2_upgrade
    }

    fn current(&self, bundle: u64) -> Option<http2::SendRequest<ProxyBody>> {
        let conn = self
            .conn
            .load()
            .as_ref()
            .filter(|c| !c.is_closed())
            .map(|c| (**c).clone())?;
        let now = tokio::time::Instant::now();
        let mut usage = self
            .usage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let idle = self
            .settings
            .idle_timeout
            .zip(usage.1)
            .is_some_and(|(t, last)| now.saturating_duration_since(last) >= t);
        let spent = self
            .settings
            .max_requests_per_connection
            .is_some_and(|max| usage.0 >= max);
        let rebundled = self.identity.is_some()
            && self.bundle.load(std::sync::atomic::Ordering::Relaxed) != bundle;
        if idle || spent || rebundled {
            // Replaced: requests in flight on it finish; new ones get a new one.
            self.conn.store(None);
            return None;
        }
        usage.0 += 1;
        usage.1 = Some(now);
        Some(conn)
    }

    /// The peer's SPIFFE ID path when this slot speaks mutual TLS.
    pub(crate) fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    async fn sender(&self, tls: &MeshTls) -> Result<http2::SendRequest<ProxyBody>, UpstreamError> {
        let bundle = match &self.identity {
            Some(_) => tls.identity.current().map_or(0, |id| id.bundle_id),
            None => 0,
        };
        if let Some(c) = self.current(bundle) {
            return Ok(c);
        }
        let _guard = self.connecting.lock().await;
        if let Some(c) = self.current(bundle) {
            return Ok(c);
        }
        // Boxed: the handshake's future is large, and only new connections wait on it.
        Box::pin(self.connect_h2(tls, bundle)).await
    }

    async fn connect_h2(
        &self,
        tls: &MeshTls,
        bundle: u64,
    ) -> Result<http2::SendRequest<ProxyBody>, UpstreamError> {
        let io = self.dial(tls, self.identity.is_some()).await?;
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .adaptive_window(true)
            .handshake(io)
            .await
            .map_err(|e| self.handshake_failed(e))?;
        let addr = self.addr;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%addr, error = %e, "upstream h2 connection ended");
            }
        });
        self.bundle
            .store(bundle, std::sync::atomic::Ordering::Relaxed);
        self.conn.store(Some(std::sync::Arc::new(sender.clone())));
        *self
            .usage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            (1, Some(tokio::time::Instant::now()));
        Ok(sender)
    }

    /// Sends a request on the shared connection; a request the connection refused
    /// before sending (it was closing) is retried once on a fresh connection.
    pub(crate) async fn send(
        &self,
        req: Request<ProxyBody>,
        tls: &MeshTls,
    ) -> Result<Response<UpstreamBody>, UpstreamError> {
        let mut sender = self.sender(tls).await?;
        let resp = match sender.try_send_request(req).await {
            Ok(r) => r,
            Err(mut e) => {
                let Some(req) = e.take_message() else {
                    return Err(exchange_error(e.into_error()));
                };
                self.conn.store(None);
                let mut sender = self.sender(tls).await?;
                sender.send_request(req).await.map_err(exchange_error)?
            }
        };
        Ok(resp.map(UpstreamBody::from))
    }
}

impl Slot {
    /// Sends an HTTP/1.1 request (absolute-form URI, as [`crate::forward::prepare`]
    /// makes it) on a keep-alive connection: plaintext, or mutual TLS to a peer
    /// sidecar when it has an identity and this proxy a certificate. An idle
    /// connection is reused, else a new one dialed; a request a pooled
    /// connection could not take (the peer had closed it) goes on the next
    /// idle one, or a new one.
    pub(crate) async fn send_h1(
        &self,
        mut req: Request<ProxyBody>,
        tls: &MeshTls,
    ) -> Result<Response<UpstreamBody>, UpstreamError> {
        origin_form(&mut req);
        let mtls = self.identity.is_some() && tls.enabled();
        // Plaintext connections are not tied to a trust bundle; a peer's are
        // replaced when the bundle changes (or when this proxy gets its first
        // certificate, so no plaintext connection outlives it).
        let bundle = match &self.identity {
            Some(_) => tls.identity.current().map_or(0, |id| id.bundle_id),
            None => 0,
        };
        let now = tokio::time::Instant::now();
        while let Some(lease) = self.h1.checkout(bundle, now) {
            match lease.send(req, now).await {
                Ok(r) => return Ok(r),
                Err(h1::SendFailed::Unsent(r)) => req = *r,
                Err(h1::SendFailed::Exchange(e)) => {
                    return Err(UpstreamError::Exchange(e.to_string()));
                }
            }
        }
        // Boxed: the dial's future is large, and only new connections wait on it.
        let io = Box::pin(self.dial_conn(tls, mtls)).await?;
        match self.h1.lease(io, bundle, now).send(req, now).await {
            Ok(r) => Ok(r),
            Err(h1::SendFailed::Unsent(_)) => Err(UpstreamError::Exchange(
                "the new connection closed before the request was sent".into(),
            )),
            Err(h1::SendFailed::Exchange(e)) => Err(UpstreamError::Exchange(e.to_string())),
        }
    }

    /// Dials the endpoint: mutual TLS when `mtls` (accepting only the peer's
    /// identity), else plaintext.
    async fn dial(&self, tls: &MeshTls, mtls: bool) -> Result<TokioIo<Conn>, UpstreamError> {
        Ok(TokioIo::new(self.dial_conn(tls, mtls).await?))
    }

    async fn dial_conn(&self, tls: &MeshTls, mtls: bool) -> Result<Conn, UpstreamError> {
        let cfg = match &self.identity {
            Some(path) if mtls => Some(tls.client_for(path)?),
            _ => None,
        };
        dial_with(self.addr, cfg, &self.settings).await
    }

    /// A new connection whose HTTP handshake failed counts as a connect failure.
    fn handshake_failed(&self, e: hyper::Error) -> UpstreamError {
        UpstreamError::Connect {
            addr: self.addr,
            source: std::io::Error::other(e.to_string()),
        }
    }
}

/// Turns an absolute-form URI into origin-form (`/path?query`): what a server
/// expects on a direct HTTP/1.1 connection (`Host` carries the authority).
fn origin_form(req: &mut Request<ProxyBody>) {
    let pq = req
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
    *req.uri_mut() = hyper::Uri::from(pq);
}

/// An HTTP/2 exchange failure: a refused stream, or anything else.
fn exchange_error(e: hyper::Error) -> UpstreamError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.to_string().contains("refused stream") {
            return UpstreamError::Refused;
        }
        source = s.source();
    }
    UpstreamError::Exchange(e.to_string())
}
