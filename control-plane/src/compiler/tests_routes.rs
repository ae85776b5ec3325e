//! Route compilation with VirtualServices: bookinfo samples, client-side match
//! filtering, ports, visibility, actions.

use mesh_api::proxy::RouteAction;

use super::tests::{bookinfo, forward, members, resources, run, sample, vhost, workload};

const REVIEWS: &str = "reviews.default.svc.cluster.local:9080";

fn c(port: u16, subset: &str, host: &str) -> String {
    mesh_api::proxy::outbound_cluster_name(port, Some(subset).filter(|s| !s.is_empty()), host)
}

#[test]
fn bookinfo_80_20() {
    let res = sample(&[
        "destination-rule-reviews.yaml",
        "virtual-service-reviews-80-20.yaml",
    ]);
    let ws = bookinfo();
    let cfg = run(&res, &ws, &ws[0]);
    let vh = vhost(&cfg, REVIEWS);
    assert_eq!(vh.routes.len(), 1);
    let r = &vh.routes[0];
    assert_eq!(r.name, "reviews-0");
    assert!(r.matches.is_empty());
    assert_eq!(r.origin.as_deref(), Some("VirtualService default/reviews"));
    let h = "reviews.default.svc.cluster.local";
    assert_eq!(
        forward(&r.action),
        [(c(9080, "v1", h), 80), (c(9080, "v2", h), 20)]
    );
    assert_eq!(members(&cfg, &c(9080, "v1", h)), ["reviews-v1"]);
    assert_eq!(members(&cfg, &c(9080, "v2", h)), ["reviews-v2"]);
    // Other services keep their default route.
    assert_eq!(
        vhost(&cfg, "ratings.default.svc.cluster.local:9080").routes[0].name,
        "default"
    );
}

#[test]
fn bookinfo_jason_header_match_first() {
    let res = sample(&[
        "destination-rule-all.yaml",
        "virtual-service-reviews-jason-v2-v3.yaml",
    ]);
    let ws = bookinfo();
    let cfg = run(&res, &ws, &ws[0]);
    let vh = vhost(&cfg, REVIEWS);
    assert_eq!(vh.routes.len(), 2);
    let h = "reviews.default.svc.cluster.local";
    let first = &vh.routes[0];
    assert_eq!(first.matches.len(), 1);
    let m = &first.matches[0].headers["end-user"];
    assert_eq!(m.exact.as_deref(), Some("jason"));
    assert_eq!(forward(&first.action), [(c(9080, "v2", h), 100)]);
    assert!(vh.routes[1].matches.is_empty());
    assert_eq!(forward(&vh.routes[1].action), [(c(9080, "v3", h), 100)]);
}

#[test]
fn all_bookinfo_virtual_services_compile() {
    let files = [
        "virtual-service-all-v1.yaml",
        "virtual-service-details-v2.yaml",
        "virtual-service-ratings-test-abort.yaml",
        "virtual-service-ratings-test-delay.yaml",
        "virtual-service-reviews-50-v3.yaml",
        "virtual-service-reviews-90-10.yaml",
        "virtual-service-reviews-test-v2.yaml",
        "virtual-service-reviews-v2-v3.yaml",
        "virtual-service-reviews-v3.yaml",
        "bookinfo-gateway.yaml",
    ];
    let ws = bookinfo();
    for f in files {
        let res = sample(&["destination-rule-all.yaml", f]);
        let cfg = run(&res, &ws, &ws[0]);
        for vh in &cfg.routes.virtual_hosts {
            assert!(!vh.routes.is_empty(), "{f}: {} has no routes", vh.name);
        }
    }
    // The gateway-bound VS does not touch sidecars: productpage keeps its default.
    let res = sample(&["bookinfo-gateway.yaml"]);
    let cfg = run(&res, &ws, &ws[0]);
    assert_eq!(
        vhost(&cfg, "productpage.default.svc.cluster.local:9080").routes[0].name,
        "default"
    );
}

#[test]
fn source_labels_and_namespace_filter_by_client() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - name: from-reviews-v2
    match:
    - sourceLabels: {app: reviews, version: v2}
    route:
    - destination: {host: ratings, subset: v2}
  - name: from-prod
    match:
    - sourceNamespace: prod
    route:
    - destination: {host: ratings, subset: v3}
  - name: gw-only
    match:
    - gateways: [my-gateway]
    route:
    - destination: {host: ratings, subset: v4}
  - route:
    - destination: {host: ratings, subset: v1}
