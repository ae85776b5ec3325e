//! A route's `Forward` action: pick a destination, rewrite, apply header
//! operations, mirror, then try endpoints under the cluster's limits with the
//! route's retry policy, all within the route timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::request::Parts;
use http::uri::{Authority, PathAndQuery};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Body;

use crate::body::{ProxyBody, RequestBody, Spool};
use crate::cluster::{InFlight, PickRequest, RtCluster, Verdict, hash_key};
use crate::config::{RtForward, RtRoute};
use crate::forward::{Answer, answer, local, prepare, send, strip_hop_by_hop};
use crate::policy::chance;
use crate::policy::retry::Outcome;
use crate::server::Shared;
use crate::stats::Flag;
use crate::upstream::{UpstreamBody, UpstreamError};

/// Request bodies up to this size are kept for retries and mirrors (Envoy keeps
/// up to its buffer limit); larger or unsized bodies stream once, unretried.
const REPLAY_LIMIT: u64 = 64 * 1024;

/// Forwards a routed request.
pub(super) async fn forward(
    shared: &Shared,
    route: &RtRoute,
    f: &RtForward,
    req: Request<RequestBody>,
    rewrite_len: usize,
    peer: SocketAddr,
) -> Answer {
    let Some(target) = f.pick() else {
        return local(
            StatusCode::NOT_FOUND,
            Flag::NoRoute,
            "route has no destination\n",
        );
    };
    let Some(cluster) = &target.cluster else {
        tracing::debug!(
            cluster = &*target.name,
            route = &*route.name,
            "unknown cluster (NC)"
        );
        return local(
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::NoCluster,
            "no such cluster\n",
        );
    };
    let key = cluster
        .hash
        .as_ref()
        .and_then(|p| hash_key(p, req.headers(), req.uri().query(), Some(peer)));
    let mut req = req;
    let upgrade = crate::forward::upgrade_of(req.headers());
    let down = upgrade.is_some().then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let pq = new_path(
        &parts.uri,
        f.rewrite_regex.as_ref(),
        f.rewrite_uri.as_deref(),
        rewrite_len,
    );
    let (authority, host_override) = match &f.rewrite_authority {
        Some((h, a)) => (Some(a.clone()), Some(h.clone())),
        None => (parts.uri.authority().cloned(), None),
    };
    strip_hop_by_hop(&mut parts.headers);
    if let Some(u) = upgrade {
        crate::forward::restore_upgrade(&mut parts.headers, u);
    }
    target.headers.request.apply(&mut parts.headers);
    route.headers.request.apply(&mut parts.headers);
    let retries = f.retry.as_ref().is_some_and(|r| r.attempts > 0);
    let body = match Replay::new(body, retries, !f.mirrors.is_empty()).await {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(error = %e, "downstream body failed");
            return local(StatusCode::BAD_REQUEST, Flag::None, "request body failed\n");
        }
    };
    let template = Template {
        method: parts.method,
        uri_pq: pq,
        version: parts.version,
        headers: std::mem::take(&mut parts.headers),
        authority,
        host_override,
    };
    if let Some(bytes) = body.bytes().filter(|_| down.is_none()) {
        for m in f.mirrors.iter().filter(|m| chance(m.percent)) {
            match &m.cluster {
                Some(c) => mirror(shared, c.clone(), &template, bytes.clone()),
                None => tracing::debug!(cluster = &*m.name, "mirror cluster unknown"),
            }
        }
    }
    let tries = tries(
        shared,
        cluster,
        f,
        template,
        body,
        key.as_ref().map(|k| k.key),
        down,
    );
    let (mut resp, flag) = match f.timeout {
        Some(t) => match tokio::time::timeout(t, tries).await {
            Ok(a) => a,
            Err(_) => {
                tracing::debug!(cluster = &*target.name, "route timeout (UT)");
                local(
                    StatusCode::GATEWAY_TIMEOUT,
                    Flag::UpstreamTimeout,
                    "upstream request timeout\n",
                )
            }
        },
        None => tries.await,
    };
    crate::telemetry::UpstreamCluster::tag(cluster, &mut resp);
    target.headers.response.apply(resp.headers_mut());
    route.headers.response.apply(resp.headers_mut());
    if let Some(set) = key.and_then(|k| k.set_cookie)
        && let Ok(v) = HeaderValue::from_str(&set)
    {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    (resp, flag)
}

