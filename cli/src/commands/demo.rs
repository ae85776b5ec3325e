//! `meshctl demo`: the mesh at work, from a fresh install to a finished rollout.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use mesh_control_plane::api::{
    ApplyRequest, ApplyResponse, DeleteRequest, DeleteResponse, ObjectRef,
};
use mesh_control_plane::client::AdminClient;
use mesh_control_plane::registry::Workload;
use mesh_control_plane::server::{ProxyStatus, SyncStatus};

use crate::cli::{DemoArgs, GlobalArgs, InstallArgs, UninstallArgs};
use crate::commands::{install, mesh, signals};
use crate::output::{self, Output};

const DESTINATION_RULES: &str = include_str!("../../../samples/demo/destination-rules.yaml");

struct Step {
    title: &'static str,
    file: &'static str,
    yaml: &'static str,
}

const STEPS: &[Step] = &[
    Step {
        title: "all traffic to reviews v1",
        file: "samples/demo/1-reviews-v1.yaml",
        yaml: include_str!("../../../samples/demo/1-reviews-v1.yaml"),
    },
    Step {
        title: "canary: 80% to v1, 20% to v2",
        file: "samples/demo/2-reviews-80-20.yaml",
        yaml: include_str!("../../../samples/demo/2-reviews-80-20.yaml"),
    },
    Step {
        title: "user jason sees v2, everyone else v1",
        file: "samples/demo/3-reviews-jason.yaml",
        yaml: include_str!("../../../samples/demo/3-reviews-jason.yaml"),
    },
    Step {
        title: "rollout done: everyone to v3",
        file: "samples/demo/4-reviews-v3.yaml",
        yaml: include_str!("../../../samples/demo/4-reviews-v3.yaml"),
    },
];

/// The demo's services: (service, version, calls).
const SERVICES: &[(&str, &str, &[&str])] = &[
    ("details", "v1", &[]),
    ("ratings", "v1", &[]),
    ("reviews", "v1", &[]),
    ("reviews", "v2", &["http://ratings:9080/ratings"]),
    ("reviews", "v3", &["http://ratings:9080/ratings"]),
    (
        "productpage",
        "v1",
        &["http://details:9080/details", "http://reviews:9080/reviews"],
    ),
    ("traffic", "v1", &[]),
];

fn manifests(yaml: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let docs =
        mesh_api::yaml::parse_documents(yaml).map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    docs.iter()
        .map(|d| {
            mesh_api::Resource::from_node(d)
                .map(|r| r.to_json())
                .map_err(|e| anyhow::anyhow!("demo config: {e}"))
        })
        .collect()
}

