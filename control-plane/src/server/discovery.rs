//! The gRPC discovery service: one bidirectional stream per proxy.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use mesh_api::discovery::discovery_server::Discovery;
use mesh_api::discovery::proxy_message::Message;
use mesh_api::discovery::{CertificateRequest, CertificateResponse, Hello, ProxyMessage, Push};
use mesh_api::proxy::Protocol;
use tokio::sync::{Semaphore, mpsc};
use tonic::{Request, Response, Status, Streaming};

use super::state::Shared;
use crate::ca::CaError;
use crate::registry::{Workload, WorkloadPort};

/// How many pushes may wait for a slow proxy before the push loop backs off.
const QUEUE: usize = 64;

#[derive(Debug, Clone)]
pub struct DiscoveryService {
    shared: Arc<Shared>,
    /// One permit per core: how many certificates are signed at once.
    signers: Arc<Semaphore>,
}

impl DiscoveryService {
    pub fn new(shared: Arc<Shared>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            shared,
            signers: Arc::new(Semaphore::new(cores)),
        }
    }
}

/// Convert the proxy's introduction at the boundary, rejecting what cannot be a
/// workload.
impl TryFrom<&Hello> for Workload {
    type Error = Status;

    fn try_from(h: &Hello) -> Result<Self, Status> {
        if h.proxy_id.is_empty() || h.service.is_empty() || h.namespace.is_empty() {
            return Err(Status::invalid_argument(
                "hello needs proxy_id, service and namespace",
            ));
        }
        let ports = h
            .ports
            .iter()
            .map(|p| {
                let port = u16::try_from(p.port)
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| {
                        Status::invalid_argument(format!("port {} out of range", p.port))
                    })?;
                let app_port = u16::try_from(p.app_port)
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| {
                        Status::invalid_argument(format!("app port {} out of range", p.app_port))
                    })?;
                Ok(WorkloadPort {
                    port,
                    app_port,
                    protocol: (!p.protocol.is_empty())
                        .then(|| Protocol::from_port_name(&p.protocol, None)),
                    name: p.name.clone(),
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Workload {
            proxy_id: h.proxy_id.clone(),
            service: h.service.clone(),
            namespace: h.namespace.clone(),
            service_account: if h.service_account.is_empty() {
                "default".into()
            } else {
                h.service_account.clone()
            },
            labels: h.labels.clone().into_iter().collect(),
            inbound_address: h.inbound_address.clone(),
            outbound_address: h.outbound_address.clone(),
            admin_address: h.admin_address.clone(),
            ports,
            proxy_version: h.proxy_version.clone(),
            connected_unix: 0,
            app_ready: h.app_ready,
        })
    }
}

type PushStream = Pin<Box<dyn Stream<Item = Result<Push, Status>> + Send>>;

#[tonic::async_trait]
impl Discovery for DiscoveryService {
    type StreamStream = PushStream;

    async fn stream(
        &self,
        request: Request<Streaming<ProxyMessage>>,
    ) -> Result<Response<PushStream>, Status> {
        let mut inbound = request.into_inner();
        let first = inbound
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("stream closed before hello"))?;
        let Some(Message::Hello(hello)) = first.message else {
            return Err(Status::invalid_argument(
                "the first message must be a hello",
            ));
        };
        let workload = Workload::try_from(&hello)?;
        // A workload with a bootstrap token must introduce itself as the identity
        // its certificate will carry, or peers would expect another one.
        if let Some(bound) = self
            .shared
            .authority()
            .and_then(|a| a.bound_identity(&workload.proxy_id))
            && (bound.namespace != workload.namespace
                || bound.service_account != workload.service_account)
        {
            return Err(Status::permission_denied(format!(
                "proxy {} says it is namespace {:?}, service account {:?}, but its bootstrap token is for namespace {:?}, service account {:?}",
                workload.proxy_id,
                workload.namespace,
                workload.service_account,
                bound.namespace,
                bound.service_account
            )));
        }
        let proxy_id = workload.proxy_id.clone();
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let gzip = hello.accept_encodings.iter().any(|e| e == "gzip");
        let deltas = hello
            .accept_deltas
            .iter()
            .any(|t| t == mesh_api::proxy::TYPE_ROUTES);
        let stream_id = self.shared.connect(workload, tx, gzip, deltas);
        tracing::info!(proxy = %proxy_id, stream = stream_id, "proxy connected");
        let shared = self.shared.clone();
        tokio::spawn(async move {
            loop {
                match inbound.message().await {
                    Ok(Some(ProxyMessage {
                        message: Some(Message::Ack(ack)),
                    })) => shared.answer(&proxy_id, stream_id, &ack),
                    Ok(Some(ProxyMessage {
                        message: Some(Message::Readiness(r)),
                    })) => shared.set_ready(&proxy_id, stream_id, r.app_ready),
                    Ok(Some(ProxyMessage {
                        message: Some(Message::Certificate(c)),
                    })) => shared.report_certificate(&proxy_id, stream_id, c),
                    Ok(Some(_)) => {
                        tracing::warn!(proxy = %proxy_id, "unexpected message after hello; ignored");
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::info!(proxy = %proxy_id, error = %e, "stream error");
                        break;
                    }
                }
            }
            tracing::info!(proxy = %proxy_id, stream = stream_id, "proxy disconnected");
            shared.disconnect(&proxy_id, stream_id);
        });
        let out = futures_util::stream::poll_fn(move |cx| {
            rx.poll_recv(cx).map(|push| push.map(|p| Ok(*p)))
        });
        Ok(Response::new(Box::pin(out)))
    }

    async fn create_certificate(
        &self,
        request: Request<CertificateRequest>,
    ) -> Result<Response<CertificateResponse>, Status> {
        let Some(authority) = self.shared.authority() else {
            return Err(Status::unavailable("this control plane runs without a CA"));
        };
        let req = request.into_inner();
        let proxy_id = req.proxy_id.clone();
        // Signing is CPU work (about 100 µs of P-256), done off the async
        // workers, but no more at once than there are cores: a burst of
        // sidecars asking together would otherwise start a blocking thread
        // each (hundreds, each with its own stack and malloc arena) only to
        // have them queue for the same cores.
        let permit = self
            .signers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        // The token stays inside this closure: it is never logged or echoed.
        let signed = tokio::task::spawn_blocking(move || {
            // Given back as soon as the signing is done, not when this task
            // is next polled.
            let _permit = permit;
            authority.create_certificate(
                &req.proxy_id,
                &req.token,
                &req.csr_pem,
                std::time::Duration::from_secs(req.ttl_seconds),
            )
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        match signed {
            Ok(s) => {
                tracing::info!(proxy = %proxy_id, spiffe_id = %s.issued.spiffe_id, serial = %s.issued.serial, not_after = s.issued.not_after_unix, "signed a workload certificate");
                Ok(Response::new(CertificateResponse {
                    cert_chain_pem: s.chain_pem,
                    trust_bundle_pem: s.bundle_pem,
                }))
            }
            Err(CaError::Token(e)) => {
                tracing::warn!(proxy = %proxy_id, error = %e, "refused a certificate request");
                Err(Status::unauthenticated(e.to_string()))
            }
            Err(e @ CaError::Csr(_)) => {
                tracing::warn!(proxy = %proxy_id, error = %e, "refused a certificate request");
                Err(Status::invalid_argument(e.to_string()))
            }
            Err(e) => {
                tracing::error!(proxy = %proxy_id, error = %e, "could not sign a certificate");
                Err(Status::internal(e.to_string()))
            }
        }
    }
}