/// What every try rebuilds its request from.
struct Template {
    method: Method,
    uri_pq: PathAndQuery,
    version: Version,
    headers: HeaderMap,
    authority: Option<Authority>,
    host_override: Option<HeaderValue>,
}

impl Template {
    /// The request head for a try (or a mirror): a copy.
    fn parts(&self) -> Parts {
        let mut parts = self.head();
        parts.headers = self.headers.clone();
        parts
    }

    /// The request head for the last possible try: the headers are moved out.
    fn take_parts(&mut self) -> Parts {
        let mut parts = self.head();
        parts.headers = std::mem::take(&mut self.headers);
        parts
    }

    fn head(&self) -> Parts {
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.method = self.method.clone();
        parts.version = self.version;
        parts
    }
}

/// The request body as the tries need it.
enum Replay {
    /// Kept whole (or empty): every try gets a copy.
    Whole(Option<Bytes>),
    /// Spooled: streamed to the first try while kept (up to the limit); a later
    /// try reads it again if it was complete and small enough.
    Spool(Arc<Spool>, bool),
    /// Streamed once, no copy.
    Stream(Option<RequestBody>),
}

impl Replay {
    async fn new(body: RequestBody, retries: bool, mirrors: bool) -> Result<Self, hyper::Error> {
        if body.is_end_stream() {
            return Ok(Replay::Whole(None));
        }
        let small = body.size_hint().exact().is_some_and(|n| n <= REPLAY_LIMIT);
        if (retries || mirrors) && small {
            let bytes = body.collect().await?.to_bytes();
            return Ok(Replay::Whole(Some(bytes)));
        }
        if retries {
            // Unsized (gRPC, chunked): spool it, so that a try that fails after
            // the whole body arrived can be replayed.
            return Ok(Replay::Spool(
                Spool::start(body, REPLAY_LIMIT as usize),
                false,
            ));
        }
        Ok(Replay::Stream(Some(body)))
    }

    /// Waits for a spooled body to be settled (see [`Spool::settled`]).
    async fn settled(&self) {
        if let Replay::Spool(s, _) = self {
            s.settled().await;
        }
    }

    /// Whether a further try can be sent.
    fn replayable(&self) -> bool {
        match self {
            Replay::Whole(_) => true,
            Replay::Spool(s, _) => s.replayable(),
            Replay::Stream(_) => false,
        }
    }

