//! The inbound listener: traffic other sidecars send to this workload, forwarded
//! to the app on loopback by service port, or tunnelled raw for CONNECT.

use http::uri::PathAndQuery;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use mesh_api::proxy::InboundMtls;

use crate::body::ProxyBody;
use crate::config::{Snapshot, split_host_port};
use crate::forward::{self, Answer, local};
use crate::server::{ConnInfo, Shared};
use crate::stats::Flag;
use crate::upstream::connect_tcp;

/// Forwards one inbound request to the app.
pub(crate) async fn handle(
    shared: &Shared,
    snap: &Snapshot,
    mut req: Request<Incoming>,
    conn: &ConnInfo,
) -> Answer {
    let authority = forward::authority_of(&req).unwrap_or("");
    let port = split_host_port(authority).1.unwrap_or(80);
    let Some(ib) = snap.inbound(port) else {
        tracing::debug!(authority, "no inbound port (NR)");
        return local(
            StatusCode::NOT_FOUND,
            Flag::NoRoute,
            "no inbound port for this authority\n",
        );
    };
    if ib.mtls == InboundMtls::Strict && conn.peer_identity.is_none() {
        tracing::debug!(peer = %conn.peer, port, "plaintext request refused: PeerAuthentication STRICT");
        return local(
            StatusCode::FORBIDDEN,
            Flag::None,
            "mutual TLS required on this port (PeerAuthentication STRICT)\n",
        );
    }
    if req.method() == Method::CONNECT {
        let what = format!("{authority} -> {}", ib.app.addr);
        return match connect_tcp(ib.app.addr).await {
            Ok(tcp) => forward::relay(&mut req, tcp, what),
            Err(e) => forward::answer(Err(e), &what),
        };
    }
    let upgrade = forward::upgrade_of(req.headers());
    let down = upgrade.is_some().then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let authority = parts.uri.authority().cloned();
    forward::strip_hop_by_hop(&mut parts.headers);
    if let Some(u) = upgrade {
        forward::restore_upgrade(&mut parts.headers, u);
    }
    if let Err(e) = forward::prepare(&mut parts, ib.protocol, &ib.app, pq, authority, None) {
        return local(
            StatusCode::BAD_REQUEST,
            Flag::None,
            format!("bad request: {e}\n"),
        );
    }
    let res = forward::send(
        shared,
        ib.protocol,
        &ib.app,
        Request::from_parts(parts, ProxyBody::Upstream(body)),
    )
    .await;
    let (mut resp, flag) = match down {
        Some(down) => forward::upgraded(res, down, "inbound"),
        None => forward::answer(res, "inbound"),
    };
    resp.extensions_mut()
        .insert(crate::telemetry::UpstreamInfo { host: ib.app.addr });
    (resp, flag)
}
