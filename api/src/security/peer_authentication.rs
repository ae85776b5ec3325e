//! PeerAuthentication (`security.istio.io`): which mutual-TLS mode a workload's
//! sidecar accepts, for the whole mesh, a namespace, a workload, or a single port.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::policy::{reject_dry_run, validate_targeting};
use crate::common::WorkloadSelector;
use crate::kind::Kind;
use crate::object::{Object, Spec};
use crate::path::FieldPath;
use crate::validation::Report;

/// A PeerAuthentication resource.
pub type PeerAuthentication = Object<PeerAuthenticationSpec>;

/// The `spec` of a PeerAuthentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerAuthenticationSpec {
    /// The workloads the policy applies to; without it, every workload in the
    /// namespace (or the mesh, in the root namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<WorkloadSelector>,
    /// The mutual-TLS mode for the selected workloads; unset inherits from the parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls: Option<MutualTls>,
    /// Per-port modes, keyed by the workload's (container) port number; only with a
    /// selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_level_mtls: Option<BTreeMap<u32, MutualTls>>,
}

/// Mutual-TLS settings: `{mode: STRICT}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MutualTls {
    /// The mode; absent means `UNSET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MtlsMode>,
}

impl MutualTls {
    /// The mode, `UNSET` when not written.
    pub fn mode(&self) -> MtlsMode {
        self.mode.unwrap_or_default()
    }
}

/// A peer-authentication mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MtlsMode {
    /// Inherit from the parent (namespace, then mesh); PERMISSIVE at the top.
    #[default]
    Unset,
    /// Plaintext only: no mutual TLS.
    Disable,
    /// Accept both plaintext and mutual TLS.
    Permissive,
    /// Accept mutual TLS only.
    Strict,
}

impl Spec for PeerAuthenticationSpec {
    const KIND: Kind = Kind::PeerAuthentication;

    /// Istio's `ValidatePeerAuthentication` and the CRD's rules.
    fn validate(&self, meta: &ObjectMeta, r: &mut Report) {
        let at = FieldPath::spec();
        reject_dry_run(meta, "PeerAuthentication", r);
        validate_targeting(self.selector.as_ref(), None, &[], &at, r);

        let Some(ports) = &self.port_level_mtls else {
            return;
        };
        let here = at.field("portLevelMtls");
        let has_labels = self
            .selector
            .as_ref()
            .is_some_and(|s| !s.match_labels.is_empty());
        if !has_labels && !ports.is_empty() {
            r.error(
                &here,
                "portLevelMtls requires a selector with matchLabels: mesh- and namespace-wide policies cannot have port-level mTLS",
            );
        }
        if ports.is_empty() {
            r.error(
                &here,
                "portLevelMtls, if set, must have at least one port; remove it or add a port",
            );
        }
        for port in ports.keys() {
            if !(1..=65535).contains(port) {
                r.error(
                    &here.key(&port.to_string()),
                    format!("port {port} invalid: must be between 1 and 65535"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validation::testing::{assert_error, assert_valid, validate_yaml, warnings};

    const HEAD: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: pa\n  namespace: foo\n";

    fn doc(spec: &str) -> String {
        format!("{HEAD}spec:\n{spec}")
    }

    #[test]
    fn namespace_wide_strict_is_valid() {
        assert_valid(&doc("  mtls:\n    mode: STRICT\n"));
        assert_valid(&format!("{HEAD}spec: {{}}\n"));
    }

    #[test]
    fn port_level_needs_selector() {
        assert_valid(&doc(
            "  selector:\n    matchLabels:\n      app: finance\n  mtls:\n    mode: UNSET\n  portLevelMtls:\n    8080:\n      mode: DISABLE\n",
        ));
        assert_error(
            &doc(
                "  mtls:\n    mode: STRICT\n  portLevelMtls:\n    8080:\n      mode: PERMISSIVE\n",
            ),
            "portLevelMtls requires a selector",
        );
        assert_error(
            &doc("  selector: {}\n  portLevelMtls:\n    \"80\":\n      mode: PERMISSIVE\n"),
            "portLevelMtls requires a selector",
        );
    }

    #[test]
    fn port_level_ports_in_range() {
        let sel = "  selector:\n    matchLabels:\n      app: a\n";
        assert_error(
            &doc(&format!(
                "{sel}  portLevelMtls:\n    0:\n      mode: STRICT\n"
            )),
            "spec.portLevelMtls[0]: port 0 invalid",
        );
        assert_error(
            &doc(&format!(
                "{sel}  portLevelMtls:\n    70000:\n      mode: STRICT\n"
            )),
            "port 70000 invalid",
        );
        assert_error(
            &doc(&format!("{sel}  portLevelMtls: {{}}\n")),
            "at least one port",
        );
    }

    #[test]
    fn selector_rules() {
        assert_error(
            &doc("  selector:\n    matchLabels:\n      app: \"*\"\n"),
            "wildcard",
        );
        let w = warnings(&doc("  selector: {}\n  mtls:\n    mode: STRICT\n"));
        assert!(w.iter().any(|w| w.contains("without labels")), "{w:?}");
    }

    #[test]
    fn dry_run_annotation_is_rejected() {
        let y = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: pa\n  annotations:\n    istio.io/dry-run: \"true\"\nspec: {}\n";
        assert_error(y, "only AuthorizationPolicy supports it");
    }

    #[test]
    fn unknown_mode_does_not_decode() {
        let docs =
            crate::yaml::parse_documents(&doc("  mtls:\n    mode: SOMETIMES\n")).expect("yaml");
        assert!(crate::resource::Resource::from_node(&docs[0]).is_err());
    }

    #[test]
    fn round_trip() {
        let y = doc(
            "  selector:\n    matchLabels:\n      app: finance\n  mtls:\n    mode: STRICT\n  portLevelMtls:\n    8080:\n      mode: DISABLE\n    9090: {}\n",
        );
        assert!(validate_yaml(&y).is_empty());
        let docs = crate::yaml::parse_documents(&y).expect("yaml");
        let res = crate::resource::Resource::from_node(&docs[0]).expect("decode");
        let json = res.to_json();
        let back: super::PeerAuthentication = serde_json::from_value(json).expect("re-decode");
        let crate::resource::Resource::PeerAuthentication(orig) = res else {
            panic!("kind");
        };
        assert_eq!(*orig, back);
    }
}