"#,
    );
    let mut ws = bookinfo();
    ws.push(workload("prod-client", "client", "prod", &[], &[80]));
    let names = |i: usize| -> Vec<String> {
        let cfg = run(&res, &ws, &ws[i]);
        vhost(&cfg, "ratings.default.svc.cluster.local:9080")
            .routes
            .iter()
            .map(|r| r.name.clone())
            .collect()
    };
    assert_eq!(names(2), ["from-reviews-v2", "ratings-3"]); // reviews-v2
    assert_eq!(names(1), ["ratings-3"]); // reviews-v1
    assert_eq!(names(5), ["from-prod", "ratings-3"]);
    // Matches surviving the filter are kept whole (source conditions are not
    // request conditions).
    let cfg = run(&res, &ws, &ws[2]);
    let r = &vhost(&cfg, "ratings.default.svc.cluster.local:9080").routes[0];
    assert_eq!(r.matches.len(), 1);
    assert_eq!(r.matches[0], Default::default());
}

#[test]
fn port_specific_matches() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api]
  http:
  - match:
    - port: 8080
      uri: {prefix: /admin}
    - uri: {prefix: /v2}
    route:
    - destination: {host: api, subset: admin}
  - match:
    - port: 9090
    route:
    - destination: {host: api}
  - route:
    - destination: {host: api, port: {number: 8080}}
"#,
    );
    let api = workload("api-1", "api", "default", &[], &[8080, 9090]);
    let ws = vec![api.clone()];
    let cfg = run(&res, &ws, &api);
    let h = "api.default.svc.cluster.local";
    let on8080 = &vhost(&cfg, "api.default.svc.cluster.local:8080").routes;
    assert_eq!(on8080.len(), 2);
    assert_eq!(on8080[0].matches.len(), 2);
    assert_eq!(forward(&on8080[0].action), [(c(8080, "admin", h), 100)]);
    assert_eq!(forward(&on8080[1].action), [(c(8080, "", h), 100)]);
    let on9090 = &vhost(&cfg, "api.default.svc.cluster.local:9090").routes;
    assert_eq!(on9090.len(), 3);
    assert_eq!(on9090[0].matches.len(), 1);
    assert_eq!(
        on9090[0].matches[0]
            .uri
            .as_ref()
            .and_then(|u| u.prefix.as_deref()),
        Some("/v2")
    );
    // No port on a destination of a multi-port service: the virtual host's port.
    assert_eq!(forward(&on9090[0].action), [(c(9090, "admin", h), 100)]);
    assert_eq!(forward(&on9090[1].action), [(c(9090, "", h), 100)]);
    assert_eq!(forward(&on9090[2].action), [(c(8080, "", h), 100)]);
}

#[test]
fn export_to_dot_hides_from_other_namespaces() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  exportTo: ["."]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-for-prod, namespace: prod}
spec:
  hosts: [reviews.default.svc.cluster.local]
  exportTo: [prod]
  http:
  - route:
    - destination: {host: reviews.default.svc.cluster.local, subset: v3}
"#,
    );
    let mut ws = bookinfo();
    ws.push(workload("prod-client", "client", "prod", &[], &[80]));
    ws.push(workload("qa-client", "client", "qa", &[], &[80]));
    let h = "reviews.default.svc.cluster.local";
    let route = |i: usize| {
        let cfg = run(&res, &ws, &ws[i]);
        forward(&vhost(&cfg, REVIEWS).routes[0].action)
    };
    assert_eq!(route(0), [(c(9080, "v1", h), 100)]);
    assert_eq!(route(5), [(c(9080, "v3", h), 100)]);
    assert_eq!(route(6), [(c(9080, "", h), 100)]);
}

#[test]
fn first_virtual_service_wins_and_exact_beats_wildcard() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wild}
spec:
  hosts: ["*.default.svc.cluster.local"]
  http:
  - directResponse: {status: 418, body: {string: teapot}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: one}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: two}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
"#,
    );
    let ws = bookinfo();
    let cfg = run(&res, &ws, &ws[0]);
    assert_eq!(vhost(&cfg, REVIEWS).routes[0].name, "one-0");
    let ratings = &vhost(&cfg, "ratings.default.svc.cluster.local:9080").routes[0];
    assert_eq!(
        ratings.action,
        RouteAction::DirectResponse {
            status: 418,
            body: "teapot".to_owned()
        }
    );
}

