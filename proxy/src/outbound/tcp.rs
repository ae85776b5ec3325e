//! CONNECT to a TCP service: the app tunnels raw bytes (`CONNECT mysql:3306`)
//! and the sidecar picks a route (by the TLS server name when rules ask for
//! one, without terminating TLS), a cluster by weight and an endpoint, then
//! tunnels to that endpoint's sidecar.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::body::{ProxyBody, RequestBody};
use crate::cluster::{PickRequest, RtCluster};
use crate::config::{RtTcpService, Snapshot, TcpTarget};
use crate::forward::{Answer, answer, connect_via, local, relay};
use crate::server::Shared;
use crate::sni::{self, Hello};
use crate::stats::Flag;

/// The longest ClientHello read while looking for the server name.
const MAX_HELLO: usize = 16 * 1024;

/// Tunnels a CONNECT to a TCP service.
pub(super) async fn connect(
    shared: &Shared,
    snap: &Arc<Snapshot>,
    svc: &RtTcpService,
    host: &str,
    port: u16,
    authority: String,
    mut req: Request<RequestBody>,
) -> Answer {
    if !svc.needs_sni() {
        let Some(route) = svc.route(None) else {
            return local(StatusCode::NOT_FOUND, Flag::NoRoute, "no tcp route\n");
        };
        let (chosen, tls) = match endpoint(shared, route.pick()) {
            Ok(c) => c,
            Err((status, flag, msg)) => return local(status, flag, msg),
        };
        let cluster = chosen.cluster.clone();
        if let Some(origin) = chosen.external {
            return match crate::forward::dial_external(chosen.addr, origin.as_deref()).await {
                Ok(up) => {
                    let what = format!("{authority} ({}) direct via {}", svc.name, cluster.name);
                    let (mut resp, flag) = relay(&mut req, up, what);
                    crate::telemetry::UpstreamCluster::tag(&cluster, &mut resp);
                    (resp, flag)
                }
                Err(e) => answer(Err(e), &cluster.name),
            };
        }
        let me = req.headers().get(crate::telemetry::PEER_HEADER).cloned();
        return match connect_via(chosen.addr, &authority, tls, me.as_ref()).await {
            Ok(Ok(tunnel)) => {
                let what = format!("{authority} ({}) via {}", svc.name, cluster.name);
                let (mut resp, flag) = tunnel.relay(&mut req, what);
                crate::telemetry::UpstreamCluster::tag(&cluster, &mut resp);
                (resp, flag)
            }
            Ok(Err(status)) => {
                let mut r = Response::new(ProxyBody::empty());
                *r.status_mut() = status;
                (r, Flag::None)
            }
            Err(e) => answer(Err(e), &cluster.name),
        };
    }
    // TLS routes: accept the tunnel first, then read the ClientHello.
    let on_upgrade = hyper::upgrade::on(&mut req);
    let snap = snap.clone();
    let meter = crate::telemetry::TunnelMeter::default();
    let mut resp = Response::new(ProxyBody::empty());
    meter.tag(&mut resp);
    let host = host.to_owned();
    let tls_state = shared.tls.clone();
    let me = req.headers().get(crate::telemetry::PEER_HEADER).cloned();
    tokio::spawn(async move {
        let Ok(down) = on_upgrade.await else { return };
        let mut down = TokioIo::new(down);
        let mut buf = Vec::with_capacity(1024);
        let sni = loop {
            match sni::parse(&buf) {
                Hello::Tls(name) => break name,
                Hello::NotTls => break None,
                Hello::Incomplete if buf.len() < MAX_HELLO => {}
                Hello::Incomplete => break None,
            }
            let mut chunk = [0u8; 4096];
            match down.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let Some(svc) = snap.tcp.get(&host, port) else {
            return;
        };
        let Some(route) = svc.route(sni.as_deref()) else {
            tracing::debug!(%authority, ?sni, "no tls route for this server name (NR)");
            return;
        };
        let Ok(Chosen {
            cluster,
            addr,
            identity,
            external,
        }) = endpoint_of(route.pick())
        else {
            return;
        };
        if let Some(origin) = external {
            let Ok(mut up) = crate::forward::dial_external(addr, origin.as_deref()).await else {
                tracing::debug!(%authority, cluster = &*cluster.name, "tls passthrough upstream failed");
                return;
            };
            if up.write_all(&buf).await.is_err() {
                return;
            }
            match tokio::io::copy_bidirectional(&mut down, &mut up).await {
                Ok((tx, rx)) => meter.closed(buf.len() as u64 + tx, rx),
                Err(e) => tracing::debug!(%authority, error = %e, "tls tunnel ended with an error"),
            }
            return;
        }
        let tls = match identity {
            Some(path) if tls_state.enabled() => match tls_state.client_for(&path) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::debug!(%authority, error = %e, "no mutual TLS for the tunnel");
                    return;
                }
            },
            _ => None,
        };
        // The answer was sent before the server name was read, so this
        // tunnel's metrics cannot name the peer (`destination_*` unknown).
        let mut up = match connect_via(addr, &authority, tls, me.as_ref()).await {
            Ok(Ok(tunnel)) => tunnel.io,
            _ => {
                tracing::debug!(%authority, cluster = &*cluster.name, "tls passthrough upstream failed");
                return;
            }
        };
        if up.write_all(&buf).await.is_err() {
            return;
        }
        match tokio::io::copy_bidirectional(&mut down, &mut up).await {
            Ok((tx, rx)) => {
                meter.closed(buf.len() as u64 + tx, rx);
                tracing::debug!(%authority, ?sni, route = &*route.name, tx, rx, "tls tunnel closed")
            }
            Err(e) => tracing::debug!(%authority, error = %e, "tls tunnel ended with an error"),
        }
    });
    (resp, Flag::None)
}

