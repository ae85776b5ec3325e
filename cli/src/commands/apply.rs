//! `meshctl apply` and `meshctl delete`.

use mesh_api::load::{self, UnknownKinds};
use mesh_api::{Kind, Severity};
use mesh_control_plane::api::{
    ApplyRequest, ApplyResponse, DeleteRequest, DeleteResponse, ObjectRef,
};
use mesh_control_plane::client::ClientError;

use crate::cli::{ApplyArgs, DeleteArgs, GlobalArgs};
use crate::commands::{diff, live, mesh, validate};
use crate::exit;
use crate::output::Output;

/// `virtualservice.networking.istio.io/reviews`, as kubectl names objects.
fn object_name(kind: &str, name: &str) -> String {
    let group = kind
        .parse::<Kind>()
        .map(|k| k.info().group)
        .unwrap_or_default();
    let kind = kind.to_ascii_lowercase();
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// Split `Kind ns/name` as the control plane reports it.
fn split_reference(r: &str) -> (&str, &str) {
    let (kind, rest) = r.split_once(' ').unwrap_or((r, ""));
    let name = rest.rsplit_once('/').map_or(rest, |(_, n)| n);
    (kind, name)
}

fn namespace(g: &GlobalArgs) -> String {
    g.namespace.clone().unwrap_or_else(|| "default".into())
}

pub fn apply(args: &ApplyArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let changes = diff::load_changes(&args.files, g, out).inspect_err(|_| {
        let _ = out.line("nothing was applied: fix the errors above and apply again");
    })?;
    if !args.force {
        refuse_new_errors(&changes, g, out)?;
    }
    let manifests = changes.iter().map(|r| r.to_json()).collect();
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    let resp: Result<ApplyResponse, ClientError> = rt.block_on(admin.post(
        "/v1/apply",
        &ApplyRequest {
            manifests,
            dry_run: args.dry_run,
        },
    ));
    let resp = match resp {
        Ok(r) => r,
        Err(ClientError::Rejected(e)) => {
            out.error(&e.message);
            for p in &e.problems {
                out.line(&format!(
                    "{}: {}{}",
                    p.resource,
                    p.field
                        .as_deref()
                        .map(|f| format!("{f}: "))
                        .unwrap_or_default(),
                    p.message
                ))?;
            }
            return Err(exit::Exit::with(exit::DATA));
        }
        Err(e) => return Err(e.into()),
    };
    if out.is_data() {
        out.data(&resp)?;
    } else if args.dry_run {
        out.line("valid: nothing was applied (dry run)")?;
    } else {
        for c in &resp.changes {
            let (kind, name) = split_reference(&c.resource);
            let change = serde_json::to_value(c.change)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.line(&format!("{} {change}", object_name(kind, name)))?;
        }
    }
    Ok(())
}

/// Analyze the change against the live mesh; new Error-level findings stop the
/// apply (exit 79) and are shown with their hints.
fn refuse_new_errors(
    changes: &[mesh_api::Resource],
    g: &GlobalArgs,
    out: &Output,
) -> anyhow::Result<()> {
    let (stored, workloads) = live::fetch(&mesh::home(g))?;
    let after = live::layer(&stored, changes);
    let (introduced, _) = live::finding_changes(
        live::analyzer_entries(stored, &workloads),
        live::analyzer_entries(after, &workloads),
        &mesh_analyzer::MeshConfig::default(),
    )?;
    let errors: Vec<_> = introduced
        .iter()
        .filter(|f| f.level == mesh_analyzer::Level::Error)
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    for f in &errors {
        out.line(&f.to_string())?;
        out.line(&format!("    hint: {}", f.hint))?;
    }
    out.error(&format!(
        "nothing was applied: the change would introduce {} error{} (see above); fix {} or apply with --force",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        if errors.len() == 1 { "it" } else { "them" },
    ));
    Err(exit::Exit::with(exit::FINDINGS))
}

pub fn delete(args: &DeleteArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let ns = namespace(g);
    let objects: Vec<ObjectRef> = if !args.files.is_empty() {
        let loaded = load::load(load::read_inputs(&args.files), UnknownKinds::Error);
        if loaded
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
        {
            validate::print_diagnostics(&loaded.diagnostics, out)?;
            return Err(exit::Exit::with(exit::DATA));
        }
        loaded
            .objects
            .iter()
            .map(|o| ObjectRef {
                kind: o.resource.kind().to_string(),
                namespace: o
                    .resource
                    .metadata()
                    .namespace
                    .clone()
                    .unwrap_or_else(|| ns.clone()),
                name: o.resource.metadata().name.clone().unwrap_or_default(),
            })
            .collect()
    } else {
        let kind_arg = args.kind.as_deref().unwrap_or_default();
        let kind = match kind_arg.parse::<Kind>() {
            Ok(k) => k,
            Err(e) => {
                out.error(&e.to_string());
                return Err(exit::Exit::with(exit::USAGE));
            }
        };
        args.names
            .iter()
            .map(|n| ObjectRef {
                kind: kind.to_string(),
                namespace: if kind.info().namespaced {
                    ns.clone()
                } else {
                    String::new()
                },
                name: n.clone(),
            })
            .collect()
    };
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    let resp: DeleteResponse = rt.block_on(admin.post("/v1/delete", &DeleteRequest { objects }))?;
    if out.is_data() {
        out.data(&resp)?;
        return Ok(());
    }
    let mut missing = false;
    for (o, existed) in &resp.deleted {
        if *existed {
            out.line(&format!("{} deleted", object_name(&o.kind, &o.name)))?;
        } else {
            missing = true;
            out.error(&format!(
                "{} not found in namespace {:?}",
                object_name(&o.kind, &o.name),
                o.namespace
            ));
        }
    }
    if missing {
        Err(exit::Exit::with(exit::FAILURE))
    } else {
        Ok(())
    }
}
