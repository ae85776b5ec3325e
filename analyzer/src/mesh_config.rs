//! The part of Istio's MeshConfig (`--meshConfigFile`) that analyzers read. Unknown
//! fields are accepted and ignored: a full mesh config file is valid input.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Mesh-wide settings the analyzers depend on.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MeshConfig {
    /// Where mesh-wide policies live (`istio-system` when unset).
    pub root_namespace: Option<String>,
    pub default_config: ProxyDefaults,
    pub default_providers: DefaultProviders,
    pub extension_providers: Vec<ExtensionProvider>,
}

/// `defaultConfig`: the proxies' defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProxyDefaults {
    pub proxy_metadata: BTreeMap<String, String>,
}

/// `defaultProviders`: the telemetry providers used when a Telemetry names none.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DefaultProviders {
    pub access_logging: Vec<String>,
    pub tracing: Vec<String>,
    pub metrics: Vec<String>,
}

/// One `extensionProviders` entry; only its name matters here.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExtensionProvider {
    pub name: String,
}

/// Why a mesh config file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid mesh config: {0}")]
pub struct MeshConfigError(String);

impl MeshConfig {
    /// Parse a mesh config document (YAML or JSON).
    pub fn from_yaml(text: &str) -> Result<Self, MeshConfigError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_saphyr::from_str(text).map_err(|e| MeshConfigError(e.to_string()))
    }

    /// The root namespace (`istio-system` by default).
    pub fn root_namespace(&self) -> &str {
        self.root_namespace.as_deref().unwrap_or("istio-system")
    }

    /// Whether a proxy metadata flag (`ISTIO_META_DNS_CAPTURE`) is `"true"`.
    pub fn proxy_flag(&self, key: &str) -> bool {
        self.default_config
            .proxy_metadata
            .get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_istio_mesh_config_and_ignores_the_rest() {
        let m = MeshConfig::from_yaml(
            "defaultConfig:\n  image:\n    imageType: distroless\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: \"true\"\nrootNamespace: mesh\n",
        )
        .expect("valid mesh config");
        assert!(m.proxy_flag("ISTIO_META_DNS_CAPTURE"));
        assert!(!m.proxy_flag("ISTIO_META_DNS_AUTO_ALLOCATE"));
        assert_eq!(m.root_namespace(), "mesh");
        assert_eq!(MeshConfig::default().root_namespace(), "istio-system");
    }
}
