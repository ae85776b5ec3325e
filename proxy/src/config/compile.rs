//! Turns a `ProxyConfig` into the proxy's runtime form: virtual hosts by
//! authority, clusters by name with endpoints resolved, matchers compiled. A
//! compiled [`Snapshot`] is immutable; each config change builds a new one.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use bytes::Bytes;
use http::uri::Authority;
use http::{HeaderValue, StatusCode};
use mesh_api::proxy::{
    Cluster, ClusterEndpoints, ClusterTls, InboundMtls, Listeners, Protocol, ProxyConfig,
    RouteAction, RouteConfig,
};
use regex::Regex;

use super::matcher::{RequestView, RtMatch};
use crate::FastMap;
use crate::balance::Picker;
use crate::cluster::{EndpointState, Limits, RtCluster, RtEndpoint};
use crate::origin::{OriginSlot, Origination};
use crate::policy::cors::RtCors;
use crate::policy::fault::RtFault;
use crate::policy::headers::RtHeaderOps;
use crate::policy::retry::RtRetry;
use crate::upstream::{PoolSettings, Slot};

/// A compiled config: everything a request needs, behind one pointer.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    vhosts: Box<[RtVirtualHost]>,
    /// Lowercase host -> (port, explicit `host:port` domain?, vhost index).
    by_host: FastMap<Box<str>, Vec<HostEntry>>,
    /// `*suffix` domains, longest suffix first.
    wildcards: Box<[(Box<str>, HostEntry)]>,
    /// A `*` domain.
    catch_all: Option<usize>,
    pub(crate) clusters: FastMap<Box<str>, Arc<RtCluster>>,
    inbound: Box<[RtInbound]>,
    /// The workload's AuthorizationPolicies.
    pub(crate) authz: crate::authz::RtAuthz,
    pub(crate) tcp: super::tcp::TcpTable,
    /// Upstream connection slots by address and peer identity (mutual TLS or
    /// not), carried over between snapshots so a config change does not drop
    /// HTTP/2 connections.
    slots: HashMap<SlotKey, Arc<Slot>>,
    /// TLS origination slots by address, origination and pool settings, carried
    /// over likewise (pooled keep-alive connections survive a push).
    origins: HashMap<OriginKey, Arc<OriginSlot>>,
    /// Access logging, tracing and metric overrides.
    telemetry: crate::telemetry::RtTelemetry,
}

#[derive(Debug, Clone, Copy)]
struct HostEntry {
    port: u16,
    explicit: bool,
    vhost: usize,
}

#[derive(Debug)]
pub(crate) struct RtVirtualHost {
    pub name: Box<str>,
    pub routes: Box<[RtRoute]>,
}

#[derive(Debug)]
pub(crate) struct RtRoute {
    pub name: Arc<str>,
    matches: Box<[RtMatch]>,
    pub action: RtAction,
    pub fault: Option<RtFault>,
    pub headers: RtHeaderOps,
    pub cors: Option<RtCors>,
}

#[derive(Debug)]
pub(crate) enum RtAction {
    Forward(Box<RtForward>),
    Direct {
        status: StatusCode,
        body: Bytes,
    },
    Redirect {
        status: StatusCode,
        scheme: Option<Box<str>>,
        authority: Option<Box<str>>,
        port: Option<u16>,
        path: Option<Box<str>>,
    },
}

/// A route destination: the cluster's name, the cluster when it exists, and the
/// destination's header operations.
#[derive(Debug)]
pub(crate) struct Target {
    pub name: Box<str>,
    pub cluster: Option<Arc<RtCluster>>,
    pub headers: RtHeaderOps,
}

/// A mirror destination.
#[derive(Debug)]
pub(crate) struct RtMirror {
    pub name: Box<str>,
    pub cluster: Option<Arc<RtCluster>>,
    pub percent: f64,
}

