//! Config intake: decode, validate and compile each pushed discovery type, then
//! swap the running config atomically. A rejected push leaves the running config
//! untouched and records why (the caller NACKs with that message).

mod compile;
pub(crate) mod matcher;
mod tcp;

use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use mesh_api::proxy::{
    Cluster, ClusterEndpoints, Listeners, PUSH_ORDER, ProxyConfig, RouteConfig, RoutesDelta,
    TYPE_CLUSTERS, TYPE_ENDPOINTS, TYPE_LISTENERS, TYPE_ROUTES,
};
use serde::Serialize;

pub(crate) use compile::{RtAction, RtForward, RtRoute, RtVirtualHost, Snapshot, split_host_port};
pub(crate) use tcp::{RtTcpService, TcpTarget};

use crate::error::ConfigError;

/// Where one discovery type stands: what runs and what was last refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeStatus {
    /// The version of the running payload; `None` until one was accepted.
    pub version: Option<String>,
    /// The message of the last rejected push, cleared by the next accepted one.
    pub last_error: Option<String>,
    /// How many pushes were accepted.
    pub applies: u64,
    /// How many pushes were rejected.
    pub rejects: u64,
}

/// The running config of the proxy: cheap to clone, shared by the listeners and
/// whoever receives pushes.
#[derive(Debug, Clone, Default)]
pub struct ConfigStore {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    running: ArcSwap<Snapshot>,
    state: Mutex<State>,
    /// Whether the discovery stream is open (for the metrics).
    connected: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    raw: ProxyConfig,
    /// Indexed like [`PUSH_ORDER`].
    types: [TypeStatus; 4],
}

fn type_index(type_url: &str) -> Option<usize> {
    PUSH_ORDER.iter().position(|t| *t == type_url)
}

fn decode<T: serde::de::DeserializeOwned>(
    type_url: &str,
    payload: &[u8],
) -> Result<T, ConfigError> {
    serde_json::from_slice(payload).map_err(|e| ConfigError::Decode {
        type_url: type_url.to_string(),
        message: e.to_string(),
    })
}

