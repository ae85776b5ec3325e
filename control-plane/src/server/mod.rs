//! The control-plane process: the store, the discovery server (gRPC) and the admin
//! API (HTTP), bound on loopback, with a state file that tells the CLI where they are.

mod admin;
mod certs;
mod conns;
mod discovery;
mod listen;
mod metrics;
mod payloads;
mod push;
pub mod scrape_targets;
mod state;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use admin::prepare;
pub use discovery::DiscoveryService;
pub use state::{ProxyStatus, Shared, SyncStatus, TypeStatus};

use crate::ca::{Authority, CaSettings};
use crate::store::{Store, StoreError};

/// The file in the mesh home that says where a running control plane listens.
pub const STATE_FILE: &str = "control-plane.json";
pub const STORE_FILE: &str = "store.redb";

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("bind {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("write {path}: {source}")]
    StateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("discovery server: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error("the mesh CA: {0}")]
    Ca(#[from] crate::ca::CaError),
}

#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub home: PathBuf,
    pub discovery: SocketAddr,
    pub admin: SocketAddr,
    /// How the CA signs (its key and certificates are in `home/ca/`, created if missing).
    pub ca: CaSettings,
    /// Keep a Prometheus `file_sd` targets file of every proxy here.
    pub scrape_targets: Option<PathBuf>,
    /// Access logging and tracing defaults, compiled into every proxy's config.
    pub mesh_config: mesh_api::mesh_config::MeshConfig,
}

/// Written after the listeners are bound, removed on a clean exit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateFile {
    pub pid: u32,
    pub discovery_address: String,
    pub admin_address: String,
    pub version: String,
    pub started_unix: u64,
}

impl StateFile {
    pub fn read(home: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(home.join(STATE_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Write atomically: a reader sees the old file or the new one, never half.
    fn write(&self, home: &Path) -> Result<(), ServerError> {
        let path = home.join(STATE_FILE);
        let tmp = home.join(format!("{STATE_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| ServerError::StateFile { path, source })
    }
}

/// Run the control plane until `shutdown` resolves.
pub async fn run(
    opts: ServerOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    std::fs::create_dir_all(&opts.home).map_err(|source| ServerError::StateFile {
        path: opts.home.clone(),
        source,
    })?;
    let store = Arc::new(Store::open(&opts.home.join(STORE_FILE))?);
    let shared = Shared::new(store);
    shared.set_mesh_config(opts.mesh_config.clone());
    let authority = Authority::open(opts.home.clone(), opts.ca.clone())?;
    if let Some(phase) = authority.rotation_phase() {
        tracing::info!(
            phase = phase.as_str(),
            "a CA rotation is in progress; run `meshctl ca rotate` to continue it"
        );
    }
    shared.set_authority(Arc::new(authority));
    let discovery = listen::listen(opts.discovery).map_err(|source| ServerError::Bind {
        what: "discovery",
        addr: opts.discovery,
        source,
    })?;
    let admin = listen::listen(opts.admin).map_err(|source| ServerError::Bind {
        what: "admin",
        addr: opts.admin,
        source,
    })?;
    let discovery_addr = discovery.local_addr().map_err(|source| ServerError::Bind {
        what: "discovery",
        addr: opts.discovery,
        source,
    })?;
    let admin_addr = admin.local_addr().map_err(|source| ServerError::Bind {
        what: "admin",
        addr: opts.admin,
        source,
    })?;
    let state = StateFile {
        pid: std::process::id(),
        discovery_address: discovery_addr.to_string(),
        admin_address: admin_addr.to_string(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_unix: crate::unix_now(),
    };
    tracing::info!(discovery = %discovery_addr, admin = %admin_addr, revision = shared.store.revision(), trust_domain = %opts.ca.trust_domain, workload_cert_ttl_s = opts.ca.workload_ttl.as_secs(), "control plane ready");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    tokio::spawn(push::run(shared.clone()));
    if let Some(path) = opts.scrape_targets.clone() {
        tokio::spawn(scrape_targets::run(
            shared.clone(),
            path,
            admin_addr.to_string(),
        ));
    }
    let admin_task = tokio::spawn(admin::serve(
        admin,
        shared.clone(),
        discovery_addr.to_string(),
        stopped(stop_rx.clone()),
    ));
    let grpc = tonic::transport::Server::builder()
        .add_service(wire::WireDiscovery::new(DiscoveryService::new(
            shared.clone(),
        )))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(discovery).with_nodelay(Some(true)),
            stopped(stop_rx),
        );
    state.write(&opts.home)?;
    let grpc_task = tokio::spawn(grpc);
    shutdown.await;
    tracing::info!("control plane stopping");
    let _ = stop_tx.send(true);
    let _ = admin_task.await;
    // Open discovery streams end with the process; proxies keep their config and
    // reconnect to the next control plane.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), grpc_task).await;
    let _ = std::fs::remove_file(opts.home.join(STATE_FILE));
    Ok(())
}
