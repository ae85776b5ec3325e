//! Connections between sidecars: plain TCP or mutual TLS, one stream type for
//! both, and the mesh TLS state a proxy connects and accepts with.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::identity::IdentityHandle;
use crate::tls::TlsConfigs;
use crate::upstream::{PoolSettings, UpstreamError, connect_tcp_with, connect_tls};

/// A connection to or from a peer sidecar.
#[derive(Debug)]
pub(crate) enum Conn {
    Plain(TcpStream),
    Client(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Server(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Conn::Plain($s) => $e,
            Conn::Client($s) => $e,
            Conn::Server($s) => $e,
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_shutdown(cx))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Client(s) => s.is_write_vectored(),
            Conn::Server(s) => s.is_write_vectored(),
        }
    }
}

/// The proxy's mutual-TLS state: its identity (disabled when the proxy runs
/// without a certificate) and the TLS configs built from it.
#[derive(Debug, Clone)]
pub(crate) struct MeshTls {
    pub identity: IdentityHandle,
    pub configs: TlsConfigs,
}

impl MeshTls {
    pub(crate) fn new(identity: IdentityHandle) -> Self {
        Self {
            configs: TlsConfigs::new(identity.clone()),
            identity,
        }
    }

    /// Whether this proxy does mutual TLS at all (it has, or awaits, a certificate).
    pub(crate) fn enabled(&self) -> bool {
        self.identity.is_enabled()
    }

    /// The client config for a peer whose SPIFFE ID path is `path`
    /// (`ns/default/sa/reviews`), in this proxy's trust domain.
    pub(crate) fn client_for(&self, path: &str) -> Result<Arc<ClientConfig>, UpstreamError> {
        let no_cert = || UpstreamError::Tls("this proxy has no workload certificate yet".into());
        let id = self.identity.current().ok_or_else(no_cert)?;
        let domain = id
            .spiffe_id
            .strip_prefix("spiffe://")
            .and_then(|r| r.split('/').next())
            .unwrap_or("cluster.local");
        let expected = format!("spiffe://{domain}/{path}");
        self.configs
            .client(&expected)
            .map_err(|e| UpstreamError::Tls(e.to_string()))?
            .ok_or_else(no_cert)
    }
}

/// Opens a connection to a peer sidecar: TLS with `tls` when given.
pub(crate) async fn dial(
    addr: SocketAddr,
    tls: Option<Arc<ClientConfig>>,
) -> Result<Conn, UpstreamError> {
    dial_with(addr, tls, &PoolSettings::default()).await
}

/// [`dial`] with a cluster's connection settings.
pub(crate) async fn dial_with(
    addr: SocketAddr,
    tls: Option<Arc<ClientConfig>>,
    settings: &PoolSettings,
) -> Result<Conn, UpstreamError> {
    let Some(cfg) = tls else {
        return Ok(Conn::Plain(connect_tcp_with(addr, settings).await?));
    };
    // The SPIFFE verifier ignores the name; the address keeps SNI empty.
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = connect_tls(addr, settings, cfg, name, "mutual TLS").await?;
    Ok(Conn::Client(Box::new(tls)))
}
