//! PLACEHOLDER: the compiler (resources + registry -> one proxy's config).

use mesh_api::Resource;
use mesh_api::proxy::ProxyConfig;

use crate::registry::Workload;

/// Everything the compiler reads: the stored resources and the connected workloads.
#[derive(Debug, Clone, Copy)]
pub struct MeshState<'a> {
    pub resources: &'a [Resource],
    pub workloads: &'a [Workload],
}

/// The config `proxy` should run, given the mesh's state. A pure function.
pub fn compile(state: &MeshState<'_>, proxy: &Workload) -> ProxyConfig {
    let _ = (state, proxy);
    ProxyConfig::default()
}