    fn bytes(&self) -> Option<Bytes> {
        match self {
            Replay::Whole(b) => Some(b.clone().unwrap_or_default()),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<ProxyBody> {
        match self {
            Replay::Whole(b) => Some(b.clone().map_or_else(ProxyBody::empty, ProxyBody::local)),
            Replay::Spool(s, used) => {
                if *used && !s.replayable() {
                    return None;
                }
                *used = true;
                Some(ProxyBody::Spooled(s.reader()))
            }
            Replay::Stream(s) => s.take().map(ProxyBody::Downstream),
        }
    }
}

/// Tries endpoints until an answer is final: not retriable, or retries spent.
async fn tries(
    shared: &Shared,
    cluster: &RtCluster,
    f: &RtForward,
    mut template: Template,
    mut body: Replay,
    key: Option<u64>,
    mut upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Answer {
    let Some(_admission) = cluster.limits.admit().await else {
        tracing::debug!(cluster = &*cluster.name, "connection pool overflow (UO)");
        return local(
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::UpstreamOverflow,
            "upstream connect error or disconnect/reset before headers. reset reason: overflow\n",
        );
    };
    let retry = f.retry.as_ref().filter(|r| r.attempts > 0);
    let max_tries = 1 + retry.map_or(0, |r| r.attempts);
    let mut tried: Vec<SocketAddr> = Vec::new();
    let mut n = 0;
    let mut _retry_token = None;
    loop {
        n += 1;
        let avoid: &[SocketAddr] = if retry.is_some_and(|r| r.other_hosts) {
            &tried
        } else {
            &[]
        };
        let Some(ep) = cluster.pick(&PickRequest { key, avoid }) else {
            tracing::debug!(cluster = &*cluster.name, "no healthy endpoint (UH)");
            return local(
                StatusCode::SERVICE_UNAVAILABLE,
                Flag::NoHealthyUpstream,
                "no healthy upstream\n",
            );
        };
        let Some(req_body) = body.next() else {
            return local(
                StatusCode::SERVICE_UNAVAILABLE,
                Flag::UpstreamConnectionTermination,
                "request body already sent\n",
            );
        };
        let mut parts = if n >= max_tries {
            template.take_parts()
        } else {
            template.parts()
        };
        // Upgrades keep HTTP/1.1 on a connection of their own.
        let protocol = if upgrade.is_some() {
            cluster.protocol
        } else {
            crate::forward::wire(shared, cluster.protocol, ep)
        };
        if let Err(e) = prepare(
            &mut parts,
            protocol,
            ep,
            template.uri_pq.clone(),
            template.authority.clone(),
            template.host_override.as_ref(),
        ) {
            return local(
                StatusCode::BAD_REQUEST,
                Flag::None,
                format!("bad request: {e}\n"),
            );
        }
        let _in_flight = InFlight::new(&ep.state);
        let req = Request::from_parts(parts, req_body);
        let is_upgrade = upgrade.is_some();
        let fut = async {
            if is_upgrade {
                Box::pin(crate::forward::send_upgrade(shared, ep, req)).await
            } else {
                send(shared, cluster.protocol, ep, req).await
            }
        };
        let res = match retry.and_then(|r| r.per_try_timeout) {
            Some(t) => tokio::time::timeout(t, fut).await.ok(),
            None => Some(fut.await),
        };
        if let Some(down) = upgrade.take() {
            // An upgrade is tried once: its connection becomes the tunnel.
            return match res {
                Some(r) => crate::forward::upgraded(r, down, &cluster.name),
                None => local(
                    StatusCode::GATEWAY_TIMEOUT,
                    Flag::UpstreamTimeout,
                    "upstream request timeout\n",
                ),
            };
        }
        let outcome = outcome(res.as_ref());
        cluster.record(ep, verdict(outcome));
        if retry.is_some_and(|r| r.other_hosts) {
            // Only a retry that avoids the hosts it tried needs the list.
            tried.push(ep.addr);
        }
        let mut retriable = retry.is_some_and(|r| r.retriable(outcome));
        if retriable && n < max_tries {
            body.settled().await;
            retriable = body.replayable();
        }
        if retriable && n < max_tries {
            if let Some(token) = cluster.limits.retry() {
                _retry_token = Some(token);
                tracing::debug!(cluster = &*cluster.name, endpoint = %ep.addr, try_ = n, ?outcome, "retrying");
                if let Some(Ok(resp)) = res {
                    // Drain the discarded answer so its connection can be reused.
                    tokio::spawn(async move {
                        let _ = resp.into_body().collect().await;
                    });
                }
                if let Some(r) = retry {
                    tokio::time::sleep(r.backoff(n)).await;
                }
                continue;
            }
            tracing::debug!(cluster = &*cluster.name, "retry budget (maxRetries) spent");
        }
        let exhausted = retriable && n >= max_tries && n > 1;
        let (mut resp, flag) = match res {
            Some(r) => answer(r, &cluster.name),
            None => local(
                StatusCode::GATEWAY_TIMEOUT,
                Flag::UpstreamTimeout,
                "upstream request timeout\n",
            ),
        };
        let flag = if exhausted && flag == Flag::None {
            Flag::UpstreamRetryLimitExceeded
        } else {
            flag
        };
        resp.extensions_mut()
            .insert(crate::telemetry::UpstreamInfo { host: ep.addr });
        return (resp, flag);
    }
}

fn outcome(res: Option<&Result<http::Response<UpstreamBody>, UpstreamError>>) -> Outcome {
    match res {
        None => Outcome::Timeout,
        Some(Ok(r)) => Outcome::Answer {
            status: r.status().as_u16(),
            grpc: r
                .headers()
                .get(&crate::telemetry::GRPC_STATUS)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
        },
        Some(Err(UpstreamError::Connect { .. } | UpstreamError::Tls(_))) => Outcome::ConnectFailure,
        Some(Err(UpstreamError::Refused)) => Outcome::RefusedStream,
        Some(Err(UpstreamError::Exchange(_))) => Outcome::Reset,
    }
}

fn verdict(o: Outcome) -> Verdict {
    match o {
        Outcome::Answer { status, .. } => Verdict::of_status(status),
        _ => Verdict::GatewayError,
    }
}

/// Sends a copy of the request to a mirror cluster and drops its answer. The
/// copy's authority gets `-shadow` after the host, as Envoy does.
fn mirror(shared: &Shared, cluster: std::sync::Arc<RtCluster>, t: &Template, body: Bytes) {
    let Some(ep) = cluster.pick(&PickRequest::default()) else {
        return;
    };
    let shadow = |a: &str| {
        let (h, p) = crate::config::split_host_port(a);
        match p {
            Some(p) => format!("{h}-shadow:{p}"),
            None => format!("{h}-shadow"),
        }
    };
    let mut parts = t.parts();
    let host = t
        .host_override
        .as_ref()
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| t.authority.as_ref().map(|a| a.as_str().to_owned()))
        .or_else(|| {
            t.headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let shadow_host = shadow(&host);
    let (Ok(hv), Ok(au)) = (
        HeaderValue::from_str(&shadow_host),
        Authority::try_from(shadow_host.as_str()),
    ) else {
        return;
    };
    parts.headers.insert(http::header::HOST, hv.clone());
    let protocol = crate::forward::wire(shared, cluster.protocol, ep);
    if prepare(
        &mut parts,
        protocol,
        ep,
        t.uri_pq.clone(),
        Some(au),
        Some(&hv),
    )
    .is_err()
    {
        return;
    }
    let req = Request::from_parts(parts, ProxyBody::local(body));
    let name = cluster.name.clone();
    let slot = ep.slot.clone();
    let tls = shared.tls.clone();
    let h2 = crate::forward::uses_h2(protocol);
    // Fire and forget: the mirror's answer and failures never reach the client.
    tokio::spawn(async move {
        let fut = async {
            if h2 {
                slot.send(req, &tls).await
            } else {
                slot.send_h1(req, &tls).await
            }
        };
        match tokio::time::timeout(Duration::from_secs(30), fut).await {
            Ok(Ok(resp)) => {
                let _ = resp.into_body().collect().await;
            }
            Ok(Err(e)) => tracing::debug!(cluster = &*name, error = %e, "mirror failed"),
            Err(_) => tracing::debug!(cluster = &*name, "mirror timed out"),
        }
    });
}

/// The path to send upstream: unchanged, with the matched prefix replaced
/// (`rewrite.uri`), or rewritten by regex (`uriRegexRewrite`).
fn new_path(
    uri: &Uri,
    regex: Option<&(regex::Regex, Box<str>)>,
    prefix: Option<&str>,
    matched: usize,
) -> PathAndQuery {
    let pq = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let path = uri.path();
    let new = if let Some((re, sub)) = regex {
        re.replace_all(path, &**sub).into_owned()
    } else if let Some(rw) = prefix {
        let rest = path.get(matched..).unwrap_or("");
        let mut s = String::with_capacity(rw.len() + rest.len());
        s.push_str(rw);
        s.push_str(rest);
        s
    } else {
        return pq;
    };
    let mut s = new;
    if let Some(q) = uri.query() {
        s.push('?');
        s.push_str(q);
    }
    PathAndQuery::try_from(s).unwrap_or(pq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_prefix_or_regex_and_keeps_query() {
        let u: Uri = "http://a/old/x?q=1".parse().unwrap_or_default();
        assert_eq!(new_path(&u, None, Some("/new"), 4).as_str(), "/new/x?q=1");
        assert_eq!(new_path(&u, None, None, 4).as_str(), "/old/x?q=1");
        assert_eq!(
            new_path(&u, None, Some("/v2/"), 1).as_str(),
            "/v2/old/x?q=1"
        );
        let re = (
            regex::Regex::new("^/old/(.*)$").unwrap_or_else(|e| panic!("{e}")),
            "/${1}/new".into(),
        );
        assert_eq!(new_path(&u, Some(&re), None, 0).as_str(), "/x/new?q=1");
    }
}
