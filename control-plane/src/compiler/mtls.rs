//! PeerAuthentication: each workload port's inbound mutual-TLS mode with
//! Istio's precedence (a workload-selector policy over the namespace's over the
//! mesh's, the root namespace being `istio-system`; `portLevelMtls` over the
//! policy's own mode; `UNSET` inherits; PERMISSIVE when nothing says otherwise).

use std::collections::BTreeMap;

use mesh_api::Resource;
use mesh_api::common::WorkloadSelector;
use mesh_api::proxy::InboundMtls;
use mesh_api::security::{MtlsMode, PeerAuthenticationSpec};

use super::scope::{Scoped, applicable};
use super::services::namespace_of;

#[derive(Debug, Clone)]
struct Policy {
    namespace: String,
    name: String,
    spec: PeerAuthenticationSpec,
}

impl Scoped for Policy {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn selector(&self) -> Option<&WorkloadSelector> {
        self.spec.selector.as_ref()
    }
}

/// The PeerAuthentications of the mesh, in resource order.
#[derive(Debug, Clone, Default)]
pub struct PaIndex {
    policies: Vec<Policy>,
}

impl PaIndex {
    pub fn new(resources: &[Resource]) -> Self {
        let policies = resources
            .iter()
            .filter_map(|r| match r {
                Resource::PeerAuthentication(pa) => Some(Policy {
                    namespace: namespace_of(r).to_owned(),
                    name: pa.metadata.name.clone().unwrap_or_default(),
                    spec: pa.spec.clone(),
                }),
                _ => None,
            })
            .collect();
        PaIndex { policies }
    }

    /// The mode of `port` of a workload in `namespace` with `labels`, and the
    /// policy that decided it: the most specific policy with a mode that is not
    /// UNSET (at the workload level, `portLevelMtls` first).
    pub fn mode(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        port: u16,
    ) -> (InboundMtls, Option<String>) {
        let set = |m: MtlsMode| (m != MtlsMode::Unset).then_some(m);
        for p in applicable(&self.policies, namespace, labels) {
            let port_mode = (super::scope::is_selective(p))
                .then(|| p.spec.port_level_mtls.as_ref()?.get(&u32::from(port)))
                .flatten()
                .and_then(|m| set(m.mode()));
            let own = p.spec.mtls.as_ref().and_then(|m| set(m.mode()));
            if let Some(m) = port_mode.or(own) {
                let origin = format!("PeerAuthentication {}/{}", p.namespace, p.name);
                return (convert(m), Some(origin));
            }
        }
        (InboundMtls::Permissive, None)
    }
}

fn convert(m: MtlsMode) -> InboundMtls {
    match m {
        MtlsMode::Strict => InboundMtls::Strict,
        MtlsMode::Disable => InboundMtls::Disable,
        MtlsMode::Permissive | MtlsMode::Unset => InboundMtls::Permissive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::tests::resources;

    const POLICIES: &str = r#"
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: mesh, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: legacy, namespace: legacy}
spec: {mtls: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: db, namespace: default}
spec:
  selector: {matchLabels: {app: db}}
  mtls: {mode: UNSET}
  portLevelMtls:
    5432: {mode: DISABLE}
"#;

    fn labels(app: &str) -> BTreeMap<String, String> {
        [("app".to_string(), app.to_string())].into()
    }

    #[test]
    fn precedence_workload_then_namespace_then_mesh() {
        let pa = PaIndex::new(&resources(POLICIES));
        let (m, o) = pa.mode("default", &labels("web"), 8080);
        assert_eq!(
            (m, o.as_deref()),
            (
                InboundMtls::Strict,
                Some("PeerAuthentication istio-system/mesh")
            )
        );
        assert_eq!(
            pa.mode("legacy", &labels("web"), 8080).0,
            InboundMtls::Permissive
        );
        let (m, o) = pa.mode("default", &labels("db"), 5432);
        assert_eq!(
            (m, o.as_deref()),
            (InboundMtls::Disable, Some("PeerAuthentication default/db"))
        );
        // UNSET at the workload level inherits the mesh's STRICT for other ports.
        assert_eq!(
            pa.mode("default", &labels("db"), 9000).0,
            InboundMtls::Strict
        );
        assert_eq!(
            PaIndex::default().mode("x", &labels("y"), 1),
            (InboundMtls::Permissive, None)
        );
    }
}
