use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::uri::Authority;
use mesh_api::common::Duration as ApiDuration;
use mesh_api::proxy::{ConnectionLimits, HashPolicy, LbPolicy, OutlierPolicy, Protocol};

use super::*;

fn endpoint(port: u16) -> RtEndpoint {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    RtEndpoint {
        addr,
        authority: Authority::try_from(addr.to_string().as_str())
            .unwrap_or_else(|_| Authority::from_static("127.0.0.1")),
        weight: 1,
        slot: Arc::new(Slot::new(addr, None, Default::default())),
        origin: None,
        external: false,
        state: Arc::new(EndpointState::default()),
    }
}

fn cluster(
    n: u16,
    lb: LbPolicy,
    hash: Option<HashPolicy>,
    outlier: Option<OutlierPolicy>,
) -> RtCluster {
    RtCluster::new(
        "c".into(),
        Protocol::Http,
        (1..=n).map(|i| endpoint(1000 + i)).collect(),
        lb,
        hash,
        outlier,
        Arc::new(Limits::new(ConnectionLimits::default(), true)),
    )
}

fn outlier(max_ejection_percent: u32, min_health_percent: u32) -> OutlierPolicy {
    OutlierPolicy {
        consecutive_5xx: 1,
        consecutive_gateway: 0,
        interval: ApiDuration::from_std(Duration::from_secs(10)),
        base_ejection_time: ApiDuration::from_std(Duration::from_secs(30)),
        max_ejection_percent,
        min_health_percent,
    }
}

fn picks(c: &RtCluster, n: usize) -> Vec<u16> {
    (0..n)
        .filter_map(|_| c.pick(&PickRequest::default()).map(|e| e.addr.port()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn ejected_endpoints_are_skipped_until_they_return() {
    let c = cluster(3, LbPolicy::RoundRobin, None, Some(outlier(100, 0)));
    let bad = &c.endpoints[1];
    c.record(bad, Verdict::ServerError);
    assert!(!picks(&c, 30).contains(&bad.addr.port()));
    tokio::time::advance(Duration::from_secs(30)).await;
    assert!(picks(&c, 30).contains(&bad.addr.port()));
}

#[tokio::test(start_paused = true)]
async fn max_ejection_percent_allows_at_least_one() {
    // 10% of 3 endpoints rounds to 0: one may still be ejected, not two.
    let c = cluster(3, LbPolicy::RoundRobin, None, Some(outlier(10, 0)));
    c.record(&c.endpoints[0], Verdict::ServerError);
    c.record(&c.endpoints[1], Verdict::ServerError);
    let seen = picks(&c, 30);
    assert!(!seen.contains(&1001));
    assert!(seen.contains(&1002), "second ejection is over budget");
}

#[tokio::test(start_paused = true)]
async fn min_health_percent_ignores_ejections_below_it() {
    let c = cluster(2, LbPolicy::RoundRobin, None, Some(outlier(100, 60)));
    c.record(&c.endpoints[0], Verdict::ServerError);
    // 1 of 2 healthy = 50% < 60%: every endpoint is used (panic mode).
    let seen = picks(&c, 10);
    assert!(seen.contains(&1001) && seen.contains(&1002));
}

#[tokio::test(start_paused = true)]
async fn all_ejected_means_no_endpoint() {
    let c = cluster(2, LbPolicy::RoundRobin, None, Some(outlier(100, 0)));
    c.record(&c.endpoints[0], Verdict::GatewayError);
    c.record(&c.endpoints[1], Verdict::GatewayError);
    assert!(c.pick(&PickRequest::default()).is_none());
}

#[test]
fn avoid_prefers_untried_endpoints() {
    let c = cluster(3, LbPolicy::RoundRobin, None, None);
    let avoid = [
        SocketAddr::from(([127, 0, 0, 1], 1001)),
        SocketAddr::from(([127, 0, 0, 1], 1002)),
    ];
    for _ in 0..10 {
        let e = c.pick(&PickRequest {
            key: None,
            avoid: &avoid,
        });
        assert_eq!(e.map(|e| e.addr.port()), Some(1003));
    }
    // All tried: any endpoint rather than none.
    let c = cluster(1, LbPolicy::RoundRobin, None, None);
    let avoid = [SocketAddr::from(([127, 0, 0, 1], 1001))];
    assert!(
        c.pick(&PickRequest {
            key: None,
            avoid: &avoid
        })
        .is_some()
    );
}

#[test]
fn least_request_prefers_the_idle_endpoint() {
    let c = cluster(2, LbPolicy::LeastRequest, None, None);
    let _busy: Vec<InFlight> = (0..5)
        .map(|_| InFlight::new(&c.endpoints[0].state))
        .collect();
    assert!(picks(&c, 50).iter().all(|p| *p == 1002));
}

#[test]
fn hashing_sticks_and_spreads() {
    let c = cluster(
        4,
        LbPolicy::RoundRobin,
        Some(HashPolicy::Header("x-user".into())),
        None,
    );
    let mut owners = std::collections::BTreeSet::new();
    for key in 0..200u64 {
        let first = c
            .pick(&PickRequest {
                key: Some(key),
                avoid: &[],
            })
            .map(|e| e.addr);
        for _ in 0..3 {
            assert_eq!(
                c.pick(&PickRequest {
                    key: Some(key),
                    avoid: &[]
                })
                .map(|e| e.addr),
                first
            );
        }
        owners.extend(first);
    }
    assert_eq!(owners.len(), 4, "200 keys spread over all 4 endpoints");
}

#[test]
fn hashing_moves_only_the_keys_of_a_removed_endpoint() {
    let full = cluster(4, LbPolicy::RoundRobin, Some(HashPolicy::SourceIp), None);
    let less = RtCluster::new(
        "c".into(),
        Protocol::Http,
        (1..=3).map(|i| endpoint(1000 + i)).collect(),
        LbPolicy::RoundRobin,
        Some(HashPolicy::SourceIp),
        None,
        Arc::new(Limits::new(ConnectionLimits::default(), true)),
    );
    for key in 0..500u64 {
        let a = full
            .pick(&PickRequest {
                key: Some(key),
                avoid: &[],
            })
            .map(|e| e.addr.port());
        let b = less
            .pick(&PickRequest {
                key: Some(key),
                avoid: &[],
            })
            .map(|e| e.addr.port());
        if a != Some(1004) {
            assert_eq!(a, b, "key {key} moved although its endpoint stayed");
        }
    }
}
