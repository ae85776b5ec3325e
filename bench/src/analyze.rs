//! `mesh-bench analyze`: how long `meshctl analyze` takes on a directory of
//! generated resources (10,000 by default): reading and decoding the files, then
//! running every analyzer. Prints the figures; asserts nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mesh_analyzer::{Entry, MeshConfig};
use mesh_api::load::{self, UnknownKinds};

use crate::AnalyzeArgs;

/// Resources per generated app: Service, Deployment, two Pods, DestinationRule,
/// VirtualService, Gateway, ingress VirtualService, AuthorizationPolicy,
/// ServiceEntry.
const PER_APP: usize = 10;

fn app(i: usize, ns: &str, broken: bool) -> String {
    let subset = if broken { "v9" } else { "v2" };
    format!(
        "\
apiVersion: v1
kind: Service
metadata: {{name: app{i}, namespace: {ns}}}
spec:
  selector: {{app: app{i}}}
  ports:
  - {{name: http, port: 9080}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app{i}-v1, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: app{i}, version: v1}}}}
  template:
    metadata: {{labels: {{app: app{i}, version: v1}}}}
    spec:
      containers: [{{name: app, image: example/app}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: app{i}-v1-abc, namespace: {ns}, labels: {{app: app{i}, version: v1}}}}
spec:
  containers: [{{name: app, image: example/app}}, {{name: istio-proxy, image: proxyv2}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: app{i}-v2-abc, namespace: {ns}, labels: {{app: app{i}, version: v2}}}}
spec:
  containers: [{{name: app, image: example/app}}, {{name: istio-proxy, image: proxyv2}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: app{i}, namespace: {ns}}}
spec:
  host: app{i}
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: app{i}, namespace: {ns}}}
spec:
  hosts: [app{i}]
  http:
  - match:
    - headers: {{end-user: {{exact: jason}}}}
    route:
    - destination: {{host: app{i}, subset: {subset}}}
  - route:
    - destination: {{host: app{i}, subset: v1}}
      weight: 80
    - destination: {{host: app{i}, subset: v2}}
      weight: 20
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: app{i}-gw, namespace: {ns}}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: 80, name: http, protocol: HTTP}}
    hosts: [app{i}.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: app{i}-ingress, namespace: {ns}}}
spec:
  hosts: [app{i}.example.com]
  gateways: [app{i}-gw]
  http:
  - route:
    - destination: {{host: app{i}, subset: v1}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: app{i}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: app{i}}}}}
  rules:
  - from:
    - source: {{namespaces: [{ns}]}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: ext{i}, namespace: {ns}}}
spec:
  hosts: [api{i}.example.com]
  ports: [{{number: 443, name: https, protocol: HTTPS}}]
  resolution: DNS
"
    )
}

/// Write `n` resources (rounded down to whole apps) into `dir`, one file per app,
/// spread over namespaces of 50 apps. One app in 100 routes to a subset that does
/// not exist, so there is something to find.
fn generate(dir: &Path, n: usize) -> anyhow::Result<usize> {
    let apps = n / PER_APP;
    for i in 0..apps {
        let ns = format!("team{}", i / 50);
        let text = app(i, &ns, i % 100 == 0);
        std::fs::write(dir.join(format!("app{i:05}.yaml")), text)
            .with_context(|| format!("writing into {}", dir.display()))?;
    }
    Ok(apps * PER_APP)
}

pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        return measure(dir, args);
    }
    let tmp = std::env::temp_dir().join(format!("mesh-bench-analyze-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let result = measure(&tmp, args);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// CPU time the process has used (all threads, user + system), in seconds, from
/// /proc/self/stat (10 ms resolution): on a busy machine wall time also counts
/// waiting for a core.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn measure(dir: &Path, args: &AnalyzeArgs) -> anyhow::Result<()> {
    let n = generate(dir, args.resources)?;
    let mesh = MeshConfig::default();
    let mut report = String::new();
    let mut best: Option<(f64, f64, usize, f64)> = None;
    for round in 1..=args.rounds {
        let cpu = cpu_seconds();
        let start = Instant::now();
        let loaded = load::load(load::read_inputs(&[PathBuf::from(dir)]), UnknownKinds::Warn);
        let read = start.elapsed().as_secs_f64();
        anyhow::ensure!(
            loaded.objects.len() == n,
            "decoded {} of {n} resources",
            loaded.objects.len()
        );
        let mut entries: Vec<Entry> = loaded.objects.into_iter().map(Entry::from).collect();
        entries.extend(mesh_analyzer::default_resources("istio-system"));
        let start = Instant::now();
        let findings = mesh_analyzer::analyze(&entries, &mesh, &[])?;
        let analyze = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        writeln!(
            report,
            "round {round}: read+decode {:.0} ms, analyze {:.0} ms, total {:.0} ms wall, {:.0} ms CPU, {} findings",
            read * 1e3,
            analyze * 1e3,
            (read + analyze) * 1e3,
            cpu * 1e3,
            findings.len()
        )?;
        if best.is_none_or(|b| read + analyze < b.0 + b.1) {
            best = Some((read, analyze, findings.len(), cpu));
        }
    }
    print!("{report}");
    if args.per_analyzer {
        // Where reading goes, phase by phase, without the loader's threads.
        let inputs = load::read_inputs(&[PathBuf::from(dir)]);
        let texts: Vec<String> = inputs
            .into_iter()
            .filter_map(Result::ok)
            .map(|i| i.text)
            .collect();
        let start = Instant::now();
        let docs: Vec<mesh_api::yaml::Node> = texts
            .iter()
            .flat_map(|t| mesh_api::yaml::parse_documents(t).unwrap_or_default())
            .collect();
        let parse = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let json: Vec<serde_json::Value> = docs.iter().map(|d| d.to_json()).collect();
        let to_json = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let n = json
            .into_iter()
            .filter_map(|j| mesh_api::Resource::from_json(j).ok())
            .count();
        let decode = start.elapsed().as_secs_f64();
        println!(
            "reading, one thread: YAML parse {:.0} ms, to JSON {:.0} ms, decode {:.0} ms ({n} resources)",
            parse * 1e3,
            to_json * 1e3,
            decode * 1e3
        );
        println!("each analyzer alone (each run indexes the snapshot again):");
        let loaded = load::load(load::read_inputs(&[PathBuf::from(dir)]), UnknownKinds::Warn);
        let entries: Vec<Entry> = loaded.objects.into_iter().map(Entry::from).collect();
        let mut times = Vec::new();
        for a in mesh_analyzer::ALL {
            let start = Instant::now();
            mesh_analyzer::analyze(&entries, &mesh, &[a.name.to_owned()])?;
            times.push((start.elapsed().as_secs_f64(), a.name));
        }
        times.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (t, name) in times {
            println!("  {:>7.1} ms  {name}", t * 1e3);
        }
    }
    if let Some((read, analyze, findings, cpu)) = best {
        println!(
            "analyze: {n} resources in {} files: best of {}: {:.0} ms wall ({:.0} ms read+decode, {:.0} ms analyzers), {:.0} ms CPU, {findings} findings",
            n / PER_APP,
            args.rounds,
            (read + analyze) * 1e3,
            read * 1e3,
            analyze * 1e3,
            cpu * 1e3,
        );
    }
    Ok(())
}
