//! `meshctl get KIND [NAME]` and `meshctl get workloads`.

use mesh_api::Kind;
use mesh_control_plane::api::StoredEntry;
use mesh_control_plane::registry::Workload;

use crate::cli::{GetArgs, GlobalArgs, OutputFormat};
use crate::commands::mesh;
use crate::exit;
use crate::output::Output;

pub fn run(args: &GetArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    let ns = g.namespace.clone().unwrap_or_else(|| "default".into());
    if matches!(args.kind.as_str(), "workloads" | "workload" | "wl") {
        let mut workloads: Vec<Workload> = rt.block_on(admin.get("/v1/workloads"))?;
        if !g.all_namespaces {
            workloads.retain(|w| w.namespace == ns);
        }
        if let Some(name) = &args.name {
            workloads.retain(|w| &w.proxy_id == name || &w.service == name);
        }
        return print_workloads(&workloads, g, out);
    }
    let kind = match args.kind.parse::<Kind>() {
        Ok(k) => k,
        Err(e) => {
            out.error(&format!("{e}, workloads"));
            return Err(exit::Exit::with(exit::USAGE));
        }
    };
    let mut path = format!("/v1/resources?kind={kind}");
    if kind.info().namespaced && !g.all_namespaces {
        path.push_str(&format!("&namespace={ns}"));
    }
    let mut entries: Vec<StoredEntry> = rt.block_on(admin.get(&path))?;
    if let Some(name) = &args.name {
        entries.retain(|e| {
            e.manifest
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                == Some(name)
        });
        if entries.is_empty() {
            out.error(&format!(
                "{} {name:?} not found{}",
                kind,
                if kind.info().namespaced {
                    format!(" in namespace {ns:?}")
                } else {
                    String::new()
                }
            ));
            return Err(exit::Exit::with(exit::FAILURE));
        }
    }
    if out.is_data() {
        if args.name.is_some() {
            return Ok(out.data(&entries[0].manifest)?);
        }
        let list = serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": entries.iter().map(|e| &e.manifest).collect::<Vec<_>>(),
        });
        return Ok(out.data(&list)?);
    }
    if entries.is_empty() {
        out.note(&format!(
            "no {} found{}",
            kind.info().plural,
            if kind.info().namespaced && !g.all_namespaces {
                format!(" in namespace {ns:?}")
            } else {
                String::new()
            }
        ))?;
        return Ok(());
    }
    let mut headers = Vec::new();
    if g.all_namespaces && kind.info().namespaced {
        headers.push("namespace");
    }
    headers.push("name");
    let extra = extra_columns(kind);
    headers.extend(extra.iter().map(|(h, _)| *h));
    headers.push("age");
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let m = &e.manifest;
            let mut row = Vec::new();
            if g.all_namespaces && kind.info().namespaced {
                row.push(str_at(m, "/metadata/namespace"));
            }
            row.push(str_at(m, "/metadata/name"));
            row.extend(extra.iter().map(|(_, f)| f(m)));
            row.push(mesh::age(e.created_unix));
            row
        })
        .collect();
    out.table(&headers, &rows)?;
    Ok(())
}

fn str_at(v: &serde_json::Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn list_at(v: &serde_json::Value, ptr: &str) -> String {
    match v.pointer(ptr).and_then(|s| s.as_array()) {
        Some(a) => {
            let items: Vec<&str> = a.iter().filter_map(|s| s.as_str()).collect();
            format!("[{}]", items.join(","))
        }
        None => String::new(),
    }
}

type Column = (&'static str, fn(&serde_json::Value) -> String);

/// The columns istioctl/kubectl show for the Istio kinds.
fn extra_columns(kind: Kind) -> Vec<Column> {
    match kind {
        Kind::VirtualService => vec![
            ("gateways", |m| list_at(m, "/spec/gateways")),
            ("hosts", |m| list_at(m, "/spec/hosts")),
        ],
        Kind::DestinationRule => vec![("host", |m| str_at(m, "/spec/host"))],
        Kind::ServiceEntry => vec![
            ("hosts", |m| list_at(m, "/spec/hosts")),
            ("location", |m| str_at(m, "/spec/location")),
            ("resolution", |m| str_at(m, "/spec/resolution")),
        ],
        Kind::PeerAuthentication => vec![("mode", |m| str_at(m, "/spec/mtls/mode"))],
        Kind::AuthorizationPolicy => vec![("action", |m| str_at(m, "/spec/action"))],
        _ => Vec::new(),
    }
}

fn print_workloads(workloads: &[Workload], g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    if out.is_data() {
        return Ok(out.data(&workloads)?);
    }
    if workloads.is_empty() {
        out.note(
            "no workloads: start one with `meshctl run --service NAME --port PORT -- COMMAND`",
        )?;
        return Ok(());
    }
    let wide = out.format() == OutputFormat::Wide;
    let mut headers = vec!["name"];
    if g.all_namespaces {
        headers.push("namespace");
    }
    headers.extend([
        "service", "version", "ready", "ports", "inbound", "outbound",
    ]);
    if wide {
        headers.extend(["admin", "service account", "labels"]);
    }
    headers.push("age");
    let rows: Vec<Vec<String>> = workloads
        .iter()
        .map(|w| {
            let mut row = vec![w.proxy_id.clone()];
            if g.all_namespaces {
                row.push(w.namespace.clone());
            }
            row.push(w.service.clone());
            row.push(w.labels.get("version").cloned().unwrap_or_default());
            row.push(if w.app_ready { "yes" } else { "no" }.into());
            row.push(
                w.ports
                    .iter()
                    .map(|p| format!("{}->{}", p.port, p.app_port))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            row.push(w.inbound_address.clone());
            row.push(w.outbound_address.clone());
            if wide {
                row.push(w.admin_address.clone());
                row.push(w.service_account.clone());
                row.push(
                    w.labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(","),
                );
            }
            row.push(mesh::age(w.connected_unix));
            row
        })
        .collect();
    out.table(&headers, &rows)?;
    Ok(())
}
