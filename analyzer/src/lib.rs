//! mesh-analyzer: finds configuration mistakes before they become 503s.
//!
//! Analyzers are pure functions over a set of loaded resources (Istio kinds and the
//! Kubernetes objects mesh-api models) and an optional mesh config. Each is registered
//! under Istio's public name (`virtualservice.DestinationHostAnalyzer`) and reports
//! Istio's message codes (`IST0101`), levels and texts, so `meshctl analyze` reads like
//! `istioctl analyze`. Findings come out in a deterministic order: by resource, then
//! line, code and message.
//!
//! Nothing here does I/O: the CLI loads files (and the live store) and hands the
//! resources in.

mod analyzers;
mod context;
mod defaults;
mod hosts;
pub mod mesh_config;
pub mod messages;

use std::fmt;
use std::sync::Arc;

use mesh_api::load::LoadedObject;
use mesh_api::yaml::Node;
use mesh_api::{Resource, ResourceRef};
use serde::{Deserialize, Serialize};

pub use analyzers::{ALL, Analyzer};
pub use context::{Reporter, Snapshot};
pub use defaults::default_resources;
pub use mesh_config::MeshConfig;
pub use messages::{MESSAGES, Message};

/// How serious a finding is, as Istio names it. Ordered from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    /// Parse `Error`, `warning`, `INFO`.
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warning" | "warn" => Some(Level::Warning),
            "info" => Some(Level::Info),
            _ => None,
        }
    }

    /// Whether this level is at least as severe as `threshold`.
    pub fn at_least(self, threshold: Level) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "Error",
            Level::Warning => "Warning",
            Level::Info => "Info",
        })
    }
}

/// One resource to analyze, with where it came from when it came from a file.
#[derive(Debug, Clone)]
pub struct Entry {
    pub resource: Resource,
    /// The file (or `<stdin>`); `None` for resources from the live store.
    pub file: Option<Arc<str>>,
    /// The line of the document's first field.
    pub line: Option<u32>,
    /// The YAML tree, to place findings at the field they are about.
    pub node: Option<Node>,
}

impl Entry {
    /// A resource with no source file (from the store, or built in code).
    pub fn new(resource: Resource) -> Self {
        Entry {
            resource,
            file: None,
            line: None,
            node: None,
        }
    }
}

impl From<LoadedObject> for Entry {
    fn from(o: LoadedObject) -> Self {
        Entry {
            resource: o.resource,
            file: Some(o.origin.file),
            line: Some(o.origin.line),
            node: Some(o.node),
        }
    }
}

/// One finding: what, how serious, on which resource, where in the files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// `IST0101`.
    pub code: &'static str,
    pub level: Level,
    /// `Kind namespace/name`.
    pub origin: String,
    /// `file:line`, when the resource came from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub message: String,
    pub documentation_url: String,
    /// The analyzer that reported it.
    #[serde(skip)]
    pub analyzer: &'static str,
    /// What to do about it.
    #[serde(skip)]
    pub hint: &'static str,
    /// The resource, for filtering and suppression.
    #[serde(skip)]
    pub resource: ResourceRef,
    #[serde(skip)]
    line: u32,
}

impl Finding {
    fn sort_key(&self) -> (&ResourceRef, u32, &str, &str) {
        (&self.resource, self.line, self.code, &self.message)
    }
}

impl fmt::Display for Finding {
    /// istioctl's log line: `Error [IST0101] (VirtualService ns/name file:12) message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] ({}", self.level, self.code, self.origin)?;
        if let Some(r) = &self.reference {
            write!(f, " {r}")?;
        }
        write!(f, ") {}", self.message)
    }
}

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzeError {
    #[error("unknown analyzer {0:?}; `meshctl analyze --list-analyzers` lists them")]
    UnknownAnalyzer(String),
}

/// The analyzer registered under `name`.
pub fn find_analyzer(name: &str) -> Option<&'static Analyzer> {
    ALL.iter().find(|a| a.name == name)
}

/// Run analyzers over the entries: all of them, or those named in `only`. Findings
/// are deduplicated and sorted by resource, line, code and message.
pub fn analyze(
    entries: &[Entry],
    mesh: &MeshConfig,
    only: &[String],
) -> Result<Vec<Finding>, AnalyzeError> {
    let selected: Vec<&Analyzer> = if only.is_empty() {
        ALL.iter().collect()
    } else {
        only.iter()
            .map(|n| find_analyzer(n).ok_or_else(|| AnalyzeError::UnknownAnalyzer(n.clone())))
            .collect::<Result<_, _>>()?
    };
    let snapshot = Snapshot::new(entries, mesh);
    let mut findings = Vec::new();
    for a in selected {
        let mut r = Reporter::new(a.name);
        (a.run)(&snapshot, &mut r);
        findings.extend(r.into_findings());
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    Ok(findings)
}
