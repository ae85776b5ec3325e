//! Encoded payloads, shared: every distinct payload of a push round is encoded,
//! hashed and (when large) gzip-compressed once, and held as one `Bytes` by every
//! proxy it goes to; a payload equal to one of the previous round reuses that
//! round's buffers, so an unchanged type is recognised by pointer, without
//! comparing its bytes, and is not compressed again. And a view whose inputs did
//! not change since the previous round ([`MeshIndex::changed_since`]) is not
//! compiled again: its clusters and endpoints, or its routes, or all of them,
//! are the previous round's payloads.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use mesh_api::proxy::{
    PUSH_ORDER, ProxyConfig, RouteConfig, RoutesDelta, TYPE_LISTENERS, TYPE_ROUTES,
};

use crate::compiler::{MeshIndex, ViewConfig, ViewKey, ViewParts};
use crate::registry::Workload;

/// Payloads at least this large are also kept gzip-compressed, for proxies that
/// accept it (JSON configs shrink about tenfold).
pub const COMPRESS_FROM: usize = 4096;

/// One encoded payload, the hash of its bytes, and its gzip form when large.
#[derive(Debug, Clone, Default)]
pub struct Payload {
    pub bytes: Bytes,
    pub hash: u64,
    pub gzip: Option<Bytes>,
    /// For routes: what turns the previous round's payload of the same view
    /// into this one, for proxies that run that payload and take deltas.
    pub delta: Option<Arc<Delta>>,
}

/// A delta push: `payload` (a [`RoutesDelta`] in JSON) changes the payload
/// whose hash is `base` into the one that carries it.
#[derive(Debug)]
pub struct Delta {
    pub base: u64,
    pub payload: Payload,
}

impl Payload {
    /// Whether two payloads have the same bytes: different hashes never do; the
    /// same buffer always does; otherwise the bytes are compared.
    pub fn same(&self, other: &Payload) -> bool {
        self.hash == other.hash
            && (self.bytes.as_ptr() == other.bytes.as_ptr()
                && self.bytes.len() == other.bytes.len()
                || self.bytes == other.bytes)
    }

    /// The version a push of this payload carries: its hash, in hex.
    pub fn version(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

/// `bytes`, gzip-compressed (fast level), or nothing when compression fails.
fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 8),
        flate2::Compression::fast(),
    );
    enc.write_all(bytes).ok()?;
    enc.finish().ok().map(Bytes::from)
}

fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// The payloads of one round, deduplicated, and those of the round before.
#[derive(Debug, Default)]
pub struct Interner {
    previous: HashMap<u64, Vec<Payload>>,
    current: HashMap<u64, Vec<Payload>>,
}

impl Interner {
    /// Start a round that can reuse the buffers of `previous` (the last round's
    /// [`Interner::finish`]).
    pub fn new(previous: HashMap<u64, Vec<Payload>>) -> Self {
        Interner {
            previous,
            current: HashMap::new(),
        }
    }

    /// The shared buffer for these bytes: one already seen this round or the last,
    /// else a new one.
    pub fn intern(&mut self, encoded: Vec<u8>) -> Payload {
        let hash = hash_of(&encoded);
        let found = [&self.current, &self.previous]
            .into_iter()
            .filter_map(|m| m.get(&hash))
            .flatten()
            .find(|p| p.bytes.as_ref() == encoded.as_slice())
            .cloned();
        let payload = found.unwrap_or_else(|| Payload {
            gzip: (encoded.len() >= COMPRESS_FROM)
                .then(|| gzip(&encoded))
                .flatten(),
            bytes: Bytes::from(encoded),
            hash,
            delta: None,
        });
        let slot = self.current.entry(hash).or_default();
        if !slot
            .iter()
            .any(|p| p.bytes.as_ptr() == payload.bytes.as_ptr())
        {
            slot.push(payload.clone());
        }
        payload
    }

    /// Keeps a payload of the previous round for the next one, as if interned.
    fn keep(&mut self, payload: &Payload) {
        let slot = self.current.entry(payload.hash).or_default();
        if !slot
            .iter()
            .any(|p| p.bytes.as_ptr() == payload.bytes.as_ptr())
        {
            slot.push(payload.clone());
        }
    }

    /// This round's buffers, for the next round.
    pub fn finish(self) -> HashMap<u64, Vec<Payload>> {
        self.current
    }
}

