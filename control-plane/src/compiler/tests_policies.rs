//! Compiler tests for traffic policies: DestinationRule connection pools,
//! outlier detection and hashing (with Istio's merge order), and VirtualService
//! retries, faults, mirrors and header operations.

use mesh_api::proxy::{HashPolicy, LbPolicy, RouteAction};

use super::tests::{bookinfo, cluster, resources, run, vhost};

const DR: &str = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1, maxRetries: 3, h2UpgradePolicy: UPGRADE}
    outlierDetection:
      consecutive5xxErrors: 7
      baseEjectionTime: 1m
    loadBalancer:
      consistentHash: {httpHeaderName: X-User}
    portLevelSettings:
    - port: {number: 9999}
      loadBalancer: {simple: RANDOM}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {simple: LEAST_REQUEST}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer: {simple: RANDOM}
"#;

#[test]
fn destination_rule_policies_merge_as_istio_does() {
    let ws = bookinfo();
    let cfg = run(&resources(DR), &ws, &ws[0]);
    let top = cluster(&cfg, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(top.limits.max_connections, Some(1));
    assert_eq!(top.limits.max_pending_requests, Some(1));
    assert_eq!(top.limits.max_retries, Some(3));
    assert_eq!(top.limits.max_requests, None, "unset limits stay unlimited");
    assert!(top.limits.h2_upgrade, "h2UpgradePolicy: UPGRADE");
    assert_eq!(top.hash, Some(HashPolicy::Header("x-user".into())));
    let o = top.outlier.as_ref().expect("outlier detection");
    assert_eq!((o.consecutive_5xx, o.consecutive_gateway), (7, 0));
    assert_eq!(o.base_ejection_time.as_std().as_secs(), 60);
    assert_eq!(
        (o.interval.as_std().as_secs(), o.max_ejection_percent),
        (10, 10),
        "Istio's defaults"
    );

    // v1 replaces only the load balancer: the pool and outlier settings stay.
    let v1 = cluster(&cfg, "outbound|9080|v1|reviews.default.svc.cluster.local");
    assert_eq!(
        (v1.lb_policy, v1.hash.as_ref()),
        (LbPolicy::LeastRequest, None)
    );
    assert_eq!(v1.limits.max_connections, Some(1));
    assert!(v1.limits.h2_upgrade);
    assert!(v1.outlier.is_some());

    // v2's port-level settings replace everything for that port ("port level
    // policies do not inherit").
    let v2 = cluster(&cfg, "outbound|9080|v2|reviews.default.svc.cluster.local");
    assert_eq!(v2.lb_policy, LbPolicy::Random);
    assert!(v2.limits.is_empty() && v2.outlier.is_none() && v2.hash.is_none());
}

const VS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: flaky
    match: [{uri: {prefix: /flaky}}]
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,409"}
    route: [{destination: {host: reviews}}]
  - name: never
    match: [{uri: {prefix: /never}}]
    retries: {attempts: 0}
    fault:
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 10}}
    route: [{destination: {host: reviews}}]
  - name: rest
    headers:
      request: {set: {X-A: "1"}, remove: [X-B]}
      response: {add: {X-C: "2"}}
    mirror: {host: ratings}
    mirrorPercentage: {value: 25}
    route:
    - destination: {host: reviews}
      headers: {request: {set: {x-dest: d}}}
"#;

#[test]
fn virtual_service_policies_reach_the_routes() {
    let ws = bookinfo();
    let cfg = run(&resources(VS), &ws, &ws[0]);
    let vh = vhost(&cfg, "reviews.default.svc.cluster.local:9080");
    let forward = |i: usize| match &vh.routes[i].action {
        RouteAction::Forward(f) => f.clone(),
        other => panic!("route {i} does not forward: {other:?}"),
    };
    let retry = forward(0).retry.expect("retry policy");
    assert_eq!(retry.attempts, 3);
    assert_eq!(retry.retry_on, ["gateway-error", "retriable-status-codes"]);
    assert_eq!(retry.retriable_status_codes, [409]);
    assert_eq!(retry.per_try_timeout.map(|d| d.as_std().as_secs()), Some(2));

    assert_eq!(forward(1).retry, None, "attempts: 0 disables retries");
    let abort = vh.routes[1]
        .fault
        .as_ref()
        .and_then(|f| f.abort.clone())
        .expect("abort");
    assert_eq!((abort.grpc_status, abort.percent), (Some(14), 10.0));

    let rest = &vh.routes[2];
    assert_eq!(
        rest.headers.request.set.get("x-a").map(String::as_str),
        Some("1")
    );
    assert_eq!(rest.headers.request.remove, ["x-b"]);
    assert_eq!(
        rest.headers.response.add.get("x-c").map(String::as_str),
        Some("2")
    );
    let f = forward(2);
    assert_eq!(
        f.clusters[0]
            .headers
            .request
            .set
            .get("x-dest")
            .map(String::as_str),
        Some("d")
    );
    assert_eq!(f.mirrors.len(), 1);
    assert_eq!(
        f.mirrors[0].cluster,
        "outbound|9080||ratings.default.svc.cluster.local"
    );
    assert_eq!(f.mirrors[0].percent, 25.0);
    assert_eq!(
        f.retry.map(|r| r.attempts),
        Some(2),
        "Istio's default retry policy"
    );
}

#[test]
fn default_routes_carry_istios_default_retries() {
    let ws = bookinfo();
    let cfg = run(&[], &ws, &ws[0]);
    let vh = vhost(&cfg, "ratings.default.svc.cluster.local:9080");
    let RouteAction::Forward(f) = &vh.routes[0].action else {
        panic!("default route forwards");
    };
    let r = f.retry.as_ref().expect("default retry policy");
    assert_eq!(
        (r.attempts, r.retriable_status_codes.as_slice()),
        (2, &[503][..])
    );
}

const DELEGATE: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: api
    match: [{uri: {prefix: /api}}]
    delegate: {name: reviews-api}
  - name: rest
    route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api}
spec:
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: others
    route: [{destination: {host: reviews, subset: v3}}]
"#;

#[test]
fn delegate_rules_take_the_root_rules_place() {
    let ws = bookinfo();
    let cfg = run(&resources(DELEGATE), &ws, &ws[0]);
    let vh = vhost(&cfg, "reviews.default.svc.cluster.local:9080");
    let names: Vec<&str> = vh.routes.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["api/jason", "api/others", "rest"]);
    let jason = &vh.routes[0];
    assert_eq!(jason.matches.len(), 1);
    let m = &jason.matches[0];
    assert_eq!(
        m.uri.as_ref().and_then(|u| u.prefix.as_deref()),
        Some("/api")
    );
    assert_eq!(
        m.headers.get("end-user").and_then(|h| h.exact.as_deref()),
        Some("jason")
    );
    let to = |i: usize| match &vh.routes[i].action {
        RouteAction::Forward(f) => f.clusters[0].cluster.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(to(0), "outbound|9080|v2|reviews.default.svc.cluster.local");
    assert_eq!(to(1), "outbound|9080|v3|reviews.default.svc.cluster.local");
    assert_eq!(
        vh.routes[1].matches[0]
            .uri
            .as_ref()
            .and_then(|u| u.prefix.as_deref()),
        Some("/api"),
        "a delegate rule without match keeps the root's"
    );
    assert!(
        vh.routes[0]
            .origin
            .as_deref()
            .is_some_and(|o| o.contains("reviews-api")),
        "{:?}",
        vh.routes[0].origin
    );
}
