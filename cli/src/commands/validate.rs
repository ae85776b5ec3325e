//! `meshctl validate -f PATH...`: check resources with Istio's validation rules.

use std::path::PathBuf;

use mesh_api::Severity;
use mesh_api::diagnostic::Diagnostic;
use mesh_api::load::{self, UnknownKinds};
use serde::Serialize;

use crate::cli::ValidateArgs;
use crate::exit;
use crate::output::{self, Output};

/// What to validate.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub files: Vec<PathBuf>,
}

/// The outcome, as `-o json|yaml` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateReport {
    pub valid: bool,
    pub files: usize,
    pub resources: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub diagnostics: Vec<Diagnostic>,
}

/// Load and validate; every problem of every input, sorted by file and line.
pub fn validate(opts: &ValidateOptions) -> ValidateReport {
    let loaded = load::load(load::read_inputs(&opts.files), UnknownKinds::Warn);
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(load::validate(&loaded));
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.severity).cmp(&(&b.file, b.line, b.column, b.severity))
    });
    let count = |s| diagnostics.iter().filter(|d| d.severity == s).count();
    let errors = count(Severity::Error);
    ValidateReport {
        valid: errors == 0,
        files: loaded.files,
        resources: loaded.objects.len(),
        errors,
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
        diagnostics,
    }
}

pub fn run(args: &ValidateArgs, out: &Output) -> anyhow::Result<()> {
    let report = validate(&ValidateOptions {
        files: args.files.clone(),
    });
    if out.is_data() {
        out.data(&report)?;
    } else {
        print_text(&report, out)?;
    }
    if report.valid {
        Ok(())
    } else {
        Err(exit::Exit::with(exit::DATA))
    }
}

/// Each diagnostic on its own line.
pub fn print_diagnostics(diagnostics: &[Diagnostic], out: &Output) -> std::io::Result<()> {
    for d in diagnostics {
        out.line(&render(d, out))?;
    }
    Ok(())
}

fn print_text(report: &ValidateReport, out: &Output) -> std::io::Result<()> {
    print_diagnostics(&report.diagnostics, out)?;
    let what = format!(
        "{} {} in {} {}",
        report.resources,
        plural(report.resources, "resource", "resources"),
        report.files,
        plural(report.files, "file", "files"),
    );
    let mut notes = Vec::new();
    if report.errors > 0 {
        notes.push(format!(
            "{} {}",
            report.errors,
            plural(report.errors, "error", "errors")
        ));
    }
    if report.warnings > 0 {
        notes.push(format!(
            "{} {}",
            report.warnings,
            plural(report.warnings, "warning", "warnings")
        ));
    }
    if report.infos > 0 {
        notes.push(format!("{} info", report.infos));
    }
    let summary = if report.valid {
        let extra = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        format!("{}: {what}{extra}", out.paint(output::OK, "valid"))
    } else {
        format!(
            "{}: {what}: {}",
            out.paint(output::ERROR, "invalid"),
            notes.join(", ")
        )
    };
    out.line(&summary)
}

/// `file:line:col: error[CODE]: Kind ns/name: field: message`, coloured on a terminal.
pub fn render(d: &Diagnostic, out: &Output) -> String {
    let mut s = String::new();
    if let Some(loc) = d.location() {
        s.push_str(&out.paint(output::BOLD, &format!("{loc}:")));
        s.push(' ');
    }
    let style = match d.severity {
        Severity::Error => output::ERROR,
        Severity::Warning => output::WARNING,
        Severity::Info => output::INFO,
    };
    let label = match &d.code {
        Some(code) => format!("{}[{code}]", d.severity),
        None => d.severity.to_string(),
    };
    s.push_str(&out.paint(style, &label));
    s.push_str(": ");
    if let Some(r) = &d.resource {
        s.push_str(r);
        s.push_str(": ");
    }
    if let Some(f) = d.field.as_deref().filter(|f| !f.is_empty()) {
        s.push_str(&out.paint(output::DIM, f));
        s.push_str(": ");
    }
    s.push_str(&d.message);
    s
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