/// Which part of a view a type belongs to.
fn in_parts(type_url: &str, parts: ViewParts) -> bool {
    if type_url == TYPE_ROUTES {
        parts.routes
    } else {
        parts.clusters
    }
}

/// The encoded clusters, endpoints and routes of one view (listeners are per
/// proxy), by type, and its routes as compiled (for the next round's delta).
#[derive(Debug, Default)]
pub struct ViewPayloads {
    by_type: Vec<(&'static str, Payload)>,
    routes: Arc<RouteConfig>,
}

impl ViewPayloads {
    /// Encodes the `parts` of `view`; the other types are `previous`'s. New
    /// routes carry their delta from `previous`'s.
    fn encode(
        view: ViewConfig,
        parts: ViewParts,
        previous: Option<&ViewPayloads>,
        interner: &mut Interner,
    ) -> Self {
        let kept = |t: &str| {
            previous
                .filter(|_| !in_parts(t, parts))
                .and_then(|p| p.by_type.iter().find(|(pt, _)| *pt == t))
                .map(|(_, payload)| payload)
        };
        let routes = match (kept(TYPE_ROUTES), previous) {
            (Some(_), Some(p)) => p.routes.clone(),
            _ => Arc::new(view.routes),
        };
        let config = ProxyConfig {
            listeners: Default::default(),
            clusters: view.clusters,
            endpoints: view.endpoints,
            routes: Default::default(),
        };
        let by_type = PUSH_ORDER
            .iter()
            .filter(|t| **t != TYPE_LISTENERS)
            .filter_map(|t| match kept(t) {
                Some(payload) => {
                    interner.keep(payload);
                    Some((*t, payload.clone()))
                }
                None if *t == TYPE_ROUTES => {
                    let mut payload = interner.intern(serde_json::to_vec(&*routes).ok()?);
                    payload.delta =
                        previous.and_then(|p| routes_delta(p, &routes, &payload, interner));
                    Some((*t, payload))
                }
                None => Some((*t, interner.intern(config.encode(t)?))),
            })
            .collect();
        ViewPayloads { by_type, routes }
    }
}

/// The delta from `previous`'s routes to `routes` (encoded as `payload`), when
/// they differ and a delta can say how.
fn routes_delta(
    previous: &ViewPayloads,
    routes: &RouteConfig,
    payload: &Payload,
    interner: &mut Interner,
) -> Option<Arc<Delta>> {
    let (_, base) = previous.by_type.iter().find(|(t, _)| *t == TYPE_ROUTES)?;
    if base.same(payload) {
        return None;
    }
    let delta = RoutesDelta::between(&previous.routes, routes)?;
    let encoded = serde_json::to_vec(&delta).ok()?;
    // A delta as large as the whole is no gain.
    (encoded.len() < payload.bytes.len()).then(|| {
        Arc::new(Delta {
            base: base.hash,
            payload: interner.intern(encoded),
        })
    })
}

/// What a push round leaves for the next: its index and its views' payloads.
#[derive(Debug, Default)]
pub struct Previous {
    index: Option<Arc<MeshIndex>>,
    views: HashMap<ViewKey, Arc<ViewPayloads>>,
    payloads: HashMap<u64, Vec<Payload>>,
}

/// Every payload of one push round: views compiled and encoded once each.
#[derive(Debug)]
pub struct Round {
    index: Arc<MeshIndex>,
    views: HashMap<ViewKey, Arc<ViewPayloads>>,
    interner: Interner,
    previous_views: HashMap<ViewKey, Arc<ViewPayloads>>,
    /// What may differ from the previous round's views.
    changed: ViewParts,
    /// Views compiled (wholly or in part) this round.
    compiled: usize,
}

impl Round {
    pub fn new(index: Arc<MeshIndex>, previous: Previous) -> Self {
        let changed = previous
            .index
            .as_deref()
            .map_or(ViewParts::ALL, |p| index.changed_since(p));
        Round {
            index,
            views: HashMap::new(),
            interner: Interner::new(previous.payloads),
            previous_views: previous.views,
            changed,
            compiled: 0,
        }
    }

