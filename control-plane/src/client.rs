//! A client of the admin API, for the CLI.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::ErrorResponse;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the control plane at {addr}: {message}")]
    Unreachable { addr: SocketAddr, message: String },
    /// The control plane refused the request and said why.
    #[error("{}", .0.message)]
    Rejected(ErrorResponse),
    #[error("unexpected answer from the control plane ({status}): {body}")]
    Protocol { status: StatusCode, body: String },
}

#[derive(Debug, Clone)]
pub struct AdminClient {
    addr: SocketAddr,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, ClientError> {
        let req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Unreachable {
                addr: self.addr,
                message: e.to_string(),
            })?;
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|e| ClientError::Unreachable {
                addr: self.addr,
                message: error_chain(&e),
            })?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| ClientError::Unreachable {
                addr: self.addr,
                message: e.to_string(),
            })?
            .to_bytes();
        if status.is_success() {
            return Ok(bytes);
        }
        match serde_json::from_slice::<ErrorResponse>(&bytes) {
            Ok(e) => Err(ClientError::Rejected(e)),
            Err(_) => Err(ClientError::Protocol {
                status,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let bytes = self.call(Method::GET, path, None).await?;
        decode(&bytes)
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Protocol {
            status: StatusCode::BAD_REQUEST,
            body: e.to_string(),
        })?;
        let bytes = self.call(Method::POST, path, Some(body)).await?;
        decode(&bytes)
    }

    /// Whether the control plane answers `/ready`.
    pub async fn ready(&self) -> bool {
        self.call(Method::GET, "/ready", None).await.is_ok()
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(bytes).map_err(|e| ClientError::Protocol {
        status: StatusCode::OK,
        body: format!("decode: {e}"),
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
