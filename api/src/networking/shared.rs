//! Networking types that several kinds use: where traffic goes (`Destination`) and
//! ports with protocols (`Port`).

use serde::{Deserialize, Serialize};

use crate::common::PortSelector;
use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// A destination service: a host in the registry, an optional subset of it (from a
/// DestinationRule), and a port when the service has several.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Destination {
    #[serde(default)]
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortSelector>,
}

impl Destination {
    /// Istio's `validateDestination`: one host (a wildcard prefix such as
    /// `*.example.com` is accepted, `*` alone is not), a subset name that is a DNS
    /// label, a valid port.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        let host_at = at.field("host");
        if self.host == "*" {
            r.error(
                &host_at,
                "destination host '*' invalid: a destination must name a service host",
            );
        } else {
            rules::check_wildcard_host(r, &host_at, &self.host);
        }
        if let Some(subset) = self.subset.as_deref().filter(|s| !s.is_empty())
            && !rules::is_dns1123_label(subset)
        {
            r.error(
                &at.field("subset"),
                format!(
                    "subset name {subset:?} invalid: letters, digits and '-', at most 63 characters"
                ),
            );
        }
        if let Some(port) = &self.port {
            port.validate(&at.field("port"), r);
        }
    }
}

/// A port on a gateway or service entry: number, protocol, and name. Each kind
/// validates it with its own rules (see the gateway and service entry modules).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Port {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u32>,
}