#[derive(Debug)]
pub(crate) struct RtForward {
    /// Target clusters, resolved when known (unknown: 503 `NC`).
    clusters: Box<[Target]>,
    picker: Picker,
    counter: AtomicUsize,
    pub timeout: Option<Duration>,
    pub rewrite_uri: Option<Box<str>>,
    pub rewrite_authority: Option<(HeaderValue, Authority)>,
    pub rewrite_regex: Option<(Regex, Box<str>)>,
    pub retry: Option<RtRetry>,
    pub mirrors: Box<[RtMirror]>,
}

impl RtForward {
    /// Picks a destination by weight.
    pub(crate) fn pick(&self) -> Option<&Target> {
        self.picker
            .pick(&self.counter)
            .and_then(|i| self.clusters.get(i))
    }
}

#[derive(Debug)]
pub(crate) struct RtInbound {
    pub port: u16,
    pub protocol: Protocol,
    pub app: RtEndpoint,
    pub mtls: InboundMtls,
}

impl RtRoute {
    pub(crate) fn matching<'a>(&self, r: &RequestView<'a>) -> Option<Option<&RtMatch>> {
        if self.matches.is_empty() {
            return Some(None);
        }
        self.matches.iter().find(|m| m.matches(r)).map(Some)
    }

    pub(crate) fn matches_authority(&self, authority: &str) -> bool {
        self.matches.is_empty() || self.matches.iter().any(|m| m.matches_authority(authority))
    }
}

impl Snapshot {
    /// The compiled telemetry (access logging, tracing, metric overrides).
    pub(crate) fn telemetry(&self) -> &crate::telemetry::RtTelemetry {
        &self.telemetry
    }

    /// The virtual host for a lowercase host and port: exact `host:port`, then
    /// `host` on a virtual host of that port, then wildcards, then `*`.
    pub(crate) fn vhost(&self, host: &str, port: u16) -> Option<&RtVirtualHost> {
        let pick = |entries: &mut dyn Iterator<Item = HostEntry>| -> Option<usize> {
            let mut implied = None;
            for e in entries {
                if e.port == port {
                    if e.explicit {
                        return Some(e.vhost);
                    }
                    implied.get_or_insert(e.vhost);
                }
            }
            implied
        };
        let idx = self
            .by_host
            .get(host)
            .and_then(|entries| pick(&mut entries.iter().copied()))
            .or_else(|| {
                pick(
                    &mut self
                        .wildcards
                        .iter()
                        .filter(|(suffix, _)| {
                            host.len() > suffix.len() && host.ends_with(&**suffix)
                        })
                        .map(|(_, e)| *e),
                )
            })
            .or(self.catch_all)?;
        self.vhosts.get(idx)
    }

    /// Whether every inbound port is STRICT: plaintext connections are refused
    /// before any request is read.
    pub(crate) fn all_strict(&self) -> bool {
        !self.inbound.is_empty() && self.inbound.iter().all(|i| i.mtls == InboundMtls::Strict)
    }

    /// The inbound port for a request's port; with exactly one inbound port, that
    /// one when nothing matches.
    pub(crate) fn inbound(&self, port: u16) -> Option<&RtInbound> {
        self.inbound
            .iter()
            .find(|i| i.port == port)
            .or(match &*self.inbound {
                [only] => Some(only),
                _ => None,
            })
    }
}

/// Splits `host[:port]` (IPv6 in brackets) into host and explicit port.
pub(crate) fn split_host_port(s: &str) -> (&str, Option<u16>) {
    if let Some((h, p)) = s.rsplit_once(':')
        && !h.is_empty()
        && (!h.contains(':') || h.ends_with(']'))
        && let Ok(p) = p.parse::<u16>()
    {
        return (h, Some(p));
    }
    (s, None)
}

type SlotKey = (SocketAddr, Option<Box<str>>, PoolSettings);
type OriginKey = (SocketAddr, u64, PoolSettings);

struct Compiler<'a> {
    prev: &'a Snapshot,
    slots: HashMap<SlotKey, Arc<Slot>>,
    origins: HashMap<OriginKey, Arc<OriginSlot>>,
    problems: Vec<(&'static str, String)>,
}

