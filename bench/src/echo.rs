//! The backend every HTTP setup hits: a minimal hyper server answering each
//! request with the same small body, HTTP/1.1 or h2c, on one thread; with
//! `--tls`, the same over HTTPS, the backend of the TCP setups.

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

use crate::EchoArgs;

/// The fixed answer (small, so the proxies' per-request cost dominates).
pub const BODY_TEXT: &str = "hello from echo\n";

/// [`BODY_TEXT`] as bytes.
pub const BODY: &[u8] = BODY_TEXT.as_bytes();

pub fn run(args: &EchoArgs) -> anyhow::Result<()> {
    let addr = match args.listen {
        Some(a) => a,
        None => {
            let port: u16 = std::env::var("PORT")
                .context("--listen or $PORT is required")?
                .parse()
                .context("$PORT is not a port number")?;
            SocketAddr::from(([127, 0, 0, 1], port))
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start runtime")?;
    rt.block_on(serve(addr, args.tls))
}

async fn serve(addr: SocketAddr, tls: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listen on {addr}"))?;
    if tls {
        serve_tls(listener).await
    } else {
        serve_on(listener).await
    }
}

/// HTTPS with a self-signed certificate (clients skip verification: the TLS
/// is the app's own, end to end, which the mesh carries without reading).
async fn serve_tls(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let key = rcgen::KeyPair::generate().context("generate the echo's key")?;
    let cert = rcgen::CertificateParams::new(vec!["echo-tcp".into()])
        .context("echo certificate")?
        .self_signed(&key)
        .context("sign the echo's certificate")?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .context("TLS certificate")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    accept_each(listener, move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(answer);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        }
    })
    .await
}

/// Serves the echo answer on a bound listener (also used in process).
pub(crate) async fn serve_on(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    accept_each(listener, |tcp| async move {
        let service = hyper::service::service_fn(answer);
        let _ = auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(tcp), service)
            .await;
    })
    .await
}

/// Accepts connections for ever, each served by its own task.
async fn accept_each<F, Fut>(listener: tokio::net::TcpListener, serve: F) -> anyhow::Result<()>
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("echo: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve(tcp));
    }
}

async fn answer(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut res = Response::new(Full::new(Bytes::from_static(BODY)));
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    Ok(res)
}
