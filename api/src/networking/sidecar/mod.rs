//! placeholder
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::object::{Object, Spec};
use crate::validation::Report;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SidecarSpec {
    #[serde(flatten)]
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl Spec for SidecarSpec {
    const KIND: Kind = Kind::Sidecar;
    fn validate(&self, _meta: &ObjectMeta, _r: &mut Report) {}
}

pub type Sidecar = Object<SidecarSpec>;
