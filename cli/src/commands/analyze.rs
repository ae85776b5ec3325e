//! `meshctl analyze [PATH...]`: find configuration mistakes that span resources,
//! with Istio's analyzers and message codes, in files alone or layered over the
//! installed mesh's config and workloads.

use std::path::PathBuf;

use mesh_analyzer::{Entry, Finding, Level, MeshConfig};
use mesh_api::Severity;
use mesh_api::load::{self, UnknownKinds};
use serde::Serialize;

use crate::cli::{AnalyzeArgs, GlobalArgs, LevelArg};
use crate::commands::{live, mesh, validate};
use crate::exit::{self, Exit};
use crate::output::{self, Output};

fn level(l: LevelArg) -> Level {
    match l {
        LevelArg::Error => Level::Error,
        LevelArg::Warning => Level::Warning,
        LevelArg::Info => Level::Info,
    }
}

/// One `--suppress CODE=RESOURCE`: a code (or `*`) and a resource pattern.
#[derive(Debug, Clone)]
struct Suppression {
    code: String,
    resource: String,
}

impl Suppression {
    fn parse(s: &str) -> Option<Self> {
        let (code, resource) = s.split_once('=')?;
        let (code, resource) = (code.trim(), resource.trim());
        (!code.is_empty() && !resource.is_empty()).then(|| Suppression {
            code: code.to_owned(),
            resource: resource.to_owned(),
        })
    }

    /// Whether this hides `f`. The resource matches as `Kind ns/name`, `Kind name`
    /// or istioctl's `Kind name.ns`; `*` matches any text.
    fn hides(&self, f: &Finding) -> bool {
        if !glob(&self.code, f.code) {
            return false;
        }
        let r = &f.resource;
        let mut forms = vec![format!("{} {}", r.kind, r.name)];
        if let Some(ns) = &r.namespace {
            forms.push(format!("{} {ns}/{}", r.kind, r.name));
            forms.push(format!("{} {}.{ns}", r.kind, r.name));
        }
        forms.iter().any(|form| glob(&self.resource, form))
    }
}

/// Shell-style matching with `*` only.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Codes a resource asks not to be told about (istioctl's annotation).
fn annotated_suppressions(e: &Entry) -> Option<Vec<String>> {
    let a = e.resource.metadata().annotations.as_ref()?;
    let v = a.get("galley.istio.io/analyze-suppress")?;
    Some(v.split(',').map(|c| c.trim().to_owned()).collect())
}

/// `--list-analyzers`, as JSON/YAML data.
#[derive(Debug, Serialize)]
struct AnalyzerInfo {
    name: &'static str,
    description: &'static str,
    codes: &'static [&'static str],
}

fn list(out: &Output) -> anyhow::Result<()> {
    let all: Vec<AnalyzerInfo> = mesh_analyzer::ALL
        .iter()
        .map(|a| AnalyzerInfo {
            name: a.name,
            description: a.description,
            codes: a.codes,
        })
        .collect();
    if out.is_data() {
        return Ok(out.data(&all)?);
    }
    out.line("Available analyzers:")?;
    for a in &all {
        out.line(&format!(
            "* {} ({})",
            out.paint(output::BOLD, a.name),
            a.codes.join(", ")
        ))?;
        out.line(&format!("    {}", a.description))?;
    }
    Ok(())
}

