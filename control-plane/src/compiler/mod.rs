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

/// The per-mesh work, done once per snapshot.
#[derive(Debug)]
pub struct MeshIndex {}

impl MeshIndex {
    pub fn new(state: &MeshState<'_>) -> Self {
        let _ = state;
        Self {}
    }

    pub fn compile_for(&self, proxy: &Workload) -> ProxyConfig {
        let _ = proxy;
        ProxyConfig::default()
    }
}

/// The config `proxy` should run, given the mesh's state. A pure function.
pub fn compile(state: &MeshState<'_>, proxy: &Workload) -> ProxyConfig {
    MeshIndex::new(state).compile_for(proxy)
}
