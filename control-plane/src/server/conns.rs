//! The table of connected proxies and push flow control. A proxy has at most one
//! batch of pushes unanswered: a change that comes while it is still answering
//! the last one waits as *pending* (the newest replaces an older one), and goes
//! out, in push order, when the proxy has answered everything. And at most
//! [`MAX_IN_FLIGHT`] proxies have pushes unanswered at once; the others wait
//! their turn in arrival order. So a slow proxy gets only the newest config, and
//! the memory held by encoded pushes in flight is bounded by that many proxies'
//! configs rather than the whole mesh's.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use mesh_api::discovery::Push;
use mesh_api::proxy::{PUSH_ORDER, TYPE_ROUTES};
use tokio::sync::mpsc;

use super::payloads::Payload;
use super::state::SyncStatus;
use crate::registry::Workload;

/// How many proxies may have pushes unanswered at once (as Istio's
/// `PILOT_PUSH_THROTTLE` limits concurrent pushes). Pushes share their payload
/// buffers, so a turn costs little memory; the limit keeps a burst (a restart,
/// every proxy reconnecting) from queueing the whole mesh's pushes at once.
pub const MAX_IN_FLIGHT: usize = 1024;
/// A proxy that has not answered for this long gives its turn back (it keeps
/// its pushes; the next proxy is not held up by it).
pub const STUCK: Duration = Duration::from_secs(10);

/// One type's push state for one proxy.
#[derive(Debug, Clone, Default)]
pub struct TypeState {
    pub sent_version: String,
    pub sent_nonce: String,
    pub sent_at: Option<Instant>,
    /// What was sent last (shared with every proxy that got the same bytes).
    pub payload: Payload,
    /// The newest config not sent yet, waiting for the proxy's turn.
    pub pending: Option<Payload>,
    pub acked_version: String,
    pub nack: Option<String>,
    pub answered_nonce: String,
    /// Whether the last push was a delta (against the payload sent before it).
    pub sent_delta: bool,
}

impl TypeState {
    pub fn status(&self) -> SyncStatus {
        if self.sent_nonce.is_empty() {
            SyncStatus::NotSent
        } else if self.answered_nonce != self.sent_nonce {
            SyncStatus::Stale
        } else if self.nack.is_some() {
            SyncStatus::Error
        } else {
            SyncStatus::Synced
        }
    }

    fn in_flight(&self) -> bool {
        self.answered_nonce != self.sent_nonce
    }

    /// Whether the proxy runs `base`: it was the last payload sent, and the
    /// proxy acknowledged it.
    fn runs(&self, base: u64) -> bool {
        !self.sent_nonce.is_empty()
            && !self.in_flight()
            && self.nack.is_none()
            && self.payload.hash == base
            && self.acked_version == self.sent_version
    }

    /// The proxy rejected a delta: it runs its previous config, so the whole
    /// payload goes out next (unless a newer one already waits).
    pub fn delta_rejected(&mut self) {
        let whole = std::mem::take(&mut self.payload);
        self.pending.get_or_insert(whole);
        self.sent_delta = false;
    }
}

/// Where a proxy's pushes are queued for its stream. Boxed: a queue allocates
/// its slots in blocks, and ten thousand queues of full-size slots are tens of
/// MiB.
pub type PushTx = mpsc::Sender<Box<Push>>;

/// One connected proxy.
#[derive(Debug)]
pub struct Conn {
    pub stream_id: u64,
    /// The store revision this proxy's config was last compiled from and sent.
    pub revision: u64,
    /// The registry generation (joins, leaves, readiness) it was compiled from.
    pub registry_gen: u64,
    /// The revision and generation of the pending pushes.
    pending_gen: (u64, u64),
    pub workload: Workload,
    pub tx: PushTx,
    pub types: BTreeMap<&'static str, TypeState>,
    /// Since when the proxy holds a turn (has pushes unanswered).
    turn: Option<Instant>,
    /// Whether it waits for a turn.
    queued: bool,
    /// Whether it decodes gzip-compressed payloads.
    pub gzip: bool,
    /// Whether it applies route deltas.
    pub deltas: bool,
    /// The workload certificate it reported running.
    pub cert: Option<crate::ca::ProxyCert>,
    /// The CA epoch it was last asked to renew for.
    pub renew_asked: Option<u64>,
}

