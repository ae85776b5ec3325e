//! The admin HTTP API on the control plane's admin address: what `meshctl apply`,
//! `get`, `delete`, `get workloads` and `proxy-status` talk to.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use mesh_api::{Kind, Resource, Severity};
use serde::Serialize;
use tokio::net::TcpListener;

use super::state::Shared;
use crate::api::{
    ApplyRequest, ApplyResponse, ChangeEntry, DeleteRequest, DeleteResponse, ErrorResponse, Info,
    ObjectRef, Problem, StoredEntry,
};
use crate::store::ObjectKey;

/// The largest request body accepted (an apply of many manifests).
const MAX_BODY: usize = 32 << 20;

type Reply = Response<Full<Bytes>>;

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    discovery_address: String,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let discovery_address: Arc<str> = discovery_address.into();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    continue;
                }
            },
        };
        let shared = shared.clone();
        let discovery_address = discovery_address.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                let discovery_address = discovery_address.clone();
                async move { Ok::<_, Infallible>(handle(shared, &discovery_address, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await
            {
                tracing::debug!(error = %e, "admin connection ended");
            }
        });
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    let body = serde_json::to_vec(value)
        .unwrap_or_else(|e| format!("{{\"message\":\"encode response: {e}\"}}").into_bytes());
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    json(
        status,
        &ErrorResponse {
            message: message.into(),
            problems: Vec::new(),
        },
    )
}

fn query_param<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name && !v.is_empty()).then_some(v)
    })
}

async fn body<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Result<T, Reply> {
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("read body: {e}")))?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("decode body: {e}")))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Reply> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn handle(shared: Arc<Shared>, discovery_address: &str, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    let result = match (req.method().clone(), path.as_str()) {
        (Method::GET, "/ready") => Ok(Response::new(Full::new(Bytes::from_static(b"ready\n")))),
        (Method::GET, "/v1/info") => Ok(json(
            StatusCode::OK,
            &Info {
                version: env!("CARGO_PKG_VERSION").into(),
                revision: shared.store.revision(),
                connected_proxies: shared.workloads().len(),
                pushes: shared.push_count(),
                discovery_address: discovery_address.into(),
            },
        )),
        (Method::POST, "/v1/apply") => apply(shared, req).await,
        (Method::POST, "/v1/delete") => delete(shared, req).await,
        (Method::GET, "/v1/resources") => list(shared, &req).await,
        (Method::GET, "/v1/workloads") => Ok(json(StatusCode::OK, &shared.workloads())),
        (Method::GET, "/v1/proxy-status") => Ok(json(StatusCode::OK, &shared.status())),
        (Method::GET, "/v1/proxy-config") => proxy_config(shared, &req).await,
        (Method::GET, "/metrics") => Ok(metrics(&shared)),
        (Method::GET, "/v1/ca") => Ok(ca_status(&shared)),
        (Method::POST, "/v1/ca/rotate") => ca_rotate(shared, req).await,
        _ => Err(error(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {path}"),
        )),
    };
    result.unwrap_or_else(|e| e)
}

/// Decode, default the namespace, validate; every problem of every manifest, or
/// the resources ready to store.
pub fn prepare(manifests: Vec<serde_json::Value>) -> Result<Vec<Resource>, Vec<Problem>> {
    let mut resources = Vec::with_capacity(manifests.len());
    let mut problems = Vec::new();
    for (i, m) in manifests.into_iter().enumerate() {
        let describe = |m: &serde_json::Value| {
            let kind = m
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or("<no kind>");
            let name = m
                .pointer("/metadata/name")
                .and_then(|k| k.as_str())
                .unwrap_or("<no name>");
            format!("{kind} {name} (document {})", i + 1)
        };
        let label = describe(&m);
        match Resource::from_json(m) {
            Ok(mut r) => {
                if r.kind().info().namespaced && r.metadata().namespace.is_none() {
                    r.metadata_mut().namespace = Some("default".into());
                }
                let reference = r.reference().to_string();
                for f in r.validate() {
                    if f.severity == Severity::Error {
                        problems.push(Problem {
                            resource: reference.clone(),
                            field: (!f.path.is_root()).then(|| f.path.to_string()),
                            message: f.message,
                        });
                    }
                }
                resources.push(r);
            }
            Err(e) => problems.push(Problem {
                resource: label,
                field: Some(e.path().to_string()).filter(|s| !s.is_empty()),
                message: e.to_string(),
            }),
        }
    }
    if problems.is_empty() {
        Ok(resources)
    } else {
        Err(problems)
    }
}

async fn apply(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Reply> {
    let request: ApplyRequest = body(req).await?;
    let resources = prepare(request.manifests).map_err(|problems| {
        json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ErrorResponse {
                message: format!("{} problem(s): nothing was applied", problems.len()),
                problems,
            },
        )
    })?;
    if request.dry_run {
        return Ok(json(
            StatusCode::OK,
            &ApplyResponse {
                revision: shared.store.revision(),
                changes: Vec::new(),
            },
        ));
    }
    let store = shared.store.clone();
    let (revision, changes) = blocking(move || store.apply(&resources)).await?;
    Ok(json(
        StatusCode::OK,
        &ApplyResponse {
            revision,
            changes: changes
                .into_iter()
                .map(|(key, change)| ChangeEntry {
                    resource: key.to_string(),
                    change,
                })
                .collect(),
        },
    ))
}