impl Compiler<'_> {
    /// An endpoint, keeping the state the previous config had for it in `cluster`.
    /// `identity` is the peer's SPIFFE ID path when the connection is mutual TLS.
    fn endpoint(
        &mut self,
        cluster: Option<&str>,
        addr: SocketAddr,
        weight: u32,
        identity: Option<&str>,
        settings: PoolSettings,
    ) -> RtEndpoint {
        let state = cluster
            .and_then(|c| self.prev.clusters.get(c))
            .and_then(|c| c.endpoints.iter().find(|e| e.addr == addr))
            .map(|e| e.state.clone())
            .unwrap_or_else(|| Arc::new(EndpointState::default()));
        let key: SlotKey = (addr, identity.map(Into::into), settings.clone());
        let slot = match self.slots.entry(key) {
            Entry::Occupied(e) => e.get().clone(),
            Entry::Vacant(v) => {
                let slot = self.prev.slots.get(v.key()).cloned().unwrap_or_else(|| {
                    Arc::new(Slot::new(addr, identity.map(Into::into), settings))
                });
                v.insert(slot).clone()
            }
        };
        let authority = Authority::try_from(addr.to_string().as_str())
            .unwrap_or_else(|_| Authority::from_static("127.0.0.1"));
        RtEndpoint {
            addr,
            authority,
            weight,
            slot,
            origin: None,
            external: false,
            state,
        }
    }

    /// The origination slot of an endpoint, the previous config's when the
    /// address, settings and files are the same.
    fn origin(
        &mut self,
        addr: SocketAddr,
        o: &Origination,
        settings: PoolSettings,
    ) -> Arc<OriginSlot> {
        let key: OriginKey = (addr, o.fingerprint, settings.clone());
        match self.origins.entry(key) {
            Entry::Occupied(e) => e.get().clone(),
            Entry::Vacant(v) => {
                let slot = self
                    .prev
                    .origins
                    .get(v.key())
                    .cloned()
                    .unwrap_or_else(|| Arc::new(OriginSlot::new(addr, o.clone(), settings)));
                v.insert(slot).clone()
            }
        }
    }
}

/// Compiles a whole config; problems are tagged with their discovery type.
pub(crate) fn compile(
    cfg: &ProxyConfig,
    prev: &Snapshot,
) -> Result<Snapshot, Vec<(&'static str, String)>> {
    let mut c = Compiler {
        prev,
        slots: HashMap::new(),
        origins: HashMap::new(),
        problems: Vec::new(),
    };
    let inbound = compile_listeners(&mut c, &cfg.listeners);
    let mut p = Vec::new();
    let authz = crate::authz::RtAuthz::compile(&cfg.listeners.authz, &mut p);
    c.problems.extend(p.into_iter().map(|p| (L, p)));
    let clusters = compile_clusters(&mut c, &cfg.clusters, &cfg.endpoints);
    let mut snap = Snapshot {
        clusters,
        inbound,
        authz,
        ..Default::default()
    };
    match crate::telemetry::RtTelemetry::compile(&cfg.listeners.telemetry) {
        Ok(t) => snap.telemetry = t,
        Err(e) => c.problems.push((L, e)),
    }
    compile_routes(&mut c, &cfg.routes, &mut snap);
    let mut p = Vec::new();
    snap.tcp = super::tcp::TcpTable::compile(&cfg.routes.tcp_services, &snap.clusters, &mut p);
    c.problems.extend(p.into_iter().map(|p| (R, p)));
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    snap.slots = c.slots;
    snap.origins = c.origins;
    Ok(snap)
}

const L: &str = mesh_api::proxy::TYPE_LISTENERS;
const C: &str = mesh_api::proxy::TYPE_CLUSTERS;
const E: &str = mesh_api::proxy::TYPE_ENDPOINTS;
const R: &str = mesh_api::proxy::TYPE_ROUTES;

