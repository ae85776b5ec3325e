//! Reading resources from files, directories and standard input, keeping where each
//! came from, and turning findings into diagnostics that point into the files.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::resource::{DecodeError, Resource};
use crate::validation::Severity;
use crate::yaml::{self, Node};

/// Where a resource came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The path as the user named it, or `<stdin>`.
    pub file: Arc<str>,
    /// The line and column of the document's first field.
    pub line: u32,
    pub column: u32,
}

/// A resource read from input, with its YAML tree for locating fields.
#[derive(Debug, Clone)]
pub struct LoadedObject {
    pub resource: Resource,
    pub origin: Origin,
    pub node: Node,
}

impl LoadedObject {
    /// A diagnostic placed at `path` inside this resource.
    pub fn diagnostic_at(
        &self,
        severity: Severity,
        path: &crate::path::FieldPath,
        message: impl Into<String>,
    ) -> Diagnostic {
        let pos = self.node.locate(path);
        let mut d = Diagnostic::new(severity, message).resource(&self.resource.reference());
        d.file = Some(self.origin.file.to_string());
        d.line = Some(pos.line);
        d.column = Some(pos.column);
        if !path.is_root() {
            d.field = Some(path.to_string());
        }
        d
    }
}

/// One input's text and name.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: Arc<str>,
    pub text: String,
}

/// What reading a set of inputs gave: the resources, and the problems met on the way
/// (unreadable files, YAML errors, documents that are not valid resources).
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<LoadedObject>,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
}

/// Why an input could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: directory holds no .yaml, .yml or .json files")]
    EmptyDir { path: String },
}

/// Read inputs: files, directories (recursively, `.yaml`/`.yml`/`.json` files in
/// sorted order), or `-` for standard input.
pub fn read_inputs(paths: &[PathBuf]) -> Vec<Result<Input, ReadError>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let mut text = String::new();
            out.push(
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map(|_| Input {
                        name: "<stdin>".into(),
                        text,
                    })
                    .map_err(|source| ReadError::Io {
                        path: "<stdin>".into(),
                        source,
                    }),
            );
        } else if p.is_dir() {
            let mut files = Vec::new();
            if let Err(source) = walk(p, &mut files) {
                out.push(Err(ReadError::Io {
                    path: p.display().to_string(),
                    source,
                }));
                continue;
            }
            if files.is_empty() {
                out.push(Err(ReadError::EmptyDir {
                    path: p.display().to_string(),
                }));
            }
            files.sort();
            out.extend(files.iter().map(|f| read_file(f)));
        } else {
            out.push(read_file(p));
        }
    }
    out
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(path);
        }
    }
    Ok(())
}

fn read_file(p: &Path) -> Result<Input, ReadError> {
    let path = p.display().to_string();
    std::fs::read_to_string(p)
        .map(|text| Input {
            name: path.as_str().into(),
            text,
        })
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ReadError::NotFound { path }
            } else {
                ReadError::Io { path, source }
            }
        })
}

/// How to treat documents of kinds meshctl does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownKinds {
    /// Note them (a file of Kubernetes manifests holds Deployments' neighbours).
    #[default]
    Warn,
    /// Refuse them (apply: nothing is stored that the mesh cannot read).
    Error,
}

