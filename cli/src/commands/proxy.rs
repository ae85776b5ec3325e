//! `meshctl proxy run`: a sidecar in the foreground (what `meshctl run` starts).
//!
//! Binds the three listeners, prints their addresses as one JSON line on stdout
//! (how `meshctl run` learns them), then serves while the discovery client keeps
//! its config current. The control plane going away does not stop it.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, bail};
use mesh_api::discovery::{Hello, ServicePort};
use mesh_proxy::authz::audit::AuditLog;
use mesh_proxy::discovery::{self, DiscoveryOptions};
use mesh_proxy::identity::{self, GrpcSigner, IdentityHandle, IdentityOptions};
use mesh_proxy::{Proxy, ProxyOptions};

use crate::cli::{GlobalArgs, ProxyCommand, ProxyRunArgs};
use crate::commands::run::SidecarAddresses;
use crate::commands::{mesh, signals};

fn parse_port(s: &str) -> anyhow::Result<ServicePort> {
    let mut parts = s.split(':');
    let port: u32 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("--port {s:?}: expected PORT:APP_PORT[:PROTOCOL]"))?;
    let app_port: u32 = parts
        .next()
        .map_or(Ok(port), |p| p.parse())
        .with_context(|| format!("--port {s:?}: expected PORT:APP_PORT[:PROTOCOL]"))?;
    let protocol = parts.next().unwrap_or("http").to_owned();
    Ok(ServicePort {
        port,
        app_port,
        name: protocol.clone(),
        protocol,
    })
}

fn parse_label(s: &str) -> anyhow::Result<(String, String)> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .with_context(|| format!("--label {s:?}: expected KEY=VALUE"))
}

pub fn run(cmd: &ProxyCommand, g: &GlobalArgs) -> anyhow::Result<()> {
    let ProxyCommand::Run(args) = cmd;
    let log_control = crate::logging::init_reloadable(&args.log_level)?;
    let discovery_address = match &args.discovery_address {
        Some(a) if a.starts_with("http") => a.clone(),
        Some(a) => format!("http://{a}"),
        None => match mesh::running(&mesh::home(g)) {
            Some(s) => format!("http://{}", s.discovery_address),
            None => bail!("no control plane: pass --discovery-address or run `meshctl install`"),
        },
    };
    let labels = args
        .labels
        .iter()
        .map(|l| parse_label(l))
        .collect::<anyhow::Result<std::collections::HashMap<_, _>>>()?;
    let ports = args
        .ports
        .iter()
        .map(|p| parse_port(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let version = labels
        .get("version")
        .cloned()
        .unwrap_or_else(|| "v1".into());
    let proxy_id = args.proxy_id.clone().unwrap_or_else(|| {
        crate::commands::run::proxy_id(&args.service, &version, &args.proxy_namespace)
    });
    // One thread: a sidecar shares its host with the app it serves.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start runtime")?;
    rt.block_on(serve(
        args,
        proxy_id,
        discovery_address,
        labels,
        ports,
        log_control,
    ))
}

async fn serve(
    args: &ProxyRunArgs,
    proxy_id: String,
    discovery_address: String,
    labels: std::collections::HashMap<String, String>,
    ports: Vec<ServicePort>,
    log_control: Arc<dyn mesh_proxy::LogControl>,
) -> anyhow::Result<()> {
    let identity = if args.token_file.is_some() {
        IdentityHandle::new()
    } else {
        IdentityHandle::disabled()
    };
    let audit = match &args.audit_log {
        Some(path) => AuditLog::to_file(path)
            .await
            .with_context(|| format!("open the audit log {}", path.display()))?,
        None => AuditLog::to_tracing(),
    };
    let proxy = Proxy::new(ProxyOptions {
        audit,
        proxy_id: proxy_id.clone(),
        outbound: args.outbound_address,
        inbound: args.inbound_address,
        admin: args.admin_address,
        log_control: Some(log_control),
        identity: identity.clone(),
        workload: mesh_proxy::telemetry::Workload::new(
            &args.service,
            &args.proxy_namespace,
            &args.service_account,
            &labels,
        ),
    });
    let bound = proxy.bind().await.context("bind the sidecar's listeners")?;
    let addresses = SidecarAddresses {
        proxy_id: proxy_id.clone(),
        outbound: bound.outbound_addr().to_string(),
        inbound: bound.inbound_addr().to_string(),
        admin: bound.admin_addr().to_string(),
    };
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", serde_json::to_string(&addresses)?)?;
        stdout.flush()?;
    }
    let hello = Hello {
        proxy_id: proxy_id.clone(),
        service: args.service.clone(),
        namespace: args.proxy_namespace.clone(),
        service_account: args.service_account.clone(),
        labels,
        inbound_address: addresses.inbound.clone(),
        ports,
        admin_address: addresses.admin.clone(),
        proxy_version: env!("CARGO_PKG_VERSION").into(),
        outbound_address: addresses.outbound.clone(),
        // Probed by the discovery client before it says hello.
        app_ready: false,
        // The discovery client says which encodings it decodes and which
        // types it applies as deltas.
        accept_encodings: Vec::new(),
        accept_deltas: Vec::new(),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // Certificate requests share the discovery stream's connection.
    let channel = discovery::ControlChannel::default();
    let certs = args.token_file.clone().map(|token_file| {
        tokio::spawn(identity::run_client(
            IdentityOptions::new(proxy_id.clone(), token_file),
            Arc::new(GrpcSigner {
                address: discovery_address.clone(),
                shared: channel.clone(),
            }),
            identity.clone(),
            stopped(stop_rx.clone()),
        ))
    });
    let sink: Arc<dyn discovery::ConfigSink> = Arc::new(bound.config());
    let client = tokio::spawn(discovery::run(
        DiscoveryOptions {
            identity,
            channel,
            ..DiscoveryOptions::new(discovery_address, hello)
        },
        sink,
        stopped(stop_rx.clone()),
    ));
    let serving = tokio::spawn(bound.run(stopped(stop_rx)));
    signals::terminated().await;
    tracing::info!(proxy = %proxy_id, "stopping");
    let _ = stop_tx.send(true);
    let _ = client.await;
    if let Some(c) = certs {
        let _ = c.await;
    }
    serving.await.context("proxy task")?.context("proxy")?;
    Ok(())
}
