//! Types that several resource kinds share: durations, workload selectors, port
//! selectors, percentages, string matches.

mod duration;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use duration::{Duration, DurationError};

use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// Selects workloads by their labels (`selector.matchLabels`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

impl WorkloadSelector {
    /// Label syntax; Istio also forbids wildcard values in selectors.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        let labels = at.field("matchLabels");
        rules::check_labels(r, &labels, &self.match_labels);
        for (k, v) in &self.match_labels {
            if k.is_empty() {
                r.error(&labels, "selector label key must not be empty");
            }
            if k.contains('*') || v.contains('*') {
                r.error(
                    &labels.key(k),
                    "wildcard is not supported in selector labels",
                );
            }
        }
    }

    /// Whether the selector matches a workload with these labels. An empty selector
    /// matches every workload.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
    }
}

/// A port by number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortSelector {
    #[serde(default)]
    pub number: u32,
}

impl PortSelector {
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        rules::check_port(r, &at.field("number"), self.number);
    }
}

/// A percentage as Istio writes it: `percentage: {value: 0.1}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Percent {
    #[serde(default)]
    pub value: f64,
}

impl Percent {
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        rules::check_percentage(r, &at.field("value"), self.value);
    }
}

/// How a string is matched: exactly, by prefix, or by an RE2 regex; at most one.
/// An empty match (`{}`) matches the presence of the value, as in Istio's header
/// matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StringMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// The one way a [`StringMatch`] matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind<'a> {
    /// Present, with any value.
    Present,
    Exact(&'a str),
    Prefix(&'a str),
    Regex(&'a str),
}

impl StringMatch {
    pub fn kind(&self) -> MatchKind<'_> {
        if let Some(e) = &self.exact {
            MatchKind::Exact(e)
        } else if let Some(p) = &self.prefix {
            MatchKind::Prefix(p)
        } else if let Some(r) = &self.regex {
            MatchKind::Regex(r)
        } else {
            MatchKind::Present
        }
    }

    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        let set = [&self.exact, &self.prefix, &self.regex]
            .iter()
            .filter(|o| o.is_some())
            .count();
        if set > 1 {
            r.error(at, "set exactly one of exact, prefix or regex");
        }
        if let Some(p) = &self.prefix
            && p.is_empty()
        {
            r.error(&at.field("prefix"), "prefix match must not be empty");
        }
        if let Some(re) = &self.regex {
            rules::check_regex(r, &at.field("regex"), re);
        }
    }
}
