//! Windows over real scrapes: `testdata/` holds two scrapes each of a client's
//! and a reviews sidecar (reviews calls ratings, whose scrape is not there)
//! taken around 20 requests client -> reviews under mutual TLS.

use super::*;
use crate::liveview::counters::{self, UNKNOWN};
use crate::liveview::prom;

const CLIENT_1: &str = include_str!("../testdata/client-v1.1.prom");
const CLIENT_2: &str = include_str!("../testdata/client-v1.2.prom");
const REVIEWS_1: &str = include_str!("../testdata/reviews-v1.1.prom");
const REVIEWS_2: &str = include_str!("../testdata/reviews-v1.2.prom");

fn scrape(id: &str, at: f64, text: &str) -> Scrape {
    Scrape {
        proxy_id: id.into(),
        at,
        counters: counters::from_samples(&prom::parse(text).expect("real scrape parses")),
    }
}

fn previous(scrapes: Vec<Scrape>) -> HashMap<String, Scrape> {
    scrapes
        .into_iter()
        .map(|s| (s.proxy_id.clone(), s))
        .collect()
}

/// `istio_requests_total` of one reporter and destination workload in a scrape.
fn requests(text: &str, reporter: &str, destination: &str) -> f64 {
    prom::parse(text)
        .expect("parses")
        .iter()
        .filter(|s| s.name == "istio_requests_total")
        .filter(|s| s.label("reporter") == Some(reporter))
        .filter(|s| s.label("destination_workload") == Some(destination))
        .map(|s| s.value)
        .sum()
}

fn edge<'a>(edges: &'a [EdgeStats], from: &str, to: &str) -> &'a EdgeStats {
    edges
        .iter()
        .find(|e| e.key.source_workload == from && e.key.destination_workload == to)
        .unwrap_or_else(|| panic!("no edge {from} -> {to} in {edges:#?}"))
}

#[test]
fn rates_from_two_real_scrapes_prefer_the_destination_report() {
    let prev = previous(vec![
        scrape("client", 100.0, CLIENT_1),
        scrape("reviews", 100.5, REVIEWS_1),
    ]);
    let cur = [
        scrape("client", 110.0, CLIENT_2),
        scrape("reviews", 110.5, REVIEWS_2),
    ];
    let edges = edges(&prev, &cur);
    assert_eq!(edges.len(), 2, "{edges:#?}");

    let sent = requests(REVIEWS_2, "destination", "reviews-v1")
        - requests(REVIEWS_1, "destination", "reviews-v1");
    assert!(sent > 0.0);
    let e = edge(&edges, "client-v1", "reviews-v1");
    assert_eq!(e.reporter, Reporter::Destination);
    assert_eq!(e.requests, sent);
    assert!((e.rps - sent / 10.0).abs() < 1e-9, "{}", e.rps);
    assert_eq!(e.success_rate, Some(1.0));
    assert_eq!(e.mtls, Mtls::MutualTls);
    assert_eq!(e.protocol, "http");
    assert_eq!(e.key.destination_service, "reviews");
    assert_eq!(
        e.buckets.count(),
        sent,
        "the histogram counts every request"
    );
    let (p50, p99) = (e.p50_ms.expect("p50"), e.p99_ms.expect("p99"));
    assert!(0.0 < p50 && p50 <= p99, "p50 {p50} p99 {p99}");

    // reviews -> ratings: ratings was not scraped, so reviews' own report.
    let r = edge(&edges, "reviews-v1", "ratings-v1");
    assert_eq!(r.reporter, Reporter::Source);
    let calls =
        requests(REVIEWS_2, "source", "ratings-v1") - requests(REVIEWS_1, "source", "ratings-v1");
    assert_eq!(r.requests, calls);
    assert_eq!(r.mtls, Mtls::Unknown, "a source report cannot tell");
    // Busiest first, then by name.
    assert!(edges[0].rps >= edges[1].rps);
}

#[test]
fn a_new_proxy_has_edges_but_no_rates_and_a_gone_one_nothing() {
    let prev = previous(vec![scrape("gone", 0.0, REVIEWS_1)]);
    let cur = [scrape("client", 10.0, CLIENT_2)];
    let edges = edges(&prev, &cur);
    assert_eq!(edges.len(), 1);
    let e = &edges[0];
    assert_eq!(
        (e.key.source_workload.as_str(), e.reporter),
        ("client-v1", Reporter::Source)
    );
    assert_eq!(
        (e.rps, e.requests, e.success_rate, e.p50_ms),
        (0.0, 0.0, None, None)
    );
    assert_eq!(e.total_requests, requests(CLIENT_2, "source", "reviews-v1"));
}

#[test]
fn a_restarted_proxy_counts_from_zero() {
    let prev = previous(vec![scrape("client", 0.0, CLIENT_2)]);
    let cur = [scrape("client", 5.0, CLIENT_1)];
    let e = &edges(&prev, &cur)[0];
    assert_eq!(e.requests, requests(CLIENT_1, "source", "reviews-v1"));
}

