//! TLS origination (DestinationRule `tls.mode` SIMPLE and MUTUAL): the client
//! sidecar speaks TLS to a cluster's endpoints for the app, which sends plain
//! HTTP. [`Origination::load`] reads the DestinationRule's files when the config
//! is compiled (a missing or bad file rejects the push) into a rustls config
//! (ring); each endpoint gets an [`OriginSlot`]: a pooled keep-alive client
//! (hyper_util's legacy client with a connector that dials the endpoint and
//! handshakes with the server name) that speaks HTTP/1.1 or HTTP/2 as ALPN
//! settles (`h2` is offered for HTTP2 and gRPC ports only).

mod verify;

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use mesh_api::proxy::{ClusterTls, Protocol, TlsOrigination};
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::body::ProxyBody;
use crate::upstream::{PoolSettings, UpstreamBody, UpstreamError, connect_tls};

/// A cluster's TLS origination, ready to connect with.
#[derive(Debug, Clone)]
pub(crate) struct Origination {
    pub config: Arc<ClientConfig>,
    pub sni: ServerName<'static>,
    /// What the settings and the files' contents hash to: endpoints keep their
    /// pooled connections across pushes while this stays the same.
    pub fingerprint: u64,
}

fn read(origin: &str, field: &str, path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{origin}.{field}: cannot read {path:?}: {e}"))
}

impl Origination {
    /// Reads the files of `t` and builds the client config for a cluster of
    /// `protocol`; the error names the DestinationRule field and the file.
    pub(crate) fn load(
        mode: ClusterTls,
        t: &TlsOrigination,
        protocol: Protocol,
    ) -> Result<Self, String> {
        let at = &t.origin;
        if let Some(c) = &t.credential_name {
            return Err(format!(
                "{at}.credentialName {c:?}: Kubernetes secrets are not available in local mode; give caCertificates (and clientCertificate/privateKey for MUTUAL) as files on the sidecar's host"
            ));
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        t.hash(&mut hasher);
        protocol.hash(&mut hasher);
        let provider = crate::tls::provider();
        let roots = match (&t.ca_certificates, t.insecure_skip_verify) {
            (Some(path), _) => {
                let pem = read(at, "caCertificates", path)?;
                pem.hash(&mut hasher);
                let mut store = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_slice_iter(&pem) {
                    let c = c.map_err(|e| {
                        format!("{at}.caCertificates: {path:?} is not PEM certificates: {e}")
                    })?;
                    store.add(c).map_err(|e| {
                        format!("{at}.caCertificates: {path:?} has an unusable certificate: {e}")
                    })?;
                }
                if store.is_empty() {
                    return Err(format!(
                        "{at}.caCertificates: {path:?} holds no PEM certificate"
                    ));
                }
                Some(store.roots)
            }
            (None, true) => None,
            (None, false) => {
                return Err(format!(
                    "{at}.caCertificates: required to verify the server (the system's roots are not used): give a PEM file, or set insecureSkipVerify: true"
                ));
            }
        };
        let verifier = verify::OriginVerifier::new(
            roots,
            t.subject_alt_names.clone(),
            provider.signature_verification_algorithms,
        );
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("{at}: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let mut config = if mode == ClusterTls::Mutual {
            let (Some(cert), Some(key)) = (&t.client_certificate, &t.private_key) else {
                return Err(format!(
                    "{at}: mode MUTUAL needs clientCertificate and privateKey files"
                ));
            };
            let chain_pem = read(at, "clientCertificate", cert)?;
            let key_pem = read(at, "privateKey", key)?;
            chain_pem.hash(&mut hasher);
            key_pem.hash(&mut hasher);
            let chain = CertificateDer::pem_slice_iter(&chain_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{at}.clientCertificate: {cert:?} is not PEM: {e}"))?;
            if chain.is_empty() {
                return Err(format!(
                    "{at}.clientCertificate: {cert:?} holds no PEM certificate"
                ));
            }
            let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|e| format!("{at}.privateKey: {key:?} holds no PEM private key: {e}"))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| format!("{at}.privateKey: {key:?} does not fit {cert:?}: {e}"))?
        } else {
            builder.with_no_client_auth()
        };
        config.alpn_protocols = match protocol {
            Protocol::Http2 | Protocol::Grpc => {
                vec![
                    crate::tls::ALPN_H2.to_vec(),
                    crate::tls::ALPN_HTTP11.to_vec(),
                ]
            }
            Protocol::Http => vec![crate::tls::ALPN_HTTP11.to_vec()],
            // A TCP tunnel carries the app's bytes: no application protocol.
            Protocol::Tcp => Vec::new(),
        };
        let sni = ServerName::try_from(t.sni.as_str())
            .map_err(|_| format!("{at}.sni: {:?} is not a DNS name or IP address", t.sni))?
            .to_owned();
        Ok(Self {
            config: Arc::new(config),
            sni,
            fingerprint: hasher.finish(),
        })
    }