impl Conn {
    pub fn new(stream_id: u64, workload: Workload, tx: PushTx) -> Self {
        Conn {
            stream_id,
            revision: 0,
            registry_gen: 0,
            pending_gen: (0, 0),
            workload,
            tx,
            types: BTreeMap::new(),
            turn: None,
            queued: false,
            gzip: false,
            deltas: false,
            cert: None,
            renew_asked: None,
        }
    }

    fn in_flight(&self) -> bool {
        self.types.values().any(TypeState::in_flight)
    }

    fn has_pending(&self) -> bool {
        self.types.values().any(|t| t.pending.is_some())
    }
}

/// Every connected proxy, by id, and whose turn it is to be pushed to.
#[derive(Debug, Default)]
pub struct Conns {
    pub map: HashMap<String, Conn>,
    turns: usize,
    waiting: VecDeque<String>,
    /// The types of the pushes sent since the owner last drained it (metrics).
    pub sent_types: Vec<&'static str>,
}

impl Conns {
    /// Add (or replace) a proxy's connection.
    pub fn insert(&mut self, conn: Conn) {
        let id = conn.workload.proxy_id.clone();
        if let Some(old) = self.map.insert(id, conn)
            && old.turn.is_some()
        {
            self.turns -= 1;
        }
    }

    /// Remove a proxy; its turn goes to the next waiting one. Returns how many
    /// pushes went out.
    pub fn remove(&mut self, proxy_id: &str, next_nonce: &mut dyn FnMut() -> String) -> usize {
        if let Some(old) = self.map.remove(proxy_id)
            && old.turn.is_some()
        {
            self.turns -= 1;
        }
        self.dispatch(next_nonce)
    }