#[test]
fn mtls_status_from_the_window_requests() {
    let line = |policy: &str, n: u32| {
        format!(
            "istio_requests_total{{reporter=\"destination\",source_workload=\"a\",destination_workload=\"b\",response_code=\"200\",connection_security_policy=\"{policy}\"}} {n}\n"
        )
    };
    let at = |t: f64, text: String| Scrape {
        proxy_id: "b".into(),
        at: t,
        counters: counters::from_samples(&prom::parse(&text).expect("parses")),
    };
    let status = |before: String, after: String| {
        let prev = previous(vec![at(0.0, before)]);
        edges(&prev, &[at(1.0, after)])[0].mtls
    };
    let both = |m: u32, n: u32| line("mutual_tls", m) + &line("none", n);
    assert_eq!(
        status(both(1, 1), both(5, 1)),
        Mtls::MutualTls,
        "only mTLS in the window"
    );
    assert_eq!(status(both(1, 1), both(5, 3)), Mtls::Mixed);
    assert_eq!(status(both(1, 1), both(1, 3)), Mtls::None);
    assert_eq!(
        status(both(1, 1), both(1, 1)),
        Mtls::Mixed,
        "idle: all time counts"
    );
    assert_eq!(status(line(UNKNOWN, 1), line(UNKNOWN, 2)), Mtls::Unknown);
}

/// Two scrapes each of a caller's sidecar (productpage-v1) and a database's
/// (db-v1), taken around five CONNECT tunnels productpage -> db (plaintext).
const PP_1: &str = include_str!("../testdata/productpage-v1.1.prom");
const PP_2: &str = include_str!("../testdata/productpage-v1.2.prom");
const DB_1: &str = include_str!("../testdata/db-v1.1.prom");
const DB_2: &str = include_str!("../testdata/db-v1.2.prom");

/// The sum of a TCP counter of one reporter in a scrape.
fn tcp_total(text: &str, name: &str, reporter: &str) -> f64 {
    prom::parse(text)
        .expect("parses")
        .iter()
        .filter(|s| s.name == name && s.label("reporter") == Some(reporter))
        .map(|s| s.value)
        .sum()
}

#[test]
fn tcp_edges_have_connection_and_byte_rates() {
    let prev = previous(vec![scrape("pp", 100.0, PP_1), scrape("db", 100.0, DB_1)]);
    let cur = [scrape("pp", 104.0, PP_2), scrape("db", 104.0, DB_2)];
    let edges = edges(&prev, &cur);
    let diff = |a: &str, b: &str, name: &str, reporter: &str| {
        tcp_total(b, name, reporter) - tcp_total(a, name, reporter)
    };
    // These scrapes were recorded before tunnels carried the metadata
    // exchange, as a TLS-routed tunnel still reports: the client sidecar's
    // report knows the destination service, not its workload (a service node)...
    let e = edge(&edges, "productpage-v1", UNKNOWN);
    let opened = diff(PP_1, PP_2, "istio_tcp_connections_opened_total", "source");
    assert!(opened > 0.0);
    assert_eq!(e.reporter, Reporter::Source);
    assert_eq!(e.protocol, "tcp");
    assert_eq!(e.key.destination_service, "db");
    assert_eq!(e.connections, opened);
    assert!((e.cps - opened / 4.0).abs() < 1e-9, "{}", e.cps);
    let received = diff(PP_1, PP_2, "istio_tcp_received_bytes_total", "source");
    let sent = diff(PP_1, PP_2, "istio_tcp_sent_bytes_total", "source");
    assert!(received > 0.0 && sent > 0.0);
    assert!((e.received_bytes_per_second - received / 4.0).abs() < 1e-9);
    assert!((e.sent_bytes_per_second - sent / 4.0).abs() < 1e-9);
    assert_eq!(
        e.total_connections,
        tcp_total(PP_2, "istio_tcp_connections_opened_total", "source")
    );
    assert_eq!((e.rps, e.success_rate, e.p50_ms), (0.0, None, None));
    assert_eq!(e.mtls, Mtls::Unknown, "plaintext test mesh, source report");
    // ...and the database's sidecar knows itself, not the caller.
    let d = edge(&edges, UNKNOWN, "db-v1");
    assert_eq!(d.reporter, Reporter::Destination);
    assert_eq!(
        d.connections,
        diff(
            DB_1,
            DB_2,
            "istio_tcp_connections_opened_total",
            "destination"
        )
    );
    assert_eq!(d.protocol, "tcp");
}

#[test]
fn tcp_mtls_from_the_connections_security_policy() {
    let text = |http: u32, tcp_mtls: u32, tcp_plain: u32| {
        let key = r#"reporter="destination",source_workload="a",destination_workload="b",destination_service_name="b""#;
        format!(
            "istio_requests_total{{{key},response_code=\"200\",request_protocol=\"http\",connection_security_policy=\"mutual_tls\"}} {http}\n\
             istio_tcp_connections_opened_total{{{key},request_protocol=\"tcp\",connection_security_policy=\"mutual_tls\"}} {tcp_mtls}\n\
             istio_tcp_connections_opened_total{{{key},request_protocol=\"tcp\",connection_security_policy=\"none\"}} {tcp_plain}\n\
             istio_tcp_received_bytes_total{{{key},request_protocol=\"tcp\",connection_security_policy=\"mutual_tls\"}} {}\n",
            tcp_mtls * 100
        )
    };
    let at = |t: f64, text: String| Scrape {
        proxy_id: "b".into(),
        at: t,
        counters: counters::from_samples(&prom::parse(&text).expect("parses")),
    };
    let window = |before: String, after: String| {
        let prev = previous(vec![at(0.0, before)]);
        edges(&prev, &[at(2.0, after)]).remove(0)
    };
    let e = window(text(0, 1, 0), text(0, 5, 0));
    assert_eq!((e.mtls, e.protocol.as_str()), (Mtls::MutualTls, "http,tcp"));
    assert_eq!((e.connections, e.cps), (4.0, 2.0));
    assert_eq!(e.received_bytes_per_second, 200.0);
    assert_eq!(window(text(0, 1, 0), text(0, 1, 2)).mtls, Mtls::None);
    assert_eq!(window(text(3, 1, 0), text(3, 2, 1)).mtls, Mtls::Mixed);
}
