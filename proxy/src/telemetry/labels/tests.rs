//! Label sets: every Istio label, removed and replaced labels, added ones.

use super::*;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::collections::HashMap;

fn w(service: &str, version: &str) -> Arc<Workload> {
    let labels = HashMap::from([
        ("app".to_owned(), service.to_owned()),
        ("version".to_owned(), version.to_owned()),
    ]);
    Arc::new(Workload::new(service, "default", "sa", &labels))
}

#[test]
fn service_from_cluster_names() {
    let s = Service::from_cluster("outbound|9080|v1|reviews.default.svc.cluster.local");
    assert_eq!(
        (&*s.host, &*s.name, &*s.namespace),
        ("reviews.default.svc.cluster.local", "reviews", "default")
    );
    let external = Service::from_cluster("outbound|80||api.external.test");
    assert_eq!(
        (&*external.host, &*external.name, &*external.namespace),
        ("api.external.test", "api.external.test", UNKNOWN)
    );
    let plain = Service::from_cluster("reviews-v1");
    assert_eq!(
        (&*plain.host, &*plain.name, &*plain.namespace),
        ("reviews-v1", "reviews-v1", UNKNOWN)
    );
    let own = Service::of(&w("ratings", "v1"));
    assert_eq!(own.host, "ratings.default.svc.cluster.local");
}

#[test]
fn request_labels_encode_every_istio_label() {
    let family = Family::<RequestLabels, Counter>::default();
    let mut registry = Registry::default();
    registry.register("istio_requests", "Requests", family.clone());
    let labels = RequestLabels {
        edge: Edge {
            reporter: Reporter::Source,
            source: w("productpage", "v1"),
            source_principal: None,
            destination: w("reviews", "v2"),
            destination_principal: Some("spiffe://cluster.local/ns/default/sa/reviews".into()),
            service: Arc::new(Service::from_cluster(
                "outbound|9080||reviews.default.svc.cluster.local",
            )),
            security: SecurityPolicy::Unknown,
        },
        protocol: Protocol::Http,
        code: 503,
        grpc_status: None,
        flag: Flag::FaultInjected,
        hidden: 0,
        extra: None,
    };
    family.get_or_create(&labels).inc();
    family.get_or_create(&labels.clone()).inc();
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).expect("encode");
    for want in [
        "reporter=\"source\"",
        "source_workload=\"productpage-v1\"",
        "source_workload_namespace=\"default\"",
        "source_principal=\"unknown\"",
        "source_app=\"productpage\"",
        "source_version=\"v1\"",
        "source_canonical_service=\"productpage\"",
        "source_canonical_revision=\"v1\"",
        "destination_workload=\"reviews-v2\"",
        "destination_principal=\"spiffe://cluster.local/ns/default/sa/reviews\"",
        "destination_service=\"reviews.default.svc.cluster.local\"",
        "destination_service_name=\"reviews\"",
        "destination_service_namespace=\"default\"",
        "request_protocol=\"http\"",
        "response_code=\"503\"",
        "grpc_response_status=\"\"",
        "response_flags=\"FI\"",
        "connection_security_policy=\"unknown\"",
    ] {
        assert!(out.contains(want), "missing {want} in\n{out}");
    }
    assert_eq!(
        out.matches("istio_requests_total{").count(),
        1,
        "equal label sets share one series"
    );
    assert!(out.contains("} 2\n"), "{out}");
}

#[test]
fn removed_labels_are_left_out_and_their_series_merge() {
    let family = Family::<RequestLabels, Counter>::default();
    let mut registry = Registry::default();
    registry.register("istio_requests", "Requests", family.clone());
    let edge = Edge {
        reporter: Reporter::Destination,
        source: w("productpage", "v1"),
        source_principal: None,
        destination: w("reviews", "v1"),
        destination_principal: None,
        service: Arc::new(Service::of(&w("reviews", "v1"))),
        security: SecurityPolicy::None,
    };
    let mask = standard_bit("response_code") | standard_bit("request_protocol");
    for (code, protocol) in [(200, Protocol::Http), (503, Protocol::Grpc)] {
        let mut l = RequestLabels {
            edge: edge.clone(),
            protocol,
            code,
            grpc_status: None,
            flag: Flag::None,
            hidden: 0,
            extra: None,
        };
        l.hide(mask);
        family.get_or_create(&l).inc();
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).expect("encode");
    assert!(!out.contains("response_code="), "{out}");
    assert!(!out.contains("request_protocol="), "{out}");
    assert!(out.contains("response_flags=\"-\""), "{out}");
    assert_eq!(out.matches("istio_requests_total{").count(), 1, "{out}");
    assert!(out.contains("} 2\n"), "{out}");
}

#[test]
fn a_replaced_label_shows_its_new_value_once_and_added_labels_split_series() {
    use std::hash::{BuildHasher, RandomState};
    let family = Family::<RequestLabels, Counter>::default();
    let mut registry = Registry::default();
    registry.register("istio_requests", "Requests", family.clone());
    let extra = |host: &str| {
        Some(Box::new(Extra(vec![
            ("destination_service".into(), host.into()),
            ("team".into(), "core".into()),
        ])))
    };
    let hasher = RandomState::new();
    let mut hashes = Vec::new();
    // Two service hosts that the replacing value names alike, and a third it names apart.
    for (service_host, host) in [
        ("reviews.default.svc.cluster.local", "reviews:9080"),
        ("reviews.default.global", "reviews:9080"),
        ("reviews.default.mesh", "ratings:9080"),
    ] {
        let mut l = RequestLabels {
            edge: Edge {
                reporter: Reporter::Source,
                source: w("productpage", "v1"),
                source_principal: None,
                destination: w("reviews", "v1"),
                destination_principal: None,
                service: Arc::new(Service {
                    host: service_host.into(),
                    name: "reviews".into(),
                    namespace: "default".into(),
                }),
                security: SecurityPolicy::Unknown,
            },
            protocol: Protocol::Http,
            code: 200,
            grpc_status: None,
            flag: Flag::None,
            hidden: 0,
            extra: extra(host),
        };
        l.hide(standard_bit("destination_service"));
        hashes.push(hasher.hash_one(&l));
        family.get_or_create(&l).inc();
    }
    assert_eq!(hashes[0], hashes[1], "equal label sets hash alike");
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).expect("encode");
    assert_eq!(out.matches("istio_requests_total{").count(), 2, "{out}");
    assert_eq!(out.matches("destination_service=").count(), 2, "{out}");
    assert!(
        out.contains("destination_service=\"reviews:9080\",team=\"core\"} 2"),
        "{out}"
    );
    assert!(
        out.contains("destination_service_name=\"reviews\""),
        "only the replaced label changes: {out}"
    );
    assert!(
        out.contains("destination_service=\"ratings:9080\""),
        "{out}"
    );
}