/// Why no endpoint was chosen: the local answer's parts.
type NoEndpoint = (StatusCode, Flag, &'static str);

/// A chosen endpoint: its cluster, address, peer identity (mutual TLS), and,
/// for an endpoint that is no sidecar, its TLS origination if any.
struct Chosen {
    cluster: Arc<RtCluster>,
    addr: SocketAddr,
    identity: Option<String>,
    external: Option<Option<Arc<crate::origin::OriginSlot>>>,
}

/// The chosen cluster and one of its endpoints.
fn endpoint_of(target: Option<&TcpTarget>) -> Result<Chosen, NoEndpoint> {
    let Some((name, cluster)) = target else {
        return Err((
            StatusCode::NOT_FOUND,
            Flag::NoRoute,
            "route has no destination\n",
        ));
    };
    let Some(cluster) = cluster else {
        tracing::debug!(cluster = &**name, "unknown cluster (NC)");
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::NoCluster,
            "no such cluster\n",
        ));
    };
    let Some(ep) = cluster.pick(&PickRequest::default()) else {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::NoHealthyUpstream,
            "no healthy upstream\n",
        ));
    };
    Ok(Chosen {
        cluster: cluster.clone(),
        addr: ep.addr,
        identity: ep.slot.identity().map(str::to_owned),
        external: ep.external.then(|| ep.origin.clone()),
    })
}

/// A chosen endpoint with the TLS config of its tunnel (none: plaintext).
type Tunnel = (Chosen, Option<Arc<rustls::ClientConfig>>);

/// As [`endpoint_of`], with the TLS config for the tunnel.
fn endpoint(shared: &Shared, target: Option<&TcpTarget>) -> Result<Tunnel, NoEndpoint> {
    let chosen = endpoint_of(target)?;
    let tls = match &chosen.identity {
        Some(path) if shared.tls.enabled() => Some(shared.tls.client_for(path).map_err(|e| {
            tracing::debug!(error = %e, "no mutual TLS for the tunnel");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Flag::UpstreamConnectFailure,
                "upstream connect error: mutual TLS unavailable\n",
            )
        })?),
        _ => None,
    };
    Ok((chosen, tls))
}