pub fn run(args: &AnalyzeArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    if args.list_analyzers {
        return list(out);
    }
    for name in &args.analyzers {
        if mesh_analyzer::find_analyzer(name).is_none() {
            out.error(&format!(
                "unknown analyzer {name:?}; `meshctl analyze --list-analyzers` lists them"
            ));
            return Err(Exit::with(exit::USAGE));
        }
    }
    let mut suppressions = Vec::new();
    for s in &args.suppress {
        let Some(sup) = Suppression::parse(s) else {
            out.error(&format!(
                "--suppress {s:?}: expected CODE=RESOURCE, such as \"IST0102=Namespace default\""
            ));
            return Err(Exit::with(exit::USAGE));
        };
        suppressions.push(sup);
    }
    let mesh = match &args.mesh_config_file {
        None => MeshConfig::default(),
        Some(path) => {
            let parsed = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| MeshConfig::from_yaml(&t).map_err(|e| e.to_string()));
            match parsed {
                Ok(m) => m,
                Err(e) => {
                    out.error(&format!("{}: {e}", path.display()));
                    return Err(Exit::with(exit::DATA));
                }
            }
        }
    };
    let default_ns = g.namespace.clone().unwrap_or_else(|| "default".into());
    let mut entries = Vec::new();
    if !args.files.is_empty() {
        entries = read_files(&args.files, &default_ns, out)?;
    }
    let home = mesh::home(g);
    let use_store = match args.use_store {
        Some(b) => b,
        None => live::mesh_answers(&home),
    };
    if use_store {
        let (resources, workloads) = live::fetch(&home)?;
        let mut live = live::analyzer_entries(resources, &workloads);
        live.append(&mut entries);
        entries = live;
    } else if args.files.is_empty() {
        out.error("nothing to analyze: name files or directories, or install a mesh to analyze its live config");
        return Err(Exit::with(exit::USAGE));
    } else {
        // As istioctl does for files alone: the mesh's default ingress gateway.
        entries.extend(mesh_analyzer::default_resources(mesh.root_namespace()));
    }
    let suppressed: Vec<(String, Vec<String>)> = entries
        .iter()
        .filter_map(|e| annotated_suppressions(e).map(|c| (e.resource.reference().to_string(), c)))
        .collect();
    let mut findings = mesh_analyzer::analyze(&entries, &mesh, &args.analyzers)?;
    let only_ns = g.namespace.as_deref().filter(|_| !g.all_namespaces);
    findings.retain(|f| {
        only_ns.is_none_or(|n| f.resource.namespace.as_deref().is_none_or(|fns| fns == n))
            && !suppressions.iter().any(|s| s.hides(f))
            && !suppressed
                .iter()
                .any(|(r, codes)| *r == f.origin && codes.iter().any(|c| c == f.code || c == "*"))
    });
    let failed = findings
        .iter()
        .any(|f| f.level.at_least(level(args.failure_threshold)));
    let shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.level.at_least(level(args.output_threshold)))
        .collect();
    if out.is_data() {
        out.data(&shown)?;
    } else {
        print_log(&shown, entries.len(), only_ns, out)?;
    }
    if failed {
        Err(Exit::with(exit::FINDINGS))
    } else {
        Ok(())
    }
}

fn print_log(
    findings: &[&Finding],
    resources: usize,
    ns: Option<&str>,
    out: &Output,
) -> std::io::Result<()> {
    if findings.is_empty() {
        let scope = match ns {
            Some(n) => format!("namespace {n}"),
            None => format!("{resources} resources"),
        };
        return out.line(&format!(
            "{} No validation issues found when analyzing {scope}.",
            out.paint(output::OK, "✔")
        ));
    }
    for f in findings {
        let style = match f.level {
            Level::Error => output::ERROR,
            Level::Warning => output::WARNING,
            Level::Info => output::INFO,
        };
        let mut line = format!(
            "{} [{}] ({}",
            out.paint(style, &f.level.to_string()),
            f.code,
            f.origin
        );
        if let Some(r) = &f.reference {
            line.push(' ');
            line.push_str(r);
        }
        line.push_str(") ");
        line.push_str(&f.message);
        out.line(&line)?;
        out.line(&out.paint(output::DIM, &format!("    hint: {}", f.hint)))?;
    }
    Ok(())
}

/// Load the files; problems that stop decoding exit 65 after being shown, unknown
/// kinds are noted and skipped. Namespaced resources without a namespace go to
/// `default_ns`.
fn read_files(files: &[PathBuf], default_ns: &str, out: &Output) -> anyhow::Result<Vec<Entry>> {
    let loaded = load::load(load::read_inputs(files), UnknownKinds::Warn);
    let (errors, notes): (Vec<_>, Vec<_>) = loaded
        .diagnostics
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    for d in &notes {
        out.note(&validate::render(d, out))?;
    }
    if !errors.is_empty() {
        for d in &errors {
            out.note(&validate::render(d, out))?;
        }
        out.error(&format!(
            "{} of the inputs could not be read; nothing was analyzed",
            errors.len()
        ));
        return Err(Exit::with(exit::DATA));
    }
    Ok(loaded
        .objects
        .into_iter()
        .map(|mut o| {
            if o.resource.kind().info().namespaced && o.resource.metadata().namespace.is_none() {
                o.resource.metadata_mut().namespace = Some(default_ns.to_owned());
            }
            Entry::from(o)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("Namespace *", "Namespace default"));
        assert!(glob("*", "anything"));
        assert!(glob("Pod *.default", "Pod a.default"));
        assert!(!glob("Pod *.default", "Pod a.prod"));
        assert!(glob("IST0102", "IST0102"));
        assert!(!glob("a*b*c", "ab"));
    }
}