    /// Dials `addr` and handshakes: the TLS stream and whether ALPN chose h2.
    pub(crate) async fn connect(
        &self,
        addr: SocketAddr,
        settings: &PoolSettings,
    ) -> Result<TlsStream<TcpStream>, UpstreamError> {
        connect_tls(
            addr,
            settings,
            self.config.clone(),
            self.sni.clone(),
            "TLS origination",
        )
        .await
    }
}

/// A TLS connection to an external endpoint, as the legacy client sees it.
#[derive(Debug)]
pub(crate) struct OriginStream(TlsStream<TcpStream>);

impl Connection for OriginStream {
    fn connected(&self) -> Connected {
        let c = Connected::new();
        if self.0.get_ref().1.alpn_protocol() == Some(crate::tls::ALPN_H2) {
            c.negotiated_h2()
        } else {
            c
        }
    }
}

impl AsyncRead for OriginStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for OriginStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// Dials one endpoint whatever the URI says (the URI carries the service's
/// host for `Host`/`:authority`).
#[derive(Debug, Clone)]
pub(crate) struct OriginConnector {
    addr: SocketAddr,
    origination: Origination,
    settings: PoolSettings,
}

type Connecting =
    Pin<Box<dyn Future<Output = Result<TokioIo<OriginStream>, UpstreamError>> + Send>>;

impl tower_service::Service<Uri> for OriginConnector {
    type Response = TokioIo<OriginStream>;
    type Error = UpstreamError;
    type Future = Connecting;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _dst: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let tls = this.origination.connect(this.addr, &this.settings).await?;
            Ok(TokioIo::new(OriginStream(tls)))
        })
    }
}

/// One endpoint's pooled TLS connections (keep-alive HTTP/1.1, or one
/// multiplexed HTTP/2 connection when ALPN chose h2).
#[derive(Debug)]
pub(crate) struct OriginSlot {
    client: Client<OriginConnector, ProxyBody>,
    origination: Origination,
    addr: SocketAddr,
    settings: PoolSettings,
    /// Whether `h2` is offered: until a first answer shows whether the server
    /// multiplexes, requests go one at a time, so that concurrent first
    /// requests do not each open a connection.
    h2_offered: bool,
    warm: AtomicBool,
    first: tokio::sync::Mutex<()>,
}

impl OriginSlot {
    pub(crate) fn new(addr: SocketAddr, origination: Origination, settings: PoolSettings) -> Self {
        let connector = OriginConnector {
            addr,
            origination: origination.clone(),
            settings: settings.clone(),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(settings.idle_timeout.unwrap_or(Duration::from_secs(90)))
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Self {
            h2_offered: origination
                .config
                .alpn_protocols
                .iter()
                .any(|a| a == crate::tls::ALPN_H2),
            client,
            origination,
            addr,
            settings,
            warm: AtomicBool::new(false),
            first: tokio::sync::Mutex::new(()),
        }
    }

    /// Sends a request prepared with an `https` URI naming the service's host.
    pub(crate) async fn send(
        &self,
        req: Request<ProxyBody>,
    ) -> Result<Response<UpstreamBody>, UpstreamError> {
        let _first = if self.h2_offered && !self.warm.load(Ordering::Acquire) {
            let guard = self.first.lock().await;
            (!self.warm.load(Ordering::Acquire)).then_some(guard)
        } else {
            None
        };
        let res = self
            .client
            .request(req)
            .await
            .map(|r| r.map(UpstreamBody::from))
            .map_err(|e| UpstreamError::from_legacy(e, self.addr));
        if res.is_ok() {
            self.warm.store(true, Ordering::Release);
        }
        res
    }

    /// A connection of its own (upgrades, tunnels).
    pub(crate) async fn dial(&self) -> Result<TlsStream<TcpStream>, UpstreamError> {
        self.origination.connect(self.addr, &self.settings).await
    }
}