/// Parse and decode every input. Problems become diagnostics; nothing stops early,
/// so the user sees all of them at once. Inputs are parsed on several threads when
/// there are many; the result is in input order either way.
pub fn load(inputs: Vec<Result<Input, ReadError>>, unknown: UnknownKinds) -> Loaded {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let parts: Vec<Loaded> = if threads > 1 && inputs.len() >= 2 * threads {
        let chunk = inputs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = inputs
                .chunks(chunk)
                .map(|c| scope.spawn(move || load_inputs(c, unknown)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    } else {
        vec![load_inputs(&inputs, unknown)]
    };
    let mut loaded = Loaded::default();
    for p in parts {
        loaded.objects.extend(p.objects);
        loaded.diagnostics.extend(p.diagnostics);
        loaded.files += p.files;
    }
    warn_duplicates(&mut loaded);
    loaded
}

fn load_inputs(inputs: &[Result<Input, ReadError>], unknown: UnknownKinds) -> Loaded {
    let mut loaded = Loaded::default();
    for input in inputs {
        let input = match input {
            Ok(i) => i,
            Err(e) => {
                loaded
                    .diagnostics
                    .push(Diagnostic::new(Severity::Error, e.to_string()));
                continue;
            }
        };
        loaded.files += 1;
        load_text(input, unknown, &mut loaded);
    }
    loaded
}

fn load_text(input: &Input, unknown: UnknownKinds, loaded: &mut Loaded) {
    let docs = match yaml::parse_documents(&input.text) {
        Ok(d) => d,
        Err(e) => {
            let mut d = Diagnostic::new(Severity::Error, format!("invalid YAML: {}", e.message));
            d.file = Some(input.name.to_string());
            d.line = e.pos.map(|p| p.line);
            d.column = e.pos.map(|p| p.column);
            loaded.diagnostics.push(d);
            return;
        }
    };
    for node in docs {
        let origin = Origin {
            file: input.name.clone(),
            line: node.pos.line,
            column: node.pos.column,
        };
        match Resource::from_node(&node) {
            Ok(resource) => loaded.objects.push(LoadedObject {
                resource,
                origin,
                node,
            }),
            Err(e) => {
                let severity = match (&e, unknown) {
                    (DecodeError::UnknownKind { .. }, UnknownKinds::Warn) => Severity::Warning,
                    _ => Severity::Error,
                };
                let path = e.path();
                let pos = node.locate(&path);
                let mut d = Diagnostic::new(severity, decode_message(&e));
                d.file = Some(input.name.to_string());
                d.line = Some(pos.line);
                d.column = Some(pos.column);
                d.resource = describe_undecoded(&node);
                if !path.is_root() && !matches!(e, DecodeError::UnknownKind { .. }) {
                    d.field = Some(path.to_string());
                }
                loaded.diagnostics.push(d);
            }
        }
    }
}

fn decode_message(e: &DecodeError) -> String {
    match e {
        DecodeError::UnknownKind { .. } => format!("{e}: not a resource meshctl reads; skipped"),
        _ => e.to_string(),
    }
}

/// `Kind ns/name` of a document that did not decode, from its raw fields.
fn describe_undecoded(node: &Node) -> Option<String> {
    let kind = node.get_str("kind")?;
    let meta = node.get("metadata");
    let name = meta.and_then(|m| m.get_str("name")).unwrap_or("<unnamed>");
    Some(match meta.and_then(|m| m.get_str("namespace")) {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    })
}

/// The same resource twice in one file: the later definition wins, which is rarely
/// what was meant. (Across files it is common and deliberate: Istio's samples keep
/// alternative versions of one resource in separate files.)
fn warn_duplicates(loaded: &mut Loaded) {
    let mut seen: HashMap<(Arc<str>, String), &LoadedObject> = HashMap::new();
    let mut found = Vec::new();
    for obj in &loaded.objects {
        let key = (
            obj.origin.file.clone(),
            obj.resource.reference().to_string(),
        );
        if let Some(first) = seen.get(&key) {
            found.push(obj.diagnostic_at(
                Severity::Warning,
                &crate::path::FieldPath::root().field("metadata").field("name"),
                format!(
                    "defined again in this file (first at line {}); the later definition replaces the earlier one",
                    first.origin.line
                ),
            ));
        } else {
            seen.insert(key, obj);
        }
    }
    loaded.diagnostics.extend(found);
}

/// Validate every loaded object, giving diagnostics placed in the files.
pub fn validate(loaded: &Loaded) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for obj in &loaded.objects {
        for f in obj.resource.validate() {
            let mut d = obj.diagnostic_at(f.severity, &f.path, f.message);
            d.code = f.code.map(str::to_owned);
            out.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Loaded {
        load(
            vec![Ok(Input {
                name: "test.yaml".into(),
                text: text.into(),
            })],
            UnknownKinds::Warn,
        )
    }

    #[test]
    fn loads_kubernetes_objects_with_origins() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  labels:\n    app: reviews\nspec:\n  ports:\n  - port: 9080\n    name: http\n  selector:\n    app: reviews\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: reviews-v1\nspec:\n  selector:\n    matchLabels:\n      app: reviews\n  template:\n    metadata:\n      labels:\n        app: reviews\n    spec:\n      containers:\n      - name: reviews\n        image: x\n";
        let l = load_str(text);
        assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
        assert_eq!(l.objects.len(), 2);
        assert_eq!(l.objects[1].origin.line, 14);
        assert_eq!(l.objects[1].resource.kind(), crate::Kind::Deployment);
    }

    #[test]
    fn schema_errors_point_at_the_field_and_line() {
        let text =
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspc: {}\n";
        let l = load_str(text);
        assert_eq!(l.diagnostics.len(), 1, "{:#?}", l.diagnostics);
        let d = &l.diagnostics[0];
        assert_eq!(d.line, Some(5));
        assert_eq!(d.field.as_deref(), Some("spc"));
        assert!(d.message.contains("unknown field `spc`"), "{d}");
        assert_eq!(d.resource.as_deref(), Some("Gateway gw"));
    }

    #[test]
    fn wrong_version_and_unknown_kind() {
        let l = load_str(
            "apiVersion: networking.istio.io/v2\nkind: VirtualService\nmetadata:\n  name: x\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\n",
        );
        assert_eq!(l.diagnostics.len(), 2, "{:#?}", l.diagnostics);
        assert_eq!(l.diagnostics[0].severity, Severity::Error);
        assert!(
            l.diagnostics[0]
                .message
                .contains("networking.istio.io/v1, networking.istio.io/v1beta1")
        );
        assert_eq!(l.diagnostics[1].severity, Severity::Warning);
        assert_eq!(l.diagnostics[1].line, Some(7));
    }

    #[test]
    fn duplicates_are_warned() {
        let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: x\n";
        let l = load_str(&format!("{doc}---\n{doc}"));
        assert_eq!(l.diagnostics.len(), 1, "{:#?}", l.diagnostics);
        assert!(l.diagnostics[0].message.contains("defined again"));
    }
}