#[test]
fn redirect_direct_response_rewrite_timeout() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: other, port: 8080, scheme: https}
  - match: [{uri: {exact: /moved}}]
    redirect: {uri: /x, redirectCode: 308}
  - match: [{uri: {exact: /bytes}}]
    directResponse: {status: 503, body: {bytes: aGVsbG8gd29ybGQ=}}
  - match: [{uri: {exact: /empty}}]
    directResponse: {status: 204}
  - name: delegated
    delegate: {name: other}
  - match: [{uri: {prefix: /api}, ignoreUriCase: true, headers: {X-User: {prefix: a}}, withoutHeaders: {debug: {}}, queryParams: {q: {exact: "1"}}, method: {exact: GET}}]
    rewrite: {uri: /, authority: api.internal}
    timeout: 2s
    route:
    - destination: {host: web}
      weight: 0
"#,
    );
    let w = workload("web-1", "web", "default", &[], &[80]);
    let cfg = run(&res, std::slice::from_ref(&w), &w);
    let routes = &vhost(&cfg, "web.default.svc.cluster.local:80").routes;
    assert_eq!(routes.len(), 5, "delegate rule skipped");
    assert_eq!(
        routes[0].action,
        RouteAction::Redirect {
            status: 301,
            scheme: Some("https".into()),
            authority: Some("other".into()),
            port: Some(8080),
            path: Some("/new".into()),
        }
    );
    assert!(matches!(
        routes[1].action,
        RouteAction::Redirect { status: 308, .. }
    ));
    assert_eq!(
        routes[2].action,
        RouteAction::DirectResponse {
            status: 503,
            body: "hello world".into()
        }
    );
    assert_eq!(
        routes[3].action,
        RouteAction::DirectResponse {
            status: 204,
            body: String::new()
        }
    );
    let RouteAction::Forward(f) = &routes[4].action else {
        panic!("forward expected");
    };
    assert_eq!(f.clusters[0].weight, 100);
    assert_eq!(
        f.clusters[0].cluster,
        "outbound|80||web.default.svc.cluster.local"
    );
    assert_eq!(f.rewrite_uri.as_deref(), Some("/"));
    assert_eq!(f.rewrite_authority.as_deref(), Some("api.internal"));
    assert_eq!(
        f.timeout.as_ref().map(|t| t.to_string()),
        Some("2s".to_owned())
    );
    let m = &routes[4].matches[0];
    assert!(m.ignore_uri_case);
    assert!(m.headers.contains_key("x-user"));
    assert!(m.without_headers.contains_key("debug"));
    assert_eq!(m.query_params["q"].exact.as_deref(), Some("1"));
    assert_eq!(
        m.method.as_ref().and_then(|x| x.exact.as_deref()),
        Some("GET")
    );
}

#[test]
fn no_rule_left_means_no_routes() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {app: nobody}}]
    route: [{destination: {host: reviews}}]
"#,
    );
    let ws = bookinfo();
    let cfg = run(&res, &ws, &ws[0]);
    assert!(vhost(&cfg, REVIEWS).routes.is_empty());
}

#[test]
fn cross_namespace_destination_and_unknown_subset() {
    let res = resources(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: prod}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.default, subset: nope}
      weight: 90
    - destination: {host: ratings}
      weight: 10
"#,
    );
    let mut ws = bookinfo();
    ws.push(workload("ratings-prod", "ratings", "prod", &[], &[7070]));
    let cfg = run(&res, &ws, &ws[0]);
    let r = &vhost(&cfg, REVIEWS).routes[0];
    assert_eq!(
        forward(&r.action),
        [
            (c(9080, "nope", "reviews.default.svc.cluster.local"), 90),
            // `ratings` is relative to the VS namespace, and its only port is used.
            (c(7070, "", "ratings.prod.svc.cluster.local"), 10),
        ]
    );
    assert!(!cfg.clusters.iter().any(|cl| cl.name.contains("nope")));
}

#[test]
fn base64() {
    assert_eq!(
        super::routes::base64_decode("aGk=").as_deref(),
        Some(&b"hi"[..])
    );
    assert_eq!(
        super::routes::base64_decode("aGk").as_deref(),
        Some(&b"hi"[..])
    );
    assert_eq!(super::routes::base64_decode("a!"), None);
}