async fn delete(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Reply> {
    let request: DeleteRequest = body(req).await?;
    let mut keys = Vec::with_capacity(request.objects.len());
    for o in &request.objects {
        let kind = o
            .kind
            .parse::<Kind>()
            .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
        let namespace = if kind.info().namespaced && o.namespace.is_empty() {
            "default".to_owned()
        } else {
            o.namespace.clone()
        };
        keys.push(ObjectKey {
            kind,
            namespace,
            name: o.name.clone(),
        });
    }
    let store = shared.store.clone();
    let (revision, out) = blocking(move || store.delete(&keys)).await?;
    Ok(json(
        StatusCode::OK,
        &DeleteResponse {
            revision,
            deleted: out
                .into_iter()
                .map(|(k, existed)| {
                    (
                        ObjectRef {
                            kind: k.kind.to_string(),
                            namespace: k.namespace,
                            name: k.name,
                        },
                        existed,
                    )
                })
                .collect(),
        },
    ))
}

async fn list(shared: Arc<Shared>, req: &Request<Incoming>) -> Result<Reply, Reply> {
    let kind = query_param(req, "kind")
        .map(|k| k.parse::<Kind>())
        .transpose()
        .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
    let namespace = query_param(req, "namespace").map(str::to_owned);
    let store = shared.store.clone();
    let objects = blocking(move || store.list(kind, namespace.as_deref())).await?;
    let entries: Vec<StoredEntry> = objects
        .into_iter()
        .map(|o| StoredEntry {
            manifest: o.resource.to_json(),
            revision: o.revision,
            created_unix: o.created_unix,
        })
        .collect();
    Ok(json(StatusCode::OK, &entries))
}

async fn proxy_config(shared: Arc<Shared>, req: &Request<Incoming>) -> Result<Reply, Reply> {
    let id = query_param(req, "proxy")
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "proxy parameter is required"))?
        .to_owned();
    let s = shared.clone();
    let lookup = id.clone();
    match blocking(move || s.compile_for(&lookup)).await? {
        Some(config) => Ok(json(StatusCode::OK, &config)),
        None => Err(error(
            StatusCode::NOT_FOUND,
            format!("no connected proxy {id:?}"),
        )),
    }
}

fn ca_status(shared: &Shared) -> Reply {
    match shared.ca_status() {
        Some(status) => json(StatusCode::OK, &status),
        None => error(
            StatusCode::NOT_FOUND,
            "this control plane runs without a CA",
        ),
    }
}

/// `POST /v1/ca/rotate`: move the root rotation to the asked phase.
async fn ca_rotate(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Reply> {
    use crate::ca::rotation::RotateRequest;
    use crate::ca::{CaFiles, CaSource, Phase, RotateError, material::Labels};
    let r: RotateRequest = body(req).await?;
    let phase = Phase::parse(&r.phase).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown phase {:?}; the phases are add-root, reissue, remove-old and complete",
                r.phase
            ),
        )
    })?;
    let new_ca = match (&r.cert_pem, &r.key_pem) {
        (Some(cert), Some(key)) => {
            let labels = Labels {
                cert: "--cert".into(),
                key: "--key".into(),
                chain: "--chain".into(),
            };
            Some(
                CaFiles::check(
                    CaSource::PluggedIn,
                    cert,
                    key,
                    r.chain_pem.as_deref(),
                    &labels,
                )
                .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?,
            )
        }
        (None, None) => None,
        _ => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "give both the new CA's certificate (--cert) and its key (--key)",
            ));
        }
    };
    let s = shared.clone();
    let done = tokio::task::spawn_blocking(move || s.rotate(phase, new_ca))
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match done {
        Ok(()) => Ok(ca_status(&shared)),
        Err(e @ (RotateError::Order(_) | RotateError::Laggards { .. })) => {
            Err(error(StatusCode::CONFLICT, e.to_string()))
        }
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// Istio's Citadel counters: CSRs received, certificates issued, callers refused.
fn ca_metrics(shared: &Shared) -> String {
    let Some(authority) = shared.authority() else {
        return String::new();
    };
    let (csrs, signed, refused) = authority.ca().counts();
    format!(
        "# HELP citadel_server_csr_count CSRs received by the mesh CA.\n# TYPE citadel_server_csr_count counter\ncitadel_server_csr_count {csrs}\n# HELP citadel_server_success_cert_issuance_count Workload certificates the mesh CA signed.\n# TYPE citadel_server_success_cert_issuance_count counter\ncitadel_server_success_cert_issuance_count {signed}\n# HELP citadel_server_authentication_failure_count CSRs refused because the bootstrap token was missing or wrong.\n# TYPE citadel_server_authentication_failure_count counter\ncitadel_server_authentication_failure_count {refused}\n"
    )
}

fn metrics(shared: &Shared) -> Reply {
    let text = ca_metrics(shared)
        + &format!(
            "# HELP meshctl_store_revision The config store's revision.\n# TYPE meshctl_store_revision gauge\nmeshctl_store_revision {}\n# HELP meshctl_connected_proxies Proxies with an open discovery stream.\n# TYPE meshctl_connected_proxies gauge\nmeshctl_connected_proxies {}\n",
            shared.store.revision(),
            shared.workloads().len(),
        )
        + &shared.metrics.render();
    let mut r = Response::new(Full::new(Bytes::from(text)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}
