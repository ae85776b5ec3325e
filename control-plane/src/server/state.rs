//! What the discovery server knows about each connected proxy, and the push logic:
//! compile every proxy's config from one snapshot of the mesh, and send each type
//! whose content changed, with a new version and nonce.

use std::sync::{Arc, Mutex, MutexGuard};

use mesh_api::proxy::{PUSH_ORDER, ProxyConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::conns::{Conn, Conns};
use super::payloads::Round;
use crate::compiler::{MeshIndex, MeshState};
use crate::registry::Workload;
use crate::store::{Store, StoreError};

/// Where a pushed type stands for one proxy, as `proxy-status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncStatus {
    /// The proxy acknowledged the last push.
    Synced,
    /// A push is out and not yet acknowledged.
    Stale,
    /// Nothing of this type was sent yet.
    NotSent,
    /// The proxy rejected the last push (NACK) and runs an older version.
    Error,
}

/// What `proxy-status` reports per proxy and type.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeStatus {
    pub type_url: String,
    pub status: SyncStatus,
    pub sent_version: String,
    pub acked_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For STALE: how long the push has waited for an answer, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyStatus {
    pub proxy_id: String,
    /// The config store revision the proxy's config was compiled from.
    pub revision: u64,
    pub service: String,
    pub namespace: String,
    /// The proxy's own version, as it introduced itself.
    pub proxy_version: String,
    pub types: Vec<TypeStatus>,
}

/// Shared by the discovery streams, the push loop and the admin API.
#[derive(Debug)]
pub struct Shared {
    pub store: Arc<Store>,
    registry_rev: watch::Sender<u64>,
    conns: Mutex<Conns>,
    next_id: std::sync::atomic::AtomicU64,
    pushes: std::sync::atomic::AtomicU64,
    /// The CA, once the server has loaded it (tests may run without one).
    authority: std::sync::OnceLock<Arc<crate::ca::Authority>>,
    /// What the last push round left: its index, views and payload buffers,
    /// reused when unchanged.
    previous: Mutex<super::payloads::Previous>,
    /// Pushes, rejects and ACK latency, for `/metrics`.
    pub metrics: super::metrics::Metrics,
    /// The mesh config compiled into every proxy's telemetry (set once at start).
    mesh_config: std::sync::OnceLock<mesh_api::mesh_config::MeshConfig>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere; the data is still consistent for our
    // uses (each critical section is a few assignments).
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn new(store: Arc<Store>) -> Arc<Self> {
        let (registry_rev, _) = watch::channel(0);
        Arc::new(Self {
            store,
            registry_rev,
            conns: Mutex::new(Conns::default()),
            next_id: std::sync::atomic::AtomicU64::new(1),
            pushes: std::sync::atomic::AtomicU64::new(0),
            authority: std::sync::OnceLock::new(),
            previous: Mutex::new(super::payloads::Previous::default()),
            metrics: super::metrics::Metrics::default(),
            mesh_config: std::sync::OnceLock::new(),
        })
    }

    /// Gives the server its mesh config (once, before proxies connect).
    pub fn set_mesh_config(&self, mesh: mesh_api::mesh_config::MeshConfig) {
        let _ = self.mesh_config.set(mesh);
    }

    /// Give the server its CA (once).
    pub fn set_authority(&self, authority: Arc<crate::ca::Authority>) {
        let _ = self.authority.set(authority);
    }

    /// The CA, if this server has one.
    pub fn authority(&self) -> Option<Arc<crate::ca::Authority>> {
        self.authority.get().cloned()
    }

    /// A proxy opened a stream and said who it is. Returns the stream's id. A
    /// reconnecting proxy replaces its previous stream.
    /// `gzip`: the proxy decodes gzip-compressed payloads.
    /// `deltas`: it applies route deltas.
    pub fn connect(
        &self,
        mut workload: Workload,
        tx: super::conns::PushTx,
        gzip: bool,
        deltas: bool,
    ) -> u64 {
        let stream_id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        workload.connected_unix = crate::unix_now();
        let mut conn = Conn::new(stream_id, workload, tx);
        conn.gzip = gzip;
        conn.deltas = deltas;
        lock(&self.conns).insert(conn);
        self.registry_rev.send_modify(|r| *r += 1);
        stream_id
    }

