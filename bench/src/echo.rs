//! The backend every setup hits: a minimal hyper server answering each request
//! with the same small body, HTTP/1.1 or h2c, on one thread.

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
    rt.block_on(serve(addr))
}

async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listen on {addr}"))?;
    serve_on(listener).await
}

/// Serves the echo answer on a bound listener (also used in process).
pub(crate) async fn serve_on(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
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
        tokio::spawn(async move {
            let service = hyper::service::service_fn(answer);
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
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
