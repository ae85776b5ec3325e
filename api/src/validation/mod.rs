//! Validation with Istio's webhook semantics: a resource's spec is checked field by
//! field and every problem is collected (not just the first), each at its field path.
//!
//! Errors make a resource invalid; warnings and infos are valid-but-suspicious
//! findings (an unreachable route, a deprecated field) that never block an apply.

pub mod rules;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::path::FieldPath;

/// How serious a finding is. Ordered: `Error` is the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One problem found in one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    /// An Istio message code (`IST0130`) where the finding is one Istio also reports.
    pub code: Option<&'static str>,
    pub path: FieldPath,
    pub message: String,
}

/// Collects the findings of one resource.
#[derive(Debug, Default)]
pub struct Report {
    findings: Vec<Finding>,
}

impl Report {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value at `at` is invalid. Say what was found and what would be valid.
    pub fn error(&mut self, at: &FieldPath, message: impl Into<String>) {
        self.push(Severity::Error, None, at, message);
    }

    /// Valid, but probably not what the user meant.
    pub fn warning(&mut self, at: &FieldPath, message: impl Into<String>) {
        self.push(Severity::Warning, None, at, message);
    }

    /// A finding that Istio reports under a message code.
    pub fn coded(
        &mut self,
        severity: Severity,
        code: &'static str,
        at: &FieldPath,
        message: impl Into<String>,
    ) {
        self.push(severity, Some(code), at, message);
    }

    fn push(
        &mut self,
        severity: Severity,
        code: Option<&'static str>,
        at: &FieldPath,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            severity,
            code,
            path: at.clone(),
            message: message.into(),
        });
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Test helpers shared by the resource modules' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Finding, Severity};
    use crate::resource::Resource;

    /// Parse one YAML document into a resource and validate it; panics if it does not
    /// parse, so tests of validation rules say which rule failed, not that YAML did.
    pub fn validate_yaml(yaml: &str) -> Vec<Finding> {
        let docs = crate::yaml::parse_documents(yaml).expect("test YAML parses");
        assert_eq!(docs.len(), 1, "one document per test");
        let res = Resource::from_node(&docs[0]).unwrap_or_else(|e| panic!("decode: {e}"));
        res.validate()
    }

    /// The error messages (with their paths) of a resource.
    pub fn errors(yaml: &str) -> Vec<String> {
        of(yaml, Severity::Error)
    }

    pub fn warnings(yaml: &str) -> Vec<String> {
        of(yaml, Severity::Warning)
    }

    fn of(yaml: &str, sev: Severity) -> Vec<String> {
        validate_yaml(yaml)
            .into_iter()
            .filter(|f| f.severity == sev)
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect()
    }

    /// Assert that exactly one error mentions `needle` (in path or message).
    #[track_caller]
    pub fn assert_error(yaml: &str, needle: &str) {
        let errs = errors(yaml);
        assert!(
            errs.iter().any(|e| e.contains(needle)),
            "expected an error containing {needle:?}, got {errs:#?}"
        );
    }

    #[track_caller]
    pub fn assert_valid(yaml: &str) {
        let errs = errors(yaml);
        assert!(errs.is_empty(), "expected no errors, got {errs:#?}");
    }
}
