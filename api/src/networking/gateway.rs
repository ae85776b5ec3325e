//! PLACEHOLDER: to be replaced with the full Istio API and its validation.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::object::{Object, Spec};
use crate::validation::Report;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GatewaySpec {
    #[serde(flatten)]
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl Spec for GatewaySpec {
    const KIND: Kind = Kind::Gateway;
    fn validate(&self, _meta: &ObjectMeta, _r: &mut Report) {}
}

pub type Gateway = Object<GatewaySpec>;