impl ConfigStore {
    /// An empty store: nothing routes and the proxy is not ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records whether the discovery stream to the control plane is open.
    pub fn set_connected(&self, connected: bool) {
        self.inner
            .connected
            .store(connected, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the discovery stream to the control plane is open.
    pub fn connected(&self) -> bool {
        self.inner
            .connected
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies one pushed discovery type (`listeners`, `clusters`, `endpoints`,
    /// `routes`) with its version. On error nothing changes but the type's
    /// `last_error`, and the error's message is the NACK detail.
    pub fn apply(&self, type_url: &str, version: &str, payload: &[u8]) -> Result<(), ConfigError> {
        let idx = type_index(type_url).ok_or_else(|| ConfigError::UnknownType(type_url.into()))?;
        let mut st = self.state();
        let result = self.try_apply(&st.raw, type_url, payload);
        self.settle(&mut st, idx, type_url, version, result)
    }

    /// Applies a delta push: `payload` changes the running config of
    /// `base_version` into `version` (routes only). Refused, changing nothing
    /// but `last_error`, when the proxy does not run `base_version`.
    pub fn apply_delta(
        &self,
        type_url: &str,
        base_version: &str,
        version: &str,
        payload: &[u8],
    ) -> Result<(), ConfigError> {
        let idx = type_index(type_url).ok_or_else(|| ConfigError::UnknownType(type_url.into()))?;
        let mut st = self.state();
        let result = if type_url != TYPE_ROUTES {
            Err(ConfigError::Delta {
                type_url: type_url.to_string(),
                message: "deltas are only applied to routes".into(),
            })
        } else if st.types[idx].version.as_deref() != Some(base_version) {
            Err(ConfigError::Delta {
                type_url: type_url.to_string(),
                message: format!(
                    "the delta is against version {base_version:?} but this proxy runs {:?}",
                    st.types[idx].version.as_deref().unwrap_or("")
                ),
            })
        } else {
            decode::<RoutesDelta>(type_url, payload).and_then(|delta| {
                let mut routes = st.raw.routes.clone();
                delta
                    .apply(&mut routes)
                    .map_err(|message| ConfigError::Delta {
                        type_url: type_url.to_string(),
                        message,
                    })?;
                self.compile_with(&st.raw, type_url, |raw| raw.routes = routes)
            })
        };
        self.settle(&mut st, idx, type_url, version, result)
    }

    /// Records the outcome of a push of type `idx`: an accepted config runs
    /// from now on; a rejected one only sets `last_error`.
    fn settle(
        &self,
        st: &mut State,
        idx: usize,
        type_url: &str,
        version: &str,
        result: Result<(ProxyConfig, Snapshot), ConfigError>,
    ) -> Result<(), ConfigError> {
        let status = &mut st.types[idx];
        match result {
            Ok((raw, snap)) => {
                status.version = Some(version.to_string());
                status.last_error = None;
                status.applies += 1;
                st.raw = raw;
                self.inner.running.store(Arc::new(snap));
                tracing::debug!(type_url, version, "config applied");
                Ok(())
            }
            Err(e) => {
                status.last_error = Some(e.to_string());
                status.rejects += 1;
                tracing::warn!(type_url, version, error = %e, "config rejected");
                Err(e)
            }
        }
    }

    fn try_apply(
        &self,
        current: &ProxyConfig,
        type_url: &str,
        payload: &[u8],
    ) -> Result<(ProxyConfig, Snapshot), ConfigError> {
        match type_url {
            TYPE_LISTENERS => {
                let v = decode::<Listeners>(type_url, payload)?;
                self.compile_with(current, type_url, |raw| raw.listeners = v)
            }
            TYPE_CLUSTERS => {
                let v = decode::<Vec<Cluster>>(type_url, payload)?;
                self.compile_with(current, type_url, |raw| raw.clusters = v)
            }
            TYPE_ENDPOINTS => {
                let v = decode::<Vec<ClusterEndpoints>>(type_url, payload)?;
                self.compile_with(current, type_url, |raw| raw.endpoints = v)
            }
            TYPE_ROUTES => {
                let v = decode::<RouteConfig>(type_url, payload)?;
                self.compile_with(current, type_url, |raw| raw.routes = v)
            }
            other => Err(ConfigError::UnknownType(other.into())),
        }
    }

    /// `current` changed by `change`, and compiled.
    fn compile_with(
        &self,
        current: &ProxyConfig,
        type_url: &str,
        change: impl FnOnce(&mut ProxyConfig),
    ) -> Result<(ProxyConfig, Snapshot), ConfigError> {
        let mut raw = current.clone();
        change(&mut raw);
        let prev = self.inner.running.load();
        match compile::compile(&raw, &prev) {
            Ok(snap) => Ok((raw, snap)),
            Err(problems) => Err(ConfigError::Invalid {
                type_url: type_url.to_string(),
                problems: problems.into_iter().map(|(_, p)| p).collect(),
            }),
        }
    }

    /// Replaces the whole config at once (every type, one version); for tests and
    /// local mode.
    pub fn apply_all(&self, version: &str, cfg: &ProxyConfig) -> Result<(), ConfigError> {
        for t in PUSH_ORDER {
            let payload = cfg
                .encode(t)
                .ok_or_else(|| ConfigError::UnknownType(t.into()))?;
            self.apply(t, version, &payload)?;
        }
        Ok(())
    }

    /// The compiled running config (one atomic load).
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.running.load_full()
    }

    /// The running config as pushed.
    pub fn raw(&self) -> ProxyConfig {
        self.state().raw.clone()
    }

    /// One type's status; `None` for an unknown type.
    pub fn status(&self, type_url: &str) -> Option<TypeStatus> {
        type_index(type_url).map(|i| self.state().types[i].clone())
    }

    /// Every type's status, in push order.
    pub fn statuses(&self) -> Vec<(&'static str, TypeStatus)> {
        let st = self.state();
        PUSH_ORDER
            .iter()
            .copied()
            .zip(st.types.iter().cloned())
            .collect()
    }

    /// The types never applied yet, in push order.
    pub fn missing(&self) -> Vec<&'static str> {
        let st = self.state();
        PUSH_ORDER
            .iter()
            .zip(st.types.iter())
            .filter(|(_, s)| s.version.is_none())
            .map(|(t, _)| *t)
            .collect()
    }

    /// Ready to serve: every type applied at least once.
    pub fn is_ready(&self) -> bool {
        self.state().types.iter().all(|s| s.version.is_some())
    }

    /// The admin `/config_dump` document: the running config and each type's
    /// version and last error.
    pub fn dump(&self) -> serde_json::Value {
        let st = self.state();
        let types: serde_json::Map<String, serde_json::Value> = PUSH_ORDER
            .iter()
            .zip(st.types.iter())
            .map(|(t, s)| {
                (
                    (*t).to_string(),
                    serde_json::to_value(s).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        serde_json::json!({
            "config": serde_json::to_value(&st.raw).unwrap_or(serde_json::Value::Null),
            "status": types,
        })
    }
}

#[cfg(test)]
mod tests;
