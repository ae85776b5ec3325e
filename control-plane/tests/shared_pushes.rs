//! Pushes are compiled once per view and shared: a change still reaches exactly
//! the proxies it affects, and each gets the config compiled for it.

mod common;

use common::{apply, compiled_routes, open_stream, send_ack, start, synced};

use std::sync::{Arc, Mutex};

use mesh_api::discovery::{Ack, Hello, ServicePort};
use mesh_api::proxy::RouteConfig;
use mesh_control_plane::client::AdminClient;

/// Every push one simulated proxy received: (type, payload decompressed).
type Log = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A proxy of service `web` that ACKs every push and logs it.
async fn proxy(discovery: &str, id: &str, ns: &str, labels: &[(&str, &str)], port: u16) -> Log {
    proxy_with(discovery, id, ns, labels, port, false).await.0
}

/// ... that also accepts gzip payloads if `gzip`; the second log lists each push's
/// (type, encoding).
async fn proxy_with(
    discovery: &str,
    id: &str,
    ns: &str,
    labels: &[(&str, &str)],
    port: u16,
    gzip: bool,
) -> (Log, Arc<Mutex<Vec<(String, String)>>>) {
    let hello = Hello {
        proxy_id: id.into(),
        service: "web".into(),
        namespace: ns.into(),
        service_account: "web".into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        inbound_address: format!("127.0.0.1:{port}"),
        ports: vec![ServicePort {
            port: 8080,
            app_port: 8081,
            protocol: "http".into(),
            name: "http".into(),
        }],
        admin_address: String::new(),
        proxy_version: "test".into(),
        outbound_address: String::new(),
        app_ready: true,
        accept_encodings: if gzip {
            vec!["gzip".into()]
        } else {
            Vec::new()
        },
        accept_deltas: Vec::new(),
    };
    let (tx, mut pushes) = open_stream(discovery, hello).await;
    let log: Log = Arc::default();
    let encodings: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let (l, e) = (log.clone(), encodings.clone());
    tokio::spawn(async move {
        while let Ok(Some(p)) = pushes.message().await {
            let payload = match p.encoding.as_str() {
                "gzip" => {
                    use std::io::Read as _;
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&p.payload[..])
                        .read_to_end(&mut out)
                        .expect("gunzip");
                    out
                }
                _ => p.payload.to_vec(),
            };
            e.lock()
                .expect("log")
                .push((p.type_url.clone(), p.encoding.clone()));
            l.lock().expect("log").push((p.type_url.clone(), payload));
            let ack = Ack {
                type_url: p.type_url,
                version: p.version,
                nonce: p.nonce,
                error: String::new(),
            };
            if !send_ack(&tx, ack).await {
                return;
            }
        }
    });
    (log, encodings)
}

fn vs(v1_weight: u32, canary_source: bool) -> String {
    let canary = if canary_source {
        "  - match: [{sourceLabels: {track: canary}}]\n    route: [{destination: {host: web, subset: v2}}]\n"
    } else {
        ""
    };
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: web, namespace: a}}\nspec:\n  hosts: [web]\n  exportTo: [\".\"]\n  http:\n{canary}  - route:\n    - {{destination: {{host: web, subset: v1}}, weight: {v1_weight}}}\n    - {{destination: {{host: web, subset: v2}}, weight: {}}}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: web, namespace: a}}\nspec:\n  host: web\n  subsets:\n  - {{name: v1, labels: {{version: v1}}}}\n  - {{name: v2, labels: {{version: v2}}}}\n",
        100 - v1_weight
    )
}

