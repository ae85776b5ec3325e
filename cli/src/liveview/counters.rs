//! One proxy's scrape reduced to what the live view needs: per edge and
//! reporter, the cumulative request count, 5xx count, duration histogram,
//! TCP connections and bytes, and requests and connections per
//! `connection_security_policy`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::prom::Sample;
use super::quantile::Buckets;

/// What Istio writes for a label it does not know.
pub const UNKNOWN: &str = "unknown";

/// Which side of a call reported it (Istio's `reporter` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reporter {
    Source,
    Destination,
}

/// Both ends of an edge: the calling workload and the called service and workload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeKey {
    pub source_workload: String,
    pub source_namespace: String,
    /// `destination_service_name`.
    pub destination_service: String,
    /// `destination_service_namespace`.
    pub destination_service_namespace: String,
    pub destination_workload: String,
    pub destination_namespace: String,
}

impl EdgeKey {
    fn from_sample(s: &Sample) -> Self {
        let get = |k: &str| s.label(k).unwrap_or(UNKNOWN).to_owned();
        Self {
            source_workload: get("source_workload"),
            source_namespace: get("source_workload_namespace"),
            destination_service: get("destination_service_name"),
            destination_service_namespace: get("destination_service_namespace"),
            destination_workload: get("destination_workload"),
            destination_namespace: get("destination_workload_namespace"),
        }
    }
}

/// Cumulative counts of one edge as one proxy reported it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeCounters {
    pub requests: f64,
    /// Requests answered 5xx.
    pub errors: f64,
    /// `istio_request_duration_milliseconds` buckets.
    pub duration: Buckets,
    /// Requests and TCP connections by `connection_security_policy`.
    pub security: BTreeMap<String, f64>,
    /// `request_protocol` values seen (`http`, `grpc`, `tcp`).
    pub protocols: Vec<String>,
    /// TCP connections opened (`istio_tcp_connections_opened_total`).
    pub connections: f64,
    /// TCP bytes from the caller (`istio_tcp_received_bytes_total`).
    pub received_bytes: f64,
    /// TCP bytes back to the caller (`istio_tcp_sent_bytes_total`).
    pub sent_bytes: f64,
}

impl EdgeCounters {
    fn protocol(&mut self, p: &str) {
        if !self.protocols.iter().any(|x| x == p) {
            self.protocols.push(p.to_owned());
            self.protocols.sort();
        }
    }
}

/// One proxy's edges, by reporter and edge.
pub type ProxyCounters = HashMap<(Reporter, EdgeKey), EdgeCounters>;

fn reporter(s: &Sample) -> Option<Reporter> {
    match s.label("reporter")? {
        "source" => Some(Reporter::Source),
        "destination" => Some(Reporter::Destination),
        _ => None,
    }
}

/// Which of the metrics the live view reads a sample is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Metric {
    Requests,
    DurationBucket,
    TcpOpened,
    TcpReceived,
    TcpSent,
}

fn metric(name: &str) -> Option<Metric> {
    Some(match name {
        "istio_requests_total" => Metric::Requests,
        "istio_request_duration_milliseconds_bucket" => Metric::DurationBucket,
        "istio_tcp_connections_opened_total" => Metric::TcpOpened,
        "istio_tcp_received_bytes_total" => Metric::TcpReceived,
        "istio_tcp_sent_bytes_total" => Metric::TcpSent,
        _ => return None,
    })
}

