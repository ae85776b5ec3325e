//! Route deltas over real sockets: a proxy that takes deltas and ACKed the
//! previous routes is sent only what changed, and ends up with exactly the
//! routes a whole push gives; a proxy that NACKs a delta, does not take deltas,
//! or reconnects gets the whole routes.

mod common;

use common::{apply, compiled_routes, open_stream, send_ack, start, synced};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesh_api::discovery::{Ack, Hello, ServicePort};
use mesh_api::proxy::{RouteConfig, RoutesDelta, TYPE_ROUTES};
use mesh_control_plane::client::AdminClient;

/// What one simulated proxy did with its routes pushes.
#[derive(Debug, Default)]
struct Seen {
    /// Whole routes pushes applied, and their payload sizes.
    whole: Vec<usize>,
    /// Delta pushes received (applied or NACKed), and their payload sizes.
    deltas: Vec<usize>,
    /// The routes it runs and their version.
    routes: RouteConfig,
    version: String,
}

type Shared = Arc<Mutex<Seen>>;

/// A proxy of `service` in namespace `a` that applies whole routes and, if
/// `deltas`, route deltas against the version it runs; it NACKs the first
/// `nack_deltas` deltas it gets.
async fn proxy(d: &str, id: &str, service: &str, deltas: bool, mut nack_deltas: usize) -> Shared {
    let hello = Hello {
        proxy_id: id.into(),
        service: service.into(),
        namespace: "a".into(),
        service_account: service.into(),
        labels: [("app".to_owned(), service.to_owned())].into(),
        inbound_address: "127.0.0.1:1".into(),
        ports: vec![ServicePort {
            port: 8080,
            app_port: 8081,
            protocol: "http".into(),
            name: "http".into(),
        }],
        app_ready: true,
        accept_deltas: if deltas {
            vec![TYPE_ROUTES.into()]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let (tx, mut pushes) = open_stream(d, hello).await;
    let seen: Shared = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok(Some(p)) = pushes.message().await {
            assert!(p.encoding.is_empty(), "no gzip asked for");
            let mut error = String::new();
            if p.type_url == TYPE_ROUTES {
                let mut seen = s.lock().expect("seen");
                if p.base_version.is_empty() {
                    seen.whole.push(p.payload.len());
                    seen.routes = serde_json::from_slice(&p.payload).expect("routes");
                    seen.version = p.version.clone();
                } else {
                    assert!(deltas, "a delta to a proxy that did not ask for them");
                    seen.deltas.push(p.payload.len());
                    if nack_deltas > 0 {
                        nack_deltas -= 1;
                        error = "delta refused (test)".into();
                    } else if p.base_version != seen.version {
                        error = format!(
                            "delta against {} but running {}",
                            p.base_version, seen.version
                        );
                    } else {
                        let delta: RoutesDelta = serde_json::from_slice(&p.payload).expect("delta");
                        delta.apply(&mut seen.routes).expect("applies");
                        seen.version = p.version.clone();
                    }
                }
            }
            let version = if error.is_empty() || p.type_url != TYPE_ROUTES {
                p.version
            } else {
                s.lock().expect("seen").version.clone()
            };
            let ack = Ack {
                type_url: p.type_url,
                version,
                nonce: p.nonce,
                error,
            };
            if !send_ack(&tx, ack).await {
                return;
            }
        }
    });
    seen
}

fn vs(v1_weight: u32) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: web, namespace: a}}\nspec:\n  hosts: [web]\n  http:\n  - route:\n    - {{destination: {{host: web, subset: v1}}, weight: {v1_weight}}}\n    - {{destination: {{host: web, subset: v2}}, weight: {}}}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: web, namespace: a}}\nspec:\n  host: web\n  subsets:\n  - {{name: v1, labels: {{version: v1}}}}\n  - {{name: v2, labels: {{version: v2}}}}\n",
        100 - v1_weight
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_change_goes_as_a_delta_only_to_proxies_that_run_the_previous_routes() {
    let home = tempfile::tempdir().expect("tempdir");
    let (state, _stop) = start(home.path()).await;
    let admin = AdminClient::new(state.admin_address.parse().expect("addr"));
    let d = state.discovery_address.as_str();
    let rev = apply(&admin, &vs(90)).await;

    let takes = proxy(d, "web-1.a", "web", true, 0).await;
    let whole_only = proxy(d, "web-2.a", "web", false, 0).await;
    let refuses = proxy(d, "web-3.a", "web", true, 1).await;
    // More services, so that one virtual host is a small part of the routes.
    let mut others = Vec::new();
    for s in ["api", "db", "cache", "auth", "search"] {
        others.push(proxy(d, &format!("{s}-1.a"), s, true, 0).await);
    }
    let n = 3 + others.len();
    synced(&admin, n, rev).await;
    for p in [&takes, &whole_only, &refuses] {
        let seen = p.lock().expect("seen");
        assert_eq!((seen.whole.len(), seen.deltas.len()), (1, 0));
    }

    let rev = apply(&admin, &vs(70)).await;
    synced(&admin, n, rev).await;
    let want = compiled_routes(&admin, "web-1.a").await;
    assert_ne!(want, RouteConfig::default());
    {
        let seen = takes.lock().expect("seen");
        assert_eq!(seen.whole.len(), 1, "{seen:?}");
        assert_eq!(seen.deltas.len(), 1, "{seen:?}");
        assert!(
            seen.deltas[0] * 2 < seen.whole[0],
            "the delta ({} bytes) is a small part of the routes ({} bytes)",
            seen.deltas[0],
            seen.whole[0]
        );
        // Exactly what a whole push of the new routes gives.
        assert_eq!(seen.routes, want);
        assert_eq!(seen.routes, whole_only.lock().expect("seen").routes);
    }
    {
        let seen = whole_only.lock().expect("seen");
        assert_eq!((seen.whole.len(), seen.deltas.len()), (2, 0));
    }
    {
        // NACKed the delta: the whole routes followed, and it runs them.
        let seen = refuses.lock().expect("seen");
        assert_eq!((seen.whole.len(), seen.deltas.len()), (2, 1), "{seen:?}");
        assert_eq!(seen.routes, want);
    }
    for (p, s) in others.iter().zip(["api", "db", "cache", "auth", "search"]) {
        let want = compiled_routes(&admin, &format!("{s}-1.a")).await;
        let seen = p.lock().expect("seen");
        assert_eq!(seen.deltas.len(), 1, "{s}: {seen:?}");
        assert_eq!(seen.routes, want);
    }

    // A reconnecting proxy starts from nothing: the whole routes first, then
    // deltas again.
    let again = proxy(d, "web-1.a", "web", true, 0).await;
    synced(&admin, n, rev).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    {
        let seen = again.lock().expect("seen");
        assert_eq!((seen.whole.len(), seen.deltas.len()), (1, 0), "{seen:?}");
        assert_eq!(seen.routes, want);
    }
    let rev = apply(&admin, &vs(50)).await;
    synced(&admin, n, rev).await;
    let want = compiled_routes(&admin, "web-1.a").await;
    let seen = again.lock().expect("seen");
    assert_eq!((seen.whole.len(), seen.deltas.len()), (1, 1), "{seen:?}");
    assert_eq!(seen.routes, want);
}