    /// A stream ended. Only the stream that is current for the proxy removes it.
    pub fn disconnect(&self, proxy_id: &str, stream_id: u64) {
        let mut conns = lock(&self.conns);
        if conns
            .map
            .get(proxy_id)
            .is_some_and(|c| c.stream_id == stream_id)
        {
            let sent = conns.remove(proxy_id, &mut || self.nonce());
            drop(conns);
            self.count(sent);
            self.registry_rev.send_modify(|r| *r += 1);
        }
    }

    /// The app behind a proxy became ready (or stopped being ready).
    pub fn set_ready(&self, proxy_id: &str, stream_id: u64, ready: bool) {
        let mut conns = lock(&self.conns);
        let Some(conn) = conns
            .map
            .get_mut(proxy_id)
            .filter(|c| c.stream_id == stream_id)
        else {
            return;
        };
        if conn.workload.app_ready != ready {
            conn.workload.app_ready = ready;
            drop(conns);
            tracing::info!(proxy = proxy_id, ready, "app readiness changed");
            self.registry_rev.send_modify(|r| *r += 1);
        }
    }

    /// A proxy answered a push.
    pub fn answer(&self, proxy_id: &str, stream_id: u64, ack: &mesh_api::discovery::Ack) {
        let mut conns = lock(&self.conns);
        let Some(conn) = conns
            .map
            .get_mut(proxy_id)
            .filter(|c| c.stream_id == stream_id)
        else {
            return;
        };
        let Some(type_url) = PUSH_ORDER.into_iter().find(|t| *t == ack.type_url) else {
            return;
        };
        let Some(t) = conn.types.get_mut(type_url) else {
            return;
        };
        if ack.nonce != t.sent_nonce {
            // An answer to an older push; the newer one is still pending.
            return;
        }
        t.answered_nonce = ack.nonce.clone();
        t.acked_version = ack.version.clone();
        t.nack = (!ack.error.is_empty()).then(|| ack.error.clone());
        if let Some(at) = t.sent_at {
            self.metrics
                .answered(type_url, at.elapsed(), t.nack.is_some());
        }
        if let Some(err) = &t.nack {
            tracing::warn!(proxy = proxy_id, type_url = %ack.type_url, error = %err, delta = t.sent_delta, "proxy rejected config (NACK)");
            if t.sent_delta {
                t.delta_rejected();
            }
        }
        let sent = conns.answered(proxy_id, &mut || self.nonce());
        self.record_pushes(&mut conns);
        drop(conns);
        self.count(sent);
    }

    /// Counts the pushes the connection table just sent, by type, for `/metrics`.
    fn record_pushes(&self, conns: &mut Conns) {
        for type_url in conns.sent_types.drain(..) {
            self.metrics.pushed(type_url);
        }
    }

    /// Give the turns of proxies that stopped answering to waiting ones.
    pub fn reclaim_stuck(&self) {
        let mut conns = lock(&self.conns);
        let sent = conns.reclaim_stuck(&mut || self.nonce());
        self.record_pushes(&mut conns);
        drop(conns);
        self.count(sent);
    }

    fn nonce(&self) -> String {
        self.next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string()
    }