    /// `proxy`'s payloads, in push order.
    pub fn payloads(&mut self, proxy: &Workload) -> Vec<(&'static str, Payload)> {
        let key = self.index.view_key(proxy);
        let view = match self.views.get(&key) {
            Some(v) => v.clone(),
            None => {
                let previous = self.previous_views.get(&key);
                let parts = if previous.is_some() {
                    self.changed
                } else {
                    ViewParts::ALL
                };
                let v = match previous {
                    Some(p) if !parts.clusters && !parts.routes => {
                        for (_, payload) in &p.by_type {
                            self.interner.keep(payload);
                        }
                        p.clone()
                    }
                    _ => {
                        self.compiled += 1;
                        Arc::new(ViewPayloads::encode(
                            self.index.compile_view_parts(&key, parts),
                            parts,
                            previous.map(Arc::as_ref),
                            &mut self.interner,
                        ))
                    }
                };
                self.views.insert(key, v.clone());
                v
            }
        };
        let listeners = ProxyConfig {
            listeners: self.index.listeners(proxy),
            ..Default::default()
        };
        let mut out = Vec::with_capacity(PUSH_ORDER.len());
        if let Some(encoded) = listeners.encode(TYPE_LISTENERS) {
            out.push((TYPE_LISTENERS, self.interner.intern(encoded)));
        }
        out.extend(view.by_type.iter().cloned());
        out.sort_by_key(|(t, _)| PUSH_ORDER.iter().position(|p| p == t));
        out
    }

    /// How many distinct views this round used, and how many it compiled.
    pub fn views(&self) -> (usize, usize) {
        (self.views.len(), self.compiled)
    }

    /// What the next round may reuse.
    pub fn finish(self) -> Previous {
        Previous {
            index: Some(self.index),
            views: self.views,
            payloads: self.interner.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Interner, Payload};

    #[test]
    fn equal_payloads_share_one_buffer_within_and_across_rounds() {
        let mut round = Interner::new(Default::default());
        let a = round.intern(b"{\"routes\":1}".to_vec());
        let b = round.intern(b"{\"routes\":1}".to_vec());
        assert_eq!(a.bytes.as_ptr(), b.bytes.as_ptr());
        let mut next = Interner::new(round.finish());
        let c = next.intern(b"{\"routes\":1}".to_vec());
        assert_eq!(a.bytes.as_ptr(), c.bytes.as_ptr());
        assert!(a.same(&c));
        assert_eq!(a.version(), c.version());
    }

    #[test]
    fn different_payloads_are_never_the_same() {
        let mut round = Interner::new(Default::default());
        let a = round.intern(b"{\"weight\":90}".to_vec());
        let b = round.intern(b"{\"weight\":80}".to_vec());
        assert!(!a.same(&b));
        assert_ne!(a.version(), b.version());
        // Even with equal hashes (forged here), different bytes are not the same.
        let forged = Payload {
            hash: a.hash,
            ..b.clone()
        };
        assert!(!a.same(&forged));
        // Equal bytes in different buffers are the same.
        let copy = Payload {
            bytes: bytes::Bytes::copy_from_slice(&a.bytes),
            ..a.clone()
        };
        assert!(a.same(&copy));
    }

    #[test]
    fn large_payloads_are_compressed_once_and_decompress_to_themselves() {
        use std::io::Read as _;
        let json: Vec<u8> = (0..2000)
            .flat_map(|i| {
                format!("{{\"cluster\":\"outbound|80||svc-{i}.ns.svc.cluster.local\"}},")
                    .into_bytes()
            })
            .collect();
        let mut round = Interner::new(Default::default());
        let p = round.intern(json.clone());
        let gz = p.gzip.clone().expect("compressed");
        assert!(gz.len() * 4 < json.len(), "{} -> {}", json.len(), gz.len());
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, json);
        // Reused next round: the same compressed buffer, not compressed again.
        let mut next = Interner::new(round.finish());
        let again = next.intern(json);
        assert_eq!(again.gzip.expect("compressed").as_ptr(), gz.as_ptr());
        // Small payloads are sent as they are.
        assert!(next.intern(b"{}".to_vec()).gzip.is_none());
    }

    #[test]
    fn a_round_keeps_only_its_own_buffers() {
        let mut first = Interner::new(Default::default());
        first.intern(b"old".to_vec());
        let mut second = Interner::new(first.finish());
        second.intern(b"new".to_vec());
        let kept = second.finish();
        assert_eq!(kept.values().flatten().count(), 1);
        assert!(kept.values().flatten().all(|p| p.bytes.as_ref() == b"new"));
    }
}
