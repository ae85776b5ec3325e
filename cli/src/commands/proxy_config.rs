//! `meshctl proxy-config TYPE NAME`: a sidecar's running config, from its admin API;
//! and the proxy lookup `proxy-status NAME` shares.

use anyhow::{Context, bail};
use mesh_api::proxy::{ProxyConfig, RouteAction, SecretDump};
use mesh_control_plane::client::AdminClient;
use mesh_control_plane::registry::Workload;

use crate::cli::{GlobalArgs, ProxyConfigArgs, ProxyConfigKind};
use crate::commands::mesh::{self, date, until};
use crate::output::Output;

/// The connected workload whose proxy id is `name`, or starts with it (uniquely).
pub async fn find_proxy(admin: &AdminClient, name: &str) -> anyhow::Result<Workload> {
    let workloads: Vec<Workload> = admin.get("/v1/workloads").await?;
    if let Some(w) = workloads.iter().find(|w| w.proxy_id == name) {
        return Ok(w.clone());
    }
    let matches: Vec<&Workload> = workloads
        .iter()
        .filter(|w| w.proxy_id.starts_with(name))
        .collect();
    match matches.as_slice() {
        [w] => Ok((*w).clone()),
        [] => bail!("no connected proxy named {name:?}; see `meshctl get workloads -A`"),
        many => bail!(
            "{name:?} names {} proxies ({}); give more of the id",
            many.len(),
            many.iter()
                .map(|w| w.proxy_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The proxy's own `/config_dump`: its running config and per-type status.
pub async fn config_dump(w: &Workload) -> anyhow::Result<serde_json::Value> {
    let addr = w
        .admin_address
        .parse()
        .with_context(|| format!("admin address of {}", w.proxy_id))?;
    AdminClient::new(addr)
        .get("/config_dump")
        .await
        .with_context(|| format!("read the config of {} from its admin endpoint", w.proxy_id))
}

/// The proxy's own `/certs`: its workload certificate and trust bundle (no key).
pub async fn secrets(w: &Workload) -> anyhow::Result<SecretDump> {
    let addr = w
        .admin_address
        .parse()
        .with_context(|| format!("admin address of {}", w.proxy_id))?;
    AdminClient::new(addr).get("/certs").await.with_context(|| {
        format!(
            "read the certificates of {} from its admin endpoint",
            w.proxy_id
        )
    })
}

fn show_secret(d: &SecretDump, out: &Output) -> anyhow::Result<()> {
    if out.is_data() {
        return Ok(out.data(d)?);
    }
    let leaf = d.cert_chain.first();
    let mut rows = vec![vec![
        "default".into(),
        "Cert Chain".into(),
        d.state.clone(),
        leaf.and_then(|c| c.spiffe_id.clone())
            .unwrap_or_else(|| "-".into()),
        leaf.map_or_else(|| "-".into(), |c| c.serial.clone()),
        leaf.map_or_else(|| "-".into(), |c| date(c.not_before_unix)),
        leaf.map_or_else(
            || "-".into(),
            |c| format!("{} ({})", date(c.not_after_unix), until(c.not_after_unix)),
        ),
    ]];
    for c in d.cert_chain.iter().skip(1) {
        rows.push(vec![
            "default".into(),
            "Intermediate".into(),
            d.state.clone(),
            c.subject.clone(),
            c.serial.clone(),
            date(c.not_before_unix),
            format!("{} ({})", date(c.not_after_unix), until(c.not_after_unix)),
        ]);
    }
    for c in &d.trust_bundle {
        rows.push(vec![
            "ROOTCA".into(),
            "CA".into(),
            d.state.clone(),
            c.subject.clone(),
            c.serial.clone(),
            date(c.not_before_unix),
            format!("{} ({})", date(c.not_after_unix), until(c.not_after_unix)),
        ]);
    }
    out.table(
        &[
            "resource name",
            "type",
            "status",
            "identity / subject",
            "serial",
            "not before",
            "not after",
        ],
        &rows,
    )?;
    if let Some(at) = d.renew_at_unix {
        out.line(&format!("next renewal: {} (in {})", date(at), until(at)))?;
    }
    if let Some(e) = &d.last_error {
        out.line(&format!("last request to the CA failed: {e}"))?;
    }
    if d.state == "DISABLED" {
        out.line("this proxy runs without a workload identity (started without --token-file)")?;
    }
    Ok(())
}

pub fn run(args: &ProxyConfigArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    if args.what == ProxyConfigKind::Secret {
        let dump = rt.block_on(async {
            let w = find_proxy(&admin, &args.name).await?;
            secrets(&w).await
        })?;
        return show_secret(&dump, out);
    }
    let (w, dump) = rt.block_on(async {
        let w = find_proxy(&admin, &args.name).await?;
        let dump = config_dump(&w).await?;
        anyhow::Ok((w, dump))
    })?;
    let config: ProxyConfig =
        serde_json::from_value(dump["config"].clone()).context("decode the proxy's config")?;
    if out.is_data() {
        let section = match args.what {
            ProxyConfigKind::Listeners => serde_json::to_value(&config.listeners)?,
            ProxyConfigKind::Clusters => serde_json::to_value(&config.clusters)?,
            ProxyConfigKind::Endpoints => serde_json::to_value(&config.endpoints)?,
            ProxyConfigKind::Routes => serde_json::to_value(&config.routes)?,
            ProxyConfigKind::All | ProxyConfigKind::Secret => dump,
        };
        return Ok(out.data(&section)?);
    }
    let show = |k: ProxyConfigKind| args.what == k || args.what == ProxyConfigKind::All;
    if show(ProxyConfigKind::Listeners) {
        let mut rows = vec![
            vec![
                "outbound".into(),
                w.outbound_address.clone(),
                "-".into(),
                "HTTP proxy for the app".into(),
            ],
            vec![
                "inbound".into(),
                w.inbound_address.clone(),
                "-".into(),
                "traffic from other sidecars".into(),
            ],
        ];
        for p in &config.listeners.inbound {
            rows.push(vec![
                format!("inbound|{}", p.port),
                format!("127.0.0.1:{}", p.app_port),
                format!("{:?}", p.protocol).to_uppercase(),
                format!("service port {} -> app", p.port),
            ]);
        }
        out.table(&["listener", "address", "protocol", "what"], &rows)?;
    }
    if show(ProxyConfigKind::Clusters) {
        let rows: Vec<Vec<String>> = config
            .clusters
            .iter()
            .map(|c| {
                vec![
                    c.service.clone(),
                    c.port.to_string(),
                    c.subset.clone().unwrap_or_else(|| "-".into()),
                    format!("{:?}", c.protocol).to_uppercase(),
                    match &c.hash {
                        Some(h) => format!("HASH {}", hash(h)),
                        None => format!("{:?}", c.lb_policy),
                    },
                    cluster_tls(c),
                    cluster_policies(c),
                ]
            })
            .collect();
        out.table(
            &[
                "service fqdn",
                "port",
                "subset",
                "protocol",
                "lb policy",
                "tls",
                "policies",
            ],
            &rows,
        )?;
    }
    if show(ProxyConfigKind::Endpoints) {
        let rows: Vec<Vec<String>> = config
            .endpoints
            .iter()
            .flat_map(|ce| {
                ce.endpoints.iter().map(move |e| {
                    vec![
                        e.address.clone(),
                        "HEALTHY".into(),
                        ce.cluster.clone(),
                        e.proxy_id.clone(),
                    ]
                })
            })
            .collect();
        out.table(&["endpoint", "status", "cluster", "proxy"], &rows)?;
    }
    if show(ProxyConfigKind::Routes) {
        let mut rows = Vec::new();
        for vh in &config.routes.virtual_hosts {
            for r in &vh.routes {
                rows.push(vec![
                    vh.name.clone(),
                    domains(&vh.domains),
                    r.name.clone(),
                    if r.matches.is_empty() {
                        "/*".into()
                    } else {
                        format!("{} match(es)", r.matches.len())
                    },
                    action(&r.action),
                    route_policies(r),
                    r.origin.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            if vh.routes.is_empty() {
                rows.push(vec![
                    vh.name.clone(),
                    domains(&vh.domains),
                    "-".into(),
                    "-".into(),
                    "404 (no route)".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
        for ts in &config.routes.tcp_services {
            for r in &ts.routes {
                let forward = mesh_api::proxy::Forward {
                    clusters: r.clusters.clone(),
                    ..Default::default()
                };
                rows.push(vec![
                    format!("{} (tcp)", ts.name),
                    domains(&ts.domains),
                    r.name.clone(),
                    if r.sni_hosts.is_empty() {
                        "*".into()
                    } else {
                        format!("sni {}", r.sni_hosts.join(","))
                    },
                    action(&RouteAction::Forward(forward)),
                    "-".into(),
                    r.origin.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
        }
        out.table(
            &[
                "virtual host",
                "domains",
                "route",
                "match",
                "action",
                "policies",
                "from",
            ],
            &rows,
        )?;
    }
    Ok(())
}

fn domains(d: &[String]) -> String {
    let short: Vec<&str> = d
        .iter()
        .filter(|s| !s.contains(':'))
        .map(String::as_str)
        .collect();
    let shown = short.iter().take(2).copied().collect::<Vec<_>>().join(", ");
    if short.len() > 2 {
        format!("{shown} +{} more", short.len() - 2)
    } else {
        shown
    }
}

fn action(a: &RouteAction) -> String {
    match a {
        RouteAction::Forward(f) => {
            let total: u64 = f.clusters.iter().map(|c| u64::from(c.weight)).sum();
            f.clusters
                .iter()
                .map(|c| {
                    let short = c.cluster.split('|').collect::<Vec<_>>();
                    let name = match short.as_slice() {
                        [_, port, "", host] => format!("{host}:{port}"),
                        [_, port, subset, host] => format!("{host}:{port} {subset}"),
                        _ => c.cluster.clone(),
                    };
                    if f.clusters.len() > 1 {
                        let pct = u64::from(c.weight) as f64 * 100.0 / total.max(1) as f64;
                        format!("{name} {pct:.0}%")
                    } else {
                        name
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        RouteAction::DirectResponse { status, .. } => format!("respond {status}"),
        RouteAction::Redirect { status, .. } => format!("redirect {status}"),
    }
}

/// A route's policies in a few words: `timeout 1s, retry 2 (5xx), fault abort 500 10%`.
fn route_policies(r: &mesh_api::proxy::Route) -> String {
    let mut out = Vec::new();
    if let RouteAction::Forward(f) = &r.action {
        if let Some(t) = &f.timeout {
            out.push(format!("timeout {t}"));
        }
        if let Some(rt) = &f.retry {
            out.push(format!("retry {} ({})", rt.attempts, rt.retry_on.join(",")));
        }
        for m in &f.mirrors {
            out.push(format!("mirror {}%", m.percent));
        }
    }
    if let Some(fault) = &r.fault {
        if let Some(d) = &fault.delay {
            out.push(format!("fault delay {} {}%", d.delay, d.percent));
        }
        if let Some(a) = &fault.abort {
            match (a.http_status, a.grpc_status) {
                (_, Some(g)) => out.push(format!("fault abort grpc {g} {}%", a.percent)),
                (Some(h), None) => out.push(format!("fault abort {h} {}%", a.percent)),
                (None, None) => {}
            }
        }
    }
    if !r.headers.is_empty() {
        out.push("headers".into());
    }
    if r.cors.is_some() {
        out.push("cors".into());
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(", ")
    }
}

fn hash(h: &mesh_api::proxy::HashPolicy) -> String {
    use mesh_api::proxy::HashPolicy;
    match h {
        HashPolicy::Header(n) => format!("header {n}"),
        HashPolicy::Cookie { name, .. } => format!("cookie {name}"),
        HashPolicy::SourceIp => "source ip".into(),
        HashPolicy::QueryParameter(n) => format!("query {n}"),
    }
}

/// A cluster's limits and outlier detection in a few words.
/// The cluster's TLS to its endpoints: auto mTLS, DISABLE, ISTIO_MUTUAL, or the
/// origination's mode and server name (`SIMPLE sni=api.example.com`).
fn cluster_tls(c: &mesh_api::proxy::Cluster) -> String {
    use mesh_api::proxy::ClusterTls;
    let mode = match c.tls {
        ClusterTls::Auto => return "auto".into(),
        ClusterTls::Disable => return "DISABLE".into(),
        ClusterTls::IstioMutual => return "ISTIO_MUTUAL".into(),
        ClusterTls::Simple => "SIMPLE",
        ClusterTls::Mutual => "MUTUAL",
    };
    match &c.origination {
        Some(o) => format!("{mode} sni={}", o.sni),
        None => mode.into(),
    }
}

fn cluster_policies(c: &mesh_api::proxy::Cluster) -> String {
    let mut out = Vec::new();
    let l = &c.limits;
    for (what, v) in [
        ("maxConnections", l.max_connections),
        ("maxPending", l.max_pending_requests),
        ("maxRequests", l.max_requests),
        ("maxRetries", l.max_retries),
    ] {
        if let Some(v) = v {
            out.push(format!("{what} {v}"));
        }
    }
    if let Some(o) = &c.outlier {
        out.push(format!(
            "outlier {}x5xx/{}, eject {}",
            o.consecutive_5xx, o.interval, o.base_ejection_time
        ));
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(", ")
    }
}