    fn count(&self, pushes: usize) {
        self.pushes
            .fetch_add(pushes as u64, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn registry_changes(&self) -> watch::Receiver<u64> {
        self.registry_rev.subscribe()
    }

    pub fn workloads(&self) -> Vec<Workload> {
        // The registry is the set of open streams: a workload is in the mesh while
        // its sidecar is connected.
        let mut w: Vec<Workload> = lock(&self.conns)
            .map
            .values()
            .map(|c| c.workload.clone())
            .collect();
        w.sort_by(|a, b| a.proxy_id.cmp(&b.proxy_id));
        w
    }

    /// Run `f` on the connection table (for the certificate reports).
    pub(super) fn with_conns<R>(&self, f: impl FnOnce(&mut Conns) -> R) -> R {
        f(&mut lock(&self.conns))
    }

    /// Pushes sent since start.
    pub fn push_count(&self) -> u64 {
        self.pushes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The config the control plane would send `proxy_id` now.
    pub fn compile_for(&self, proxy_id: &str) -> Result<Option<ProxyConfig>, StoreError> {
        let (index, workloads) = self.snapshot()?;
        Ok(workloads
            .iter()
            .find(|w| w.proxy_id == proxy_id)
            .map(|w| index.compile_for(w)))
    }

    /// One consistent view of the mesh: the stored resources and the connected
    /// workloads, indexed once for every proxy compiled from it.
    fn snapshot(&self) -> Result<(MeshIndex, Vec<Workload>), StoreError> {
        let resources = self.store.resources()?;
        let workloads = self.workloads();
        let mut index = MeshIndex::new(&MeshState {
            resources: &resources,
            workloads: &workloads,
        });
        if let Some(mesh) = self.mesh_config.get() {
            index = index.with_mesh_config(mesh);
        }
        Ok((index, workloads))
    }

    /// Compile every connected proxy's config from one snapshot and send each type
    /// whose payload changed. Proxies of one view (namespace and selected labels)
    /// share one compilation and one encoded payload per type. Returns how many
    /// pushes went out.
    pub fn push_all(&self) -> Result<usize, StoreError> {
        // Read before taking the snapshot: it holds at least these generations.
        let revision = self.store.revision();
        let registry_gen = *self.registry_rev.borrow();
        let (index, workloads) = self.snapshot()?;
        let previous = std::mem::take(&mut *lock(&self.previous));
        let mut round = Round::new(Arc::new(index), previous);
        let mut sent = 0;
        // Every connected proxy is a workload: compile for each.
        for w in &workloads {
            let payloads = round.payloads(w);
            let mut conns = lock(&self.conns);
            sent += conns.offer(&w.proxy_id, payloads, (revision, registry_gen), &mut || {
                self.nonce()
            });
            self.record_pushes(&mut conns);
        }
        let (views, compiled) = round.views();
        tracing::debug!(
            proxies = workloads.len(),
            views,
            compiled,
            pushes = sent,
            "push round"
        );
        *lock(&self.previous) = round.finish();
        self.count(sent);
        Ok(sent)
    }

    /// Every proxy's sync state, sorted by proxy id. A proxy whose config was not
    /// yet compiled from the store's current revision and the registry's current
    /// generation is STALE, even if it acknowledged everything it was sent: a
    /// change is on its way.
    pub fn status(&self) -> Vec<ProxyStatus> {
        let current = self.store.revision();
        let current_gen = *self.registry_rev.borrow();
        let conns = lock(&self.conns);
        let mut out: Vec<ProxyStatus> = conns
            .map
            .values()
            .map(|c| ProxyStatus {
                proxy_id: c.workload.proxy_id.clone(),
                revision: c.revision,
                service: c.workload.service.clone(),
                namespace: c.workload.namespace.clone(),
                proxy_version: c.workload.proxy_version.clone(),
                types: PUSH_ORDER
                    .iter()
                    .map(|ty| {
                        let t = c.types.get(ty).cloned().unwrap_or_default();
                        let status = match t.status() {
                            SyncStatus::Synced
                                if c.revision < current || c.registry_gen < current_gen =>
                            {
                                SyncStatus::Stale
                            }
                            s => s,
                        };
                        TypeStatus {
                            type_url: (*ty).to_owned(),
                            status,
                            sent_version: t.sent_version.clone(),
                            acked_version: t.acked_version.clone(),
                            error: t.nack.clone(),
                            pending_ms: (status == SyncStatus::Stale)
                                .then(|| t.sent_at.map(|s| s.elapsed().as_millis() as u64))
                                .flatten(),
                        }
                    })
                    .collect(),
            })
            .collect();
        out.sort_by(|a, b| a.proxy_id.cmp(&b.proxy_id));
        out
    }
}