struct Fleet {
    children: Vec<Child>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &self.children {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}

/// A free port for an app to listen on, outside the kernel's ephemeral range
/// (where sidecars' `:0` listeners land): a port picked by binding `:0` and
/// closing could be handed to a sidecar before the app binds it.
pub fn free_app_port() -> anyhow::Result<u16> {
    const LO: u16 = 20_000;
    const SPAN: u32 = 12_000;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().rotate_left(13);
    for i in 0..SPAN {
        let offset = seed.wrapping_add(i.wrapping_mul(7919)) % SPAN;
        let port = LO + u16::try_from(offset).unwrap_or(0);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port in {LO}..{}", u32::from(LO) + SPAN)
}

fn start(home: &Path) -> anyhow::Result<Fleet> {
    let exe = std::env::current_exe().context("find meshctl")?;
    let logs = home.join("demo");
    std::fs::create_dir_all(&logs)?;
    let mut fleet = Fleet {
        children: Vec::new(),
    };
    for (service, version, calls) in SERVICES {
        let log = std::fs::File::create(logs.join(format!("{service}-{version}.log")))?;
        let mut cmd = Command::new(&exe);
        cmd.env("MESHCTL_HOME", home)
            .args([
                "run",
                "--service",
                service,
                "--version",
                version,
                "--port",
                "9080",
            ])
            .args(["--app-port", &free_app_port()?.to_string(), "--"])
            .arg(&exe)
            .args(["sample-app", "--service", service, "--version", version])
            .args(calls.iter().flat_map(|c| ["--call", *c]))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        fleet
            .children
            .push(cmd.spawn().context("start a demo service")?);
    }
    Ok(fleet)
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("timed out waiting for {what}")
}

async fn synced(admin: &AdminClient, n: usize) -> bool {
    let Ok(s) = admin.get::<Vec<ProxyStatus>>("/v1/proxy-status").await else {
        return false;
    };
    s.len() == n
        && s.iter()
            .all(|p| p.types.iter().all(|t| t.status == SyncStatus::Synced))
}

/// Send `n` requests to productpage through the traffic generator's sidecar and
/// count which reviews version answered.
async fn drive(
    proxy: &str,
    n: usize,
    user: Option<&str>,
) -> anyhow::Result<BTreeMap<String, usize>> {
    let stream = tokio::net::TcpStream::connect(proxy).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut counts = BTreeMap::new();
    for _ in 0..n {
        let mut req = http::Request::get("http://productpage:9080/productpage")
            .header(http::header::HOST, "productpage:9080");
        if let Some(u) = user {
            req = req.header("end-user", u);
        }
        let resp = sender
            .send_request(req.body(Empty::<Bytes>::new())?)
            .await?;
        let ok = resp.status().is_success();
        let body = resp.into_body().collect().await?.to_bytes();
        let key = if ok {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            v["calls"]
                .as_array()
                .and_then(|c| {
                    c.iter()
                        .find(|c| c["url"].as_str().is_some_and(|u| u.contains("reviews")))
                })
                .and_then(|c| c["body"]["version"].as_str())
                .map_or_else(|| "error".to_string(), |v| format!("reviews {v}"))
        } else {
            "error".into()
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    Ok(counts)
}

fn show(out: &Output, label: &str, counts: &BTreeMap<String, usize>) -> std::io::Result<()> {
    let total: usize = counts.values().sum();
    out.line(&format!("  {label}"))?;
    for (k, n) in counts {
        let pct = *n as f64 * 100.0 / total.max(1) as f64;
        let bar = "#".repeat((pct / 2.5).round() as usize);
        out.line(&format!(
            "    {k:<11} {:<40} {pct:5.1}%  ({n})",
            out.paint(output::OK, &bar)
        ))?;
    }
    Ok(())
}

pub fn run(args: &DemoArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let home = mesh::home(g);
    let installed_here = mesh::running(&home).is_none();
    if installed_here {
        install::install(
            &InstallArgs {
                profile: None,
                set: Vec::new(),
                yes: true,
                timeout: 30,
            },
            g,
            out,
        )?;
    }
    let admin = mesh::admin(&home)?;
    out.line(&format!(
        "starting {} services, each with its sidecar (logs in {})",
        SERVICES.len(),
        home.join("demo").display()
    ))?;
    let fleet = start(&home)?;
    let rt = mesh::runtime()?;
    let result = rt.block_on(async {
        wait_until("the demo's workloads to join", Duration::from_secs(60), || async {
            admin.get::<Vec<Workload>>("/v1/workloads").await.map(|w| w.len() >= SERVICES.len()).unwrap_or(false)
        })
        .await?;
        let workloads: Vec<Workload> = admin.get("/v1/workloads").await?;
        let proxy = workloads
            .iter()
            .find(|w| w.service == "traffic")
            .map(|w| w.outbound_address.clone())
            .context("the traffic generator did not join")?;
        // Each app becomes an endpoint once it accepts connections: wait until the
        // whole chain answers.
        wait_until("the demo's apps to answer", Duration::from_secs(30), || async {
            drive(&proxy, 6, None).await.is_ok_and(|c| !c.contains_key("error"))
        })
        .await?;
        admin
            .post::<_, ApplyResponse>("/v1/apply", &ApplyRequest { manifests: manifests(DESTINATION_RULES)?, dry_run: false })
            .await?;
        for (i, step) in STEPS.iter().enumerate() {
            admin
                .post::<_, ApplyResponse>("/v1/apply", &ApplyRequest { manifests: manifests(step.yaml)?, dry_run: false })
                .await?;
            let applied = Instant::now();
            if let Err(e) =
                wait_until("every proxy to sync", Duration::from_secs(30), || synced(&admin, SERVICES.len())).await
            {
                let status: Vec<ProxyStatus> = admin.get("/v1/proxy-status").await.unwrap_or_default();
                let behind: Vec<String> = status
                    .iter()
                    .flat_map(|p| {
                        p.types.iter().filter(|t| t.status != SyncStatus::Synced).map(move |t| {
                            format!("{} {}: {:?} {}", p.proxy_id, t.type_url, t.status, t.error.clone().unwrap_or_default())
                        })
                    })
                    .collect();
                bail!("{e}: {} of {} proxies connected; not synced: {}", status.len(), SERVICES.len(), behind.join("; "));
            }
            out.line(&format!(
                "\nstep {}/{}: {}  ({}; all {} proxies synced in {} ms)",
                i + 1,
                STEPS.len(),
                out.paint(output::BOLD, step.title),
                step.file,
                SERVICES.len(),
                applied.elapsed().as_millis()
            ))?;
            if step.file.contains("jason") {
                show(out, "as jason:", &drive(&proxy, args.requests / 2, Some("jason")).await?)?;
                show(out, "as anyone else:", &drive(&proxy, args.requests / 2, None).await?)?;
            } else {
                show(out, &format!("{} requests to productpage:", args.requests), &drive(&proxy, args.requests, None).await?)?;
            }
        }
        if args.keep {
            out.line(&format!(
                "\nthe demo keeps running; try:\n  meshctl get workloads\n  meshctl proxy-status\n  curl -x http://{proxy} http://productpage:9080/productpage\nCtrl-C stops it."
            ))?;
            signals::terminated().await;
        }
        let objects = vec![
            ObjectRef { kind: "VirtualService".into(), namespace: "default".into(), name: "reviews".into() },
            ObjectRef { kind: "DestinationRule".into(), namespace: "default".into(), name: "reviews".into() },
            ObjectRef { kind: "DestinationRule".into(), namespace: "default".into(), name: "ratings".into() },
        ];
        admin.post::<_, DeleteResponse>("/v1/delete", &DeleteRequest { objects }).await?;
        anyhow::Ok(())
    });
    drop(fleet);
    if installed_here {
        install::uninstall(
            &UninstallArgs {
                purge: false,
                yes: true,
            },
            g,
            out,
        )?;
    }
    result?;
    out.line("\ndemo finished: everything it started is stopped")?;
    Ok(())
}
