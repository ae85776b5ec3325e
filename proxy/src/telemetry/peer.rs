//! Who a workload is, as Istio's metric labels name it, and the metadata
//! exchange that tells each sidecar of a call who the other one is.
//!
//! The client sidecar adds [`PEER_HEADER`] (its [`Workload`], JSON in base64)
//! to every request it forwards; the server sidecar strips it before the app
//! sees the request and answers with its own in the response, which the client
//! sidecar strips before its app sees the response. This is what Istio's
//! `x-envoy-peer-metadata` exchange does.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

/// The metadata-exchange header, stripped by the receiving sidecar.
pub const PEER_HEADER: &str = "x-meshctl-peer";

/// [`PEER_HEADER`] as a header name, parsed once (the data path looks it up
/// in every request and response).
pub(crate) static PEER: HeaderName = HeaderName::from_static(PEER_HEADER);

/// The value Istio reports for a label nobody knows.
pub const UNKNOWN: &str = "unknown";

/// A workload as Istio's `source_*` / `destination_*` labels describe it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Workload {
    /// The workload's name (`reviews-v1`: service and version, like a Deployment).
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its `app` label.
    pub app: String,
    /// Its `version` label.
    pub version: String,
    /// `service.istio.io/canonical-name`, else `app`, else the service.
    pub canonical_service: String,
    /// `service.istio.io/canonical-revision`, else `version`, else `latest`.
    pub canonical_revision: String,
    /// The service it serves (`reviews`), for `destination_service_*`.
    pub service: String,
    /// Its service account.
    pub service_account: String,
}

impl Workload {
    /// Nothing known: every label `unknown` (a caller outside the mesh).
    pub fn unknown() -> Self {
        let u = || UNKNOWN.to_owned();
        Self {
            name: u(),
            namespace: u(),
            app: u(),
            version: u(),
            canonical_service: u(),
            canonical_revision: u(),
            service: u(),
            service_account: u(),
        }
    }

    /// The workload a sidecar serves, from what its Hello says.
    pub fn new(
        service: &str,
        namespace: &str,
        service_account: &str,
        labels: &HashMap<String, String>,
    ) -> Self {
        let get = |k: &str| labels.get(k).filter(|v| !v.is_empty()).cloned();
        let app = get("app");
        let version = get("version");
        let name = match &version {
            Some(v) => format!("{service}-{v}"),
            None => service.to_owned(),
        };
        Self {
            name,
            namespace: namespace.to_owned(),
            canonical_service: get("service.istio.io/canonical-name")
                .or_else(|| app.clone())
                .unwrap_or_else(|| service.to_owned()),
            canonical_revision: get("service.istio.io/canonical-revision")
                .or_else(|| version.clone())
                .unwrap_or_else(|| "latest".to_owned()),
            app: app.unwrap_or_else(|| UNKNOWN.to_owned()),
            version: version.unwrap_or_else(|| UNKNOWN.to_owned()),
            service: service.to_owned(),
            service_account: if service_account.is_empty() {
                "default".to_owned()
            } else {
                service_account.to_owned()
            },
        }
    }

    /// The exchange header's value for this workload.
    pub fn header_value(&self) -> Option<HeaderValue> {
        let json = serde_json::to_vec(self).ok()?;
        HeaderValue::from_str(&STANDARD.encode(json)).ok()
    }

    /// Decodes an exchange header's value.
    pub fn from_header(value: &[u8]) -> Option<Self> {
        let json = STANDARD.decode(value).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// Decoded peers by header value: a peer's value is decoded once, later calls
/// only look it up (no allocation). Bounded: past [`PeerCache::MAX`] distinct
/// values it decodes without keeping.
#[derive(Debug, Default)]
pub(crate) struct PeerCache {
    peers: RwLock<crate::FastMap<Box<[u8]>, Arc<Workload>>>,
}

impl PeerCache {
    const MAX: usize = 1024;

    /// The peer a header value names; `None` if it does not decode.
    pub(crate) fn get(&self, value: &HeaderValue) -> Option<Arc<Workload>> {
        let bytes = value.as_bytes();
        if let Ok(map) = self.peers.read()
            && let Some(w) = map.get(bytes)
        {
            return Some(w.clone());
        }
        let w = Arc::new(Workload::from_header(bytes)?);
        if let Ok(mut map) = self.peers.write()
            && map.len() < Self::MAX
        {
            map.insert(bytes.into(), w.clone());
        }
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kv: &[(&str, &str)]) -> HashMap<String, String> {
        kv.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn workload_from_hello_follows_istio_defaults() {
        let w = Workload::new(
            "reviews",
            "default",
            "bookinfo-reviews",
            &labels(&[("app", "reviews"), ("version", "v2")]),
        );
        assert_eq!(w.name, "reviews-v2");
        assert_eq!(w.canonical_service, "reviews");
        assert_eq!(w.canonical_revision, "v2");
        assert_eq!(w.service_account, "bookinfo-reviews");

        let bare = Workload::new("ratings", "prod", "", &labels(&[]));
        assert_eq!(bare.name, "ratings");
        assert_eq!(bare.app, UNKNOWN);
        assert_eq!(bare.version, UNKNOWN);
        assert_eq!(bare.canonical_service, "ratings");
        assert_eq!(bare.canonical_revision, "latest");
        assert_eq!(bare.service_account, "default");

        let canon = Workload::new(
            "x",
            "ns",
            "sa",
            &labels(&[
                ("app", "a"),
                ("service.istio.io/canonical-name", "shop"),
                ("service.istio.io/canonical-revision", "2024"),
            ]),
        );
        assert_eq!(
            (&*canon.canonical_service, &*canon.canonical_revision),
            ("shop", "2024")
        );
    }

    #[test]
    fn header_round_trips_and_cache_reuses() {
        let w = Workload::new("reviews", "default", "sa", &labels(&[("version", "v1")]));
        let v = w.header_value().expect("header");
        assert_eq!(Workload::from_header(v.as_bytes()), Some(w.clone()));
        assert_eq!(Workload::from_header(b"not base64!"), None);
        let cache = PeerCache::default();
        let a = cache.get(&v).expect("decodes");
        let b = cache.get(&v).expect("decodes");
        assert!(Arc::ptr_eq(&a, &b), "second lookup reuses the first decode");
        assert!(
            cache.get(&HeaderValue::from_static("e30K")).is_none(),
            "{{}} lacks fields"
        );
    }
}