fn compile_listeners(c: &mut Compiler<'_>, l: &Listeners) -> Box<[RtInbound]> {
    let mut out: Vec<RtInbound> = Vec::with_capacity(l.inbound.len());
    for (i, p) in l.inbound.iter().enumerate() {
        if p.port == 0 || p.app_port == 0 {
            c.problems.push((
                L,
                format!(
                    "inbound[{i}]: port {} and appPort {} must both be between 1 and 65535",
                    p.port, p.app_port
                ),
            ));
            continue;
        }
        if out.iter().any(|o| o.port == p.port) {
            c.problems.push((
                L,
                format!(
                    "inbound[{i}]: port {} is listed twice: each port once",
                    p.port
                ),
            ));
            continue;
        }
        let app = c.endpoint(
            None,
            SocketAddr::from((Ipv4Addr::LOCALHOST, p.app_port)),
            1,
            None,
            PoolSettings::default(),
        );
        out.push(RtInbound {
            port: p.port,
            protocol: p.protocol,
            app,
            mtls: p.mtls,
        });
    }
    out.into_boxed_slice()
}

fn compile_clusters(
    c: &mut Compiler<'_>,
    clusters: &[Cluster],
    endpoints: &[ClusterEndpoints],
) -> FastMap<Box<str>, Arc<RtCluster>> {
    let mut members: HashMap<&str, &ClusterEndpoints> = HashMap::new();
    for (i, ce) in endpoints.iter().enumerate() {
        if members.insert(ce.cluster.as_str(), ce).is_some() {
            c.problems.push((
                E,
                format!(
                    "[{i}]: cluster {:?} has a second endpoint list: send one list per cluster",
                    ce.cluster
                ),
            ));
        }
        for (j, ep) in ce.endpoints.iter().enumerate() {
            if ep.address.parse::<SocketAddr>().is_err() {
                c.problems.push((
                    E,
                    format!(
                        "cluster {:?} endpoint[{j}]: address {:?} is not a socket address: expected ip:port such as 127.0.0.1:15006",
                        ce.cluster, ep.address
                    ),
                ));
            }
        }
    }
    let mut out = FastMap::with_capacity_and_hasher(clusters.len(), Default::default());
    for (i, cl) in clusters.iter().enumerate() {
        if cl.name.is_empty() {
            c.problems.push((
                C,
                format!("[{i}]: cluster name is empty: every cluster needs a name"),
            ));
            continue;
        }
        let origination = originate(cl).map_err(|e| {
            c.problems
                .push((C, format!("[{i}]: cluster {:?}: {e}", cl.name)));
        });
        let origination = origination.ok().flatten();
        let eps: Vec<RtEndpoint> = members
            .get(cl.name.as_str())
            .map(|ce| {
                ce.endpoints
                    .iter()
                    .filter_map(|ep| {
                        let addr = ep.address.parse().ok()?;
                        let identity = match cl.tls {
                            ClusterTls::Disable | ClusterTls::Simple | ClusterTls::Mutual => None,
                            ClusterTls::Auto => ep.identity.as_deref(),
                            // Mutual TLS even to a peer that did not say it
                            // accepts it: its handshake decides (UF if not).
                            ClusterTls::IstioMutual => {
                                Some(ep.identity.as_deref().unwrap_or("unknown"))
                            }
                        };
                        let settings = PoolSettings::of(&cl.limits);
                        let mut rt =
                            c.endpoint(Some(&cl.name), addr, ep.weight, identity, settings.clone());
                        rt.external = ep.external;
                        rt.origin = origination.as_ref().map(|o| c.origin(addr, o, settings));
                        Some(rt)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let http1 = !crate::forward::uses_h2(cl.protocol);
        let limits = c
            .prev
            .clusters
            .get(cl.name.as_str())
            .map(|p| p.limits.clone())
            .filter(|l| l.same(&cl.limits, http1))
            .unwrap_or_else(|| Arc::new(Limits::new(cl.limits.clone(), http1)));
        if let Some(o) = &cl.outlier
            && (o.max_ejection_percent > 100 || o.min_health_percent > 100)
        {
            c.problems.push((
                C,
                format!(
                    "[{i}]: cluster {:?} outlier percentages must be between 0 and 100",
                    cl.name
                ),
            ));
        }
        let rt = RtCluster::new(
            cl.name.as_str().into(),
            cl.protocol,
            eps.into_boxed_slice(),
            cl.lb_policy,
            cl.hash.clone(),
            cl.outlier.clone(),
            limits,
        );
        if out.insert(rt.name.clone(), Arc::new(rt)).is_some() {
            c.problems.push((
                C,
                format!(
                    "[{i}]: cluster name {:?} is used twice: names must be unique",
                    cl.name
                ),
            ));
        }
    }
    out
}

/// The cluster's TLS origination, when its `tls` is SIMPLE or MUTUAL.
fn originate(cl: &Cluster) -> Result<Option<Origination>, String> {
    if !matches!(cl.tls, ClusterTls::Simple | ClusterTls::Mutual) {
        return Ok(None);
    }
    let Some(o) = &cl.origination else {
        return Err("tls SIMPLE/MUTUAL without origination settings".to_owned());
    };
    Origination::load(cl.tls, o, cl.protocol).map(Some)
}

fn compile_routes(c: &mut Compiler<'_>, rc: &RouteConfig, snap: &mut Snapshot) {
    let mut vhosts = Vec::with_capacity(rc.virtual_hosts.len());
    let mut wildcards: Vec<(Box<str>, HostEntry)> = Vec::new();
    let mut seen: HashMap<(String, u16, bool), &str> = HashMap::new();
    for (vi, vh) in rc.virtual_hosts.iter().enumerate() {
        for d in &vh.domains {
            let d = d.to_ascii_lowercase();
            let (host, port) = split_host_port(&d);
            let entry = HostEntry {
                port: port.unwrap_or(vh.port),
                explicit: port.is_some(),
                vhost: vi,
            };
            if let Some(other) =
                seen.insert((host.to_string(), entry.port, entry.explicit), &vh.name)
            {
                c.problems.push((
                    R,
                    format!(
                        "domain {d:?} is in virtual hosts {other:?} and {:?}: a domain selects one virtual host",
                        vh.name
                    ),
                ));
                continue;
            }
            if host == "*" {
                snap.catch_all.get_or_insert(vi);
            } else if let Some(suffix) = host.strip_prefix('*') {
                wildcards.push((suffix.into(), entry));
            } else {
                snap.by_host.entry(host.into()).or_default().push(entry);
            }
        }
        let routes = vh
            .routes
            .iter()
            .map(|r| {
                let at = format!("virtual host {:?} route {:?}", vh.name, r.name);
                let mut p = Vec::new();
                let matches = r
                    .matches
                    .iter()
                    .map(|m| RtMatch::compile(m, &at, &mut p))
                    .collect();
                let action = compile_action(&r.action, &at, &snap.clusters, &mut p);
                let fault = r.fault.as_ref().map(|f| RtFault::compile(f, &at, &mut p));
                let headers = RtHeaderOps::compile(&r.headers, &at, &mut p);
                let cors = r.cors.as_ref().map(|c| RtCors::compile(c, &at, &mut p));
                c.problems.extend(p.into_iter().map(|p| (R, p)));
                RtRoute {
                    name: r.name.as_str().into(),
                    matches,
                    action,
                    fault,
                    headers,
                    cors,
                }
            })
            .collect();
        vhosts.push(RtVirtualHost {
            name: vh.name.as_str().into(),
            routes,
        });
    }
    wildcards.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    snap.wildcards = wildcards.into_boxed_slice();
    snap.vhosts = vhosts.into_boxed_slice();
}

fn status(code: u16, at: &str, p: &mut Vec<String>) -> StatusCode {
    match StatusCode::from_u16(code) {
        Ok(s) if (100..=599).contains(&code) => s,
        _ => {
            p.push(format!(
                "{at}: status {code} invalid: must be between 100 and 599"
            ));
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

fn compile_action(
    a: &RouteAction,
    at: &str,
    clusters: &FastMap<Box<str>, Arc<RtCluster>>,
    p: &mut Vec<String>,
) -> RtAction {
    match a {
        RouteAction::Forward(f) => {
            if f.clusters.iter().all(|w| w.weight == 0) {
                p.push(format!(
                    "{at}: forwards to no cluster with a weight above 0: give at least one destination a positive weight"
                ));
            }
            let weights: Vec<u32> = f.clusters.iter().map(|w| w.weight).collect();
            let rewrite_authority = f.rewrite_authority.as_deref().and_then(|a| {
                match (HeaderValue::from_str(a), Authority::try_from(a)) {
                    (Ok(h), Ok(au)) => Some((h, au)),
                    _ => {
                        p.push(format!(
                            "{at}: rewrite authority {a:?} invalid: must be a host with an optional port"
                        ));
                        None
                    }
                }
            });
            if let Some(u) = &f.rewrite_uri
                && (u.is_empty() || http::uri::PathAndQuery::try_from(u.as_str()).is_err())
            {
                p.push(format!(
                    "{at}: rewrite uri {u:?} invalid: must be a URI path"
                ));
            }
            let rewrite_regex =
                f.rewrite_regex
                    .as_ref()
                    .and_then(|rx| match Regex::new(&rx.regex) {
                        Ok(re) => Some((re, convert_substitution(&rx.substitution).into())),
                        Err(e) => {
                            p.push(format!(
                                "{at}: rewrite regex {:?} does not compile: {e}",
                                rx.regex
                            ));
                            None
                        }
                    });
            let retry = f.retry.as_ref().and_then(|r| match RtRetry::compile(r) {
                Ok(r) => Some(r),
                Err(e) => {
                    p.push(format!("{at}: {e}"));
                    None
                }
            });
            let targets = f
                .clusters
                .iter()
                .map(|w| Target {
                    name: w.cluster.as_str().into(),
                    cluster: clusters.get(w.cluster.as_str()).cloned(),
                    headers: RtHeaderOps::compile(
                        &w.headers,
                        &format!("{at} destination {:?}", w.cluster),
                        p,
                    ),
                })
                .collect();
            let mirrors = f
                .mirrors
                .iter()
                .map(|m| RtMirror {
                    name: m.cluster.as_str().into(),
                    cluster: clusters.get(m.cluster.as_str()).cloned(),
                    percent: m.percent.clamp(0.0, 100.0),
                })
                .collect();
            RtAction::Forward(Box::new(RtForward {
                clusters: targets,
                picker: Picker::new(&weights, false),
                counter: AtomicUsize::new(0),
                timeout: f.timeout.map(|d| d.as_std()).filter(|d| !d.is_zero()),
                rewrite_uri: f.rewrite_uri.as_deref().map(Into::into),
                rewrite_authority,
                rewrite_regex,
                retry,
                mirrors,
            }))
        }
        RouteAction::DirectResponse { status: s, body } => RtAction::Direct {
            status: status(*s, at, p),
            body: Bytes::copy_from_slice(body.as_bytes()),
        },
        RouteAction::Redirect {
            status: s,
            scheme,
            authority,
            port,
            path,
        } => RtAction::Redirect {
            status: status(*s, at, p),
            scheme: scheme.as_deref().map(Into::into),
            authority: authority.as_deref().map(Into::into),
            port: *port,
            path: path.as_deref().map(Into::into),
        },
    }
}

/// Envoy's RE2 substitution uses `\\1` for groups; the regex crate uses `${1}`.
fn convert_substitution(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push_str("${");
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    out.push(d);
                    chars.next();
                }
                out.push('}');
            }
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_groups() {
        assert_eq!(convert_substitution("/v2/\\1/x"), "/v2/${1}/x");
        assert_eq!(convert_substitution("$5"), "$$5");
    }

    #[test]
    fn split() {
        assert_eq!(split_host_port("reviews:9080"), ("reviews", Some(9080)));
        assert_eq!(split_host_port("reviews"), ("reviews", None));
        assert_eq!(split_host_port("[::1]:80"), ("[::1]", Some(80)));
        assert_eq!(split_host_port("::1"), ("::1", None));
    }
}