/// The edges in one scrape: requests (`istio_requests_total` and the duration
/// histogram) and TCP connections (`istio_tcp_connections_opened_total`,
/// `istio_tcp_received_bytes_total`, `istio_tcp_sent_bytes_total`); other
/// metrics are ignored.
pub fn from_samples(samples: &[Sample]) -> ProxyCounters {
    let mut out = ProxyCounters::new();
    for s in samples {
        let Some(m) = metric(&s.name) else { continue };
        if !s.value.is_finite() {
            continue;
        }
        let Some(rep) = reporter(s) else { continue };
        let c = out.entry((rep, EdgeKey::from_sample(s))).or_default();
        match m {
            Metric::TcpOpened => {
                c.connections += s.value;
                let policy = s.label("connection_security_policy").unwrap_or(UNKNOWN);
                *c.security.entry(policy.to_owned()).or_default() += s.value;
                c.protocol("tcp");
                continue;
            }
            Metric::TcpReceived => {
                c.received_bytes += s.value;
                continue;
            }
            Metric::TcpSent => {
                c.sent_bytes += s.value;
                continue;
            }
            Metric::Requests | Metric::DurationBucket => {}
        }
        if m == Metric::Requests {
            c.requests += s.value;
            if s.label("response_code").is_some_and(|r| r.starts_with('5')) {
                c.errors += s.value;
            }
            let policy = s.label("connection_security_policy").unwrap_or(UNKNOWN);
            *c.security.entry(policy.to_owned()).or_default() += s.value;
            if let Some(p) = s.label("request_protocol") {
                c.protocol(p);
            }
        } else if let Some(le) = s.label("le").and_then(super::prom::number) {
            c.duration.add(le, s.value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveview::prom::parse;

    /// Scraped from a real sidecar (reviews-v1, which calls ratings) after
    /// calls from client-v1 under mutual TLS; trimmed to the request metrics
    /// and two of the proxy's own.
    const SAMPLE: &str = include_str!("testdata/reviews-v1.2.prom");

    #[test]
    fn a_real_scrape_gives_its_edges() {
        let c = from_samples(&parse(SAMPLE).expect("parses"));
        let (key, edge) = c
            .iter()
            .find(|((r, _), _)| *r == Reporter::Destination)
            .expect("a destination-reported edge");
        assert_eq!(key.1.source_workload, "client-v1");
        assert_eq!(key.1.destination_workload, "reviews-v1");
        assert_eq!(key.1.destination_service, "reviews");
        assert_eq!(key.1.destination_service_namespace, "default");
        assert_eq!(edge.requests, edge.duration.count());
        assert!(edge.requests > 0.0);
        assert_eq!(edge.protocols, ["http"]);
        assert_eq!(
            edge.security.keys().collect::<Vec<_>>(),
            ["mutual_tls"],
            "{edge:?}"
        );
    }

    #[test]
    fn counts_5xx_as_errors_and_sums_series_of_one_edge() {
        let text = r#"
istio_requests_total{reporter="source",source_workload="a-v1",source_workload_namespace="default",destination_workload="b-v1",destination_workload_namespace="default",destination_service_name="b",destination_service_namespace="default",response_code="200",request_protocol="http",connection_security_policy="unknown"} 7
istio_requests_total{reporter="source",source_workload="a-v1",source_workload_namespace="default",destination_workload="b-v1",destination_workload_namespace="default",destination_service_name="b",destination_service_namespace="default",response_code="503",request_protocol="http",connection_security_policy="unknown"} 3
istio_requests_total{reporter="source",source_workload="a-v1",source_workload_namespace="default",destination_workload="b-v1",destination_workload_namespace="default",destination_service_name="b",destination_service_namespace="default",response_code="404",request_protocol="grpc",connection_security_policy="unknown"} 1
istio_tcp_connections_opened_total{reporter="source",source_workload="a-v1"} 4
"#;
        let c = from_samples(&parse(text).expect("parses"));
        assert_eq!(c.len(), 2, "the HTTP edge and the TCP one");
        let (_, e) = c
            .iter()
            .find(|((_, k), _)| k.destination_workload == "b-v1")
            .expect("the HTTP edge");
        assert_eq!((e.requests, e.errors), (11.0, 3.0));
        assert_eq!(e.protocols, ["grpc", "http"]);
        assert_eq!(e.security.get("unknown"), Some(&11.0));
    }

    #[test]
    fn tcp_counters_make_a_tcp_edge() {
        let text = r#"
istio_tcp_connections_opened_total{reporter="destination",source_workload="a-v1",destination_workload="db-v1",request_protocol="tcp",connection_security_policy="mutual_tls"} 4
istio_tcp_connections_closed_total{reporter="destination",source_workload="a-v1",destination_workload="db-v1",request_protocol="tcp",connection_security_policy="mutual_tls"} 3
istio_tcp_received_bytes_total{reporter="destination",source_workload="a-v1",destination_workload="db-v1",request_protocol="tcp",connection_security_policy="mutual_tls"} 1200
istio_tcp_sent_bytes_total{reporter="destination",source_workload="a-v1",destination_workload="db-v1",request_protocol="tcp",connection_security_policy="mutual_tls"} 34000
"#;
        let c = from_samples(&parse(text).expect("parses"));
        assert_eq!(c.len(), 1);
        let e = c.values().next().expect("one edge");
        assert_eq!(
            (e.connections, e.received_bytes, e.sent_bytes, e.requests),
            (4.0, 1200.0, 34000.0, 0.0)
        );
        assert_eq!(e.protocols, ["tcp"]);
        assert_eq!(e.security.get("mutual_tls"), Some(&4.0));
    }
}
