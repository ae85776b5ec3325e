//! The envelope every resource shares: `apiVersion`, `kind`, `metadata`, `spec`.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// An Istio resource: Kubernetes object metadata around a typed spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Object<S> {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: S,
    /// Written by controllers, never read by meshctl; kept so round trips lose nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

/// A resource spec: what a kind's `spec` field holds, and its validation.
pub trait Spec:
    Sized + Clone + fmt::Debug + PartialEq + Default + Serialize + DeserializeOwned
{
    const KIND: Kind;

    /// Check the spec with Istio's webhook rules, reporting each problem at its path
    /// (paths start at `spec`). `meta` gives the name and namespace, which some
    /// rules depend on.
    fn validate(&self, meta: &ObjectMeta, r: &mut Report);
}

/// `Kind namespace/name`, or `Kind name` when the object has no namespace, as
/// istioctl names resources in its messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Checks every object's metadata gets: a name that Kubernetes accepts, a valid
/// namespace, valid labels.
pub fn validate_metadata(meta: &ObjectMeta, r: &mut Report) {
    let at = FieldPath::root().field("metadata");
    match meta.name.as_deref() {
        None | Some("") => {
            if meta.generate_name.is_none() {
                r.error(&at.field("name"), "metadata.name is required");
            }
        }
        Some(name) => {
            if !rules::is_dns1123_subdomain(name) {
                r.error(
                    &at.field("name"),
                    format!(
                        "name {name:?} invalid: lowercase letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit"
                    ),
                );
            }
        }
    }
    if let Some(ns) = meta.namespace.as_deref()
        && !(rules::is_dns1123_label(ns) && ns == ns.to_lowercase())
    {
        r.error(
            &at.field("namespace"),
            format!(
                "namespace {ns:?} invalid: lowercase letters, digits and '-', at most 63 characters"
            ),
        );
    }
    if let Some(labels) = &meta.labels {
        rules::check_labels(r, &at.field("labels"), labels);
    }
}