fn take(log: &Log) -> Vec<(String, Vec<u8>)> {
    std::mem::take(&mut *log.lock().expect("log"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_exactly_the_proxies_it_affects_with_their_own_config() {
    let home = tempfile::tempdir().expect("tempdir");
    let (state, _stop) = start(home.path()).await;
    let admin = AdminClient::new(state.admin_address.parse().expect("addr"));
    let d = state.discovery_address.as_str();
    let rev = apply(&admin, &vs(90, false)).await;

    // a1 and a2 differ only in labels no rule names: one view. a3 is a canary
    // (named by sourceLabels below). b1 is in a namespace the VirtualService is
    // not exported to.
    let a1 = proxy(
        d,
        "web-1.a",
        "a",
        &[("app", "web"), ("version", "v1"), ("pod", "1")],
        1,
    )
    .await;
    let a2 = proxy(
        d,
        "web-2.a",
        "a",
        &[("app", "web"), ("version", "v1"), ("pod", "2")],
        2,
    )
    .await;
    let a3 = proxy(
        d,
        "web-3.a",
        "a",
        &[("app", "web"), ("version", "v1"), ("track", "canary")],
        3,
    )
    .await;
    let b1 = proxy(d, "web-1.b", "b", &[("app", "web"), ("version", "v1")], 4).await;
    let all = [
        ("web-1.a", &a1),
        ("web-2.a", &a2),
        ("web-3.a", &a3),
        ("web-1.b", &b1),
    ];
    synced(&admin, 4, rev).await;
    for (_, log) in &all {
        take(log);
    }

    // A weight change: routes, to namespace `a` only.
    let rev = apply(&admin, &vs(80, false)).await;
    synced(&admin, 4, rev).await;
    let got: Vec<Vec<(String, Vec<u8>)>> = all.iter().map(|(_, l)| take(l)).collect();
    for (i, (id, _)) in all.iter().enumerate().take(3) {
        let types: Vec<&str> = got[i].iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["routes"], "{id}");
        let pushed: RouteConfig = serde_json::from_slice(&got[i][0].1).expect("routes json");
        assert_eq!(pushed, compiled_routes(&admin, id).await, "{id}");
    }
    assert!(got[3].is_empty(), "web-1.b is not affected: {:?}", got[3]);
    assert_eq!(got[0][0].1, got[1][0].1, "one view, one payload");

    // A rule that tells the canary apart: every proxy of `a` gets new routes
    // (the rule's position names the routes), each exactly its own compiled
    // config; a1 and a2 still share theirs, a3 has its own; b1 is not affected.
    let rev = apply(&admin, &vs(80, true)).await;
    synced(&admin, 4, rev).await;
    let got: Vec<Vec<(String, Vec<u8>)>> = all.iter().map(|(_, l)| take(l)).collect();
    for (i, (id, _)) in all.iter().enumerate().take(3) {
        let types: Vec<&str> = got[i].iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["routes"], "{id}");
        let pushed: RouteConfig = serde_json::from_slice(&got[i][0].1).expect("routes json");
        assert_eq!(pushed, compiled_routes(&admin, id).await, "{id}");
    }
    assert_eq!(got[0][0].1, got[1][0].1, "one view, one payload");
    assert_ne!(got[0][0].1, got[2][0].1, "the canary has its own routes");
    assert!(got[3].is_empty(), "web-1.b is not affected: {:?}", got[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_payloads_go_compressed_to_proxies_that_accept_gzip() {
    let home = tempfile::tempdir().expect("tempdir");
    let (state, _stop) = start(home.path()).await;
    let admin = AdminClient::new(state.admin_address.parse().expect("addr"));
    let d = state.discovery_address.as_str();
    // Enough services for a routes payload well over the compression threshold.
    let services: String = (0..80)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: a}}\nspec:\n  ports: [{{name: http, port: 80}}]\n---\n"
            )
        })
        .collect();
    let rev = apply(&admin, &services).await;
    let (gz_log, gz_enc) = proxy_with(d, "web-1.a", "a", &[("app", "web")], 1, true).await;
    let (plain_log, plain_enc) = proxy_with(d, "web-2.a", "a", &[("app", "web")], 2, false).await;
    synced(&admin, 2, rev).await;
    let last_routes = |log: &Log| {
        log.lock()
            .expect("log")
            .iter()
            .rev()
            .find(|(t, _)| t == "routes")
            .map(|(_, p)| p.clone())
            .expect("routes pushed")
    };
    let (gz, plain) = (last_routes(&gz_log), last_routes(&plain_log));
    assert!(plain.len() > 4096, "routes are {} bytes", plain.len());
    assert_eq!(gz, plain, "the same config, decompressed");
    let pushed: RouteConfig = serde_json::from_slice(&gz).expect("routes json");
    assert_eq!(pushed, compiled_routes(&admin, "web-1.a").await);
    let routes_encoding = |log: &Arc<Mutex<Vec<(String, String)>>>| {
        log.lock()
            .expect("log")
            .iter()
            .rev()
            .find(|(t, _)| t == "routes")
            .map(|(_, e)| e.clone())
            .expect("routes pushed")
    };
    assert_eq!(routes_encoding(&gz_enc), "gzip");
    assert_eq!(routes_encoding(&plain_enc), "");
}