    /// This round's config for a proxy, compiled from store revision and registry
    /// generation `generation`: each type whose payload differs from the last
    /// one sent becomes pending, and goes out now if the proxy may be pushed to.
    /// Returns how many pushes went out.
    pub fn offer(
        &mut self,
        proxy_id: &str,
        payloads: Vec<(&'static str, Payload)>,
        generation: (u64, u64),
        next_nonce: &mut dyn FnMut() -> String,
    ) -> usize {
        let Some(conn) = self.map.get_mut(proxy_id) else {
            return 0;
        };
        for (type_url, payload) in payloads {
            let t = conn.types.entry(type_url).or_default();
            t.pending = (t.sent_nonce.is_empty() || !t.payload.same(&payload)).then_some(payload);
        }
        if !conn.has_pending() {
            // Nothing to send: the proxy runs (or is being sent) this config.
            conn.revision = conn.revision.max(generation.0);
            conn.registry_gen = conn.registry_gen.max(generation.1);
            return 0;
        }
        conn.pending_gen = generation;
        self.flush(proxy_id, false, next_nonce)
    }

    /// A proxy answered a push (its state already updated). Once it has answered
    /// everything its turn ends; its pending pushes get in line, and waiting
    /// proxies take the free turns. Returns how many pushes went out.
    pub fn answered(&mut self, proxy_id: &str, next_nonce: &mut dyn FnMut() -> String) -> usize {
        let Some(conn) = self.map.get_mut(proxy_id) else {
            return 0;
        };
        if conn.in_flight() {
            return 0;
        }
        if conn.turn.take().is_some() {
            self.turns -= 1;
        }
        if conn.has_pending() && !conn.queued {
            conn.queued = true;
            self.waiting.push_back(proxy_id.to_owned());
        }
        self.dispatch(next_nonce)
    }

    /// Give the turns of proxies that stopped answering to waiting ones.
    pub fn reclaim_stuck(&mut self, next_nonce: &mut dyn FnMut() -> String) -> usize {
        for conn in self.map.values_mut() {
            if conn.turn.is_some_and(|t| t.elapsed() >= STUCK) {
                conn.turn = None;
                self.turns -= 1;
            }
        }
        self.dispatch(next_nonce)
    }

    /// Push to waiting proxies while turns are free.
    fn dispatch(&mut self, next_nonce: &mut dyn FnMut() -> String) -> usize {
        let mut sent = 0;
        while self.turns < MAX_IN_FLIGHT {
            let Some(id) = self.waiting.pop_front() else {
                break;
            };
            if let Some(c) = self.map.get_mut(&id) {
                c.queued = false;
            }
            sent += self.flush(&id, true, next_nonce);
        }
        sent
    }

    /// Send a proxy's pending pushes if it has nothing unanswered and may take a
    /// turn (a free one nobody waits for, or `its_turn` from the line); otherwise
    /// it waits (for its answers, or in line for a turn).
    fn flush(
        &mut self,
        proxy_id: &str,
        its_turn: bool,
        next_nonce: &mut dyn FnMut() -> String,
    ) -> usize {
        let free = self.turns < MAX_IN_FLIGHT;
        let Some(conn) = self.map.get_mut(proxy_id) else {
            return 0;
        };
        if !conn.has_pending() || conn.in_flight() {
            return 0;
        }
        if conn.turn.is_none() {
            if !free || !its_turn && !self.waiting.is_empty() {
                if !conn.queued {
                    conn.queued = true;
                    self.waiting.push_back(proxy_id.to_owned());
                }
                return 0;
            }
            conn.turn = Some(Instant::now());
            self.turns += 1;
        }
        let mut sent = 0;
        let mut all_queued = true;
        for type_url in PUSH_ORDER {
            let Some(t) = conn.types.get_mut(type_url) else {
                continue;
            };
            let Some(payload) = t.pending.take() else {
                continue;
            };
            let nonce = next_nonce();
            let version = payload.version();
            // A proxy that takes deltas and runs the payload this one's delta
            // starts from is sent only the delta.
            let delta = payload
                .delta
                .as_ref()
                .filter(|d| conn.deltas && type_url == TYPE_ROUTES && t.runs(d.base));
            let (wire, base_version) = match delta {
                Some(d) => (&d.payload, format!("{:016x}", d.base)),
                None => (&payload, String::new()),
            };
            let (body, encoding) = match &wire.gzip {
                Some(gz) if conn.gzip => (gz.clone(), "gzip"),
                _ => (wire.bytes.clone(), ""),
            };
            let is_delta = delta.is_some();
            let push = Push {
                type_url: type_url.to_owned(),
                version: version.clone(),
                nonce: nonce.clone(),
                payload: body,
                encoding: encoding.to_owned(),
                base_version,
            };
            match conn.tx.try_send(Box::new(push)) {
                Ok(()) => {
                    t.sent_version = version;
                    t.sent_nonce = nonce;
                    t.sent_at = Some(Instant::now());
                    t.sent_delta = is_delta;
                    t.payload = payload;
                    sent += 1;
                    self.sent_types.push(type_url);
                }
                Err(e) => {
                    // The stream is closing or not read: keep it pending.
                    tracing::warn!(proxy = %proxy_id, error = %e, "push queue full; will retry");
                    t.pending = Some(payload);
                    all_queued = false;
                }
            }
        }
        if all_queued {
            conn.revision = conn.revision.max(conn.pending_gen.0);
            conn.registry_gen = conn.registry_gen.max(conn.pending_gen.1);
        }
        if !conn.in_flight() && conn.turn.take().is_some() {
            self.turns -= 1;
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use mesh_api::discovery::Push;
    use tokio::sync::mpsc;

    use super::{Conn, Conns, MAX_IN_FLIGHT};
    use crate::server::payloads::{Interner, Payload};

    type Rx = mpsc::Receiver<Box<Push>>;

    fn conn(conns: &mut Conns, id: &str) -> Rx {
        let (tx, rx) = mpsc::channel(64);
        let w = crate::registry::Workload {
            proxy_id: id.to_owned(),
            service: "web".into(),
            namespace: "default".into(),
            service_account: "default".into(),
            labels: Default::default(),
            inbound_address: "127.0.0.1:1".into(),
            outbound_address: String::new(),
            admin_address: String::new(),
            ports: Vec::new(),
            proxy_version: "test".into(),
            connected_unix: 0,
            app_ready: true,
        };
        conns.insert(Conn::new(1, w, tx));
        rx
    }

    fn payload(text: &str) -> Payload {
        Interner::new(Default::default()).intern(text.as_bytes().to_vec())
    }

    fn nonces() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            n.to_string()
        }
    }

    fn received(rx: &mut Rx) -> Vec<(String, String)> {
        let mut out = Vec::new();
        while let Ok(p) = rx.try_recv() {
            let p = *p;
            out.push((p.type_url, String::from_utf8_lossy(&p.payload).into_owned()));
        }
        out
    }

    /// The proxy ACKs everything it was sent.
    fn ack_all(conns: &mut Conns, id: &str, next: &mut dyn FnMut() -> String) -> usize {
        if let Some(c) = conns.map.get_mut(id) {
            for t in c.types.values_mut() {
                t.answered_nonce = t.sent_nonce.clone();
            }
        }
        conns.answered(id, next)
    }

    #[test]
    fn a_busy_proxy_gets_only_the_newest_config_once_it_answers() {
        let mut conns = Conns::default();
        let mut rx = conn(&mut conns, "p");
        let mut next = nonces();
        let routes = |s: &str| vec![("routes", payload(s))];
        assert_eq!(conns.offer("p", routes("a"), (1, 1), &mut next), 1);
        assert_eq!(received(&mut rx), [("routes".into(), "a".into())]);
        // Unanswered: later changes wait, the newest replacing the older.
        assert_eq!(conns.offer("p", routes("b"), (2, 1), &mut next), 0);
        assert_eq!(conns.offer("p", routes("c"), (3, 1), &mut next), 0);
        assert!(received(&mut rx).is_empty());
        assert_eq!(conns.map["p"].revision, 1);
        assert_eq!(ack_all(&mut conns, "p", &mut next), 1);
        assert_eq!(received(&mut rx), [("routes".into(), "c".into())]);
        assert_eq!(conns.map["p"].revision, 3);
        // The same config again: nothing to send, and the proxy is current.
        ack_all(&mut conns, "p", &mut next);
        assert_eq!(conns.offer("p", routes("c"), (4, 2), &mut next), 0);
        assert!(received(&mut rx).is_empty());
        assert_eq!(
            (conns.map["p"].revision, conns.map["p"].registry_gen),
            (4, 2)
        );
    }

    #[test]
    fn a_config_that_returns_to_what_was_sent_is_not_sent_again() {
        let mut conns = Conns::default();
        let mut rx = conn(&mut conns, "p");
        let mut next = nonces();
        conns.offer("p", vec![("routes", payload("a"))], (1, 1), &mut next);
        conns.offer("p", vec![("routes", payload("b"))], (2, 1), &mut next);
        conns.offer("p", vec![("routes", payload("a"))], (3, 1), &mut next);
        received(&mut rx);
        assert_eq!(ack_all(&mut conns, "p", &mut next), 0);
        assert!(received(&mut rx).is_empty());
    }

    #[test]
    fn types_go_out_in_push_order() {
        let mut conns = Conns::default();
        let mut rx = conn(&mut conns, "p");
        let mut next = nonces();
        let all = vec![
            ("routes", payload("r")),
            ("endpoints", payload("e")),
            ("listeners", payload("l")),
            ("clusters", payload("c")),
        ];
        assert_eq!(conns.offer("p", all, (1, 1), &mut next), 4);
        let types: Vec<String> = received(&mut rx).into_iter().map(|(t, _)| t).collect();
        assert_eq!(types, mesh_api::proxy::PUSH_ORDER);
    }

    #[test]
    fn at_most_max_in_flight_proxies_are_pushed_to_at_once() {
        let mut conns = Conns::default();
        let mut next = nonces();
        let ids: Vec<String> = (0..=MAX_IN_FLIGHT).map(|i| format!("p{i}")).collect();
        let mut rxs: Vec<Rx> = ids.iter().map(|id| conn(&mut conns, id)).collect();
        let mut sent = 0;
        for id in &ids {
            sent += conns.offer(id, vec![("routes", payload("x"))], (1, 1), &mut next);
        }
        assert_eq!(sent, MAX_IN_FLIGHT);
        let last = rxs.last_mut().expect("a proxy");
        assert!(received(last).is_empty(), "the last proxy waits its turn");
        // One answer frees a turn for it.
        assert_eq!(ack_all(&mut conns, "p0", &mut next), 1);
        let last = rxs.last_mut().expect("a proxy");
        assert_eq!(received(last), [("routes".into(), "x".into())]);
        // A proxy that goes away frees its turn too.
        let late = "late".to_owned();
        let mut late_rx = conn(&mut conns, &late);
        assert_eq!(
            conns.offer(&late, vec![("routes", payload("y"))], (1, 1), &mut next),
            0
        );
        assert_eq!(conns.remove("p1", &mut next), 1);
        assert_eq!(received(&mut late_rx), [("routes".into(), "y".into())]);
    }
}
