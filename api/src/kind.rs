//! The resource kinds meshctl understands, with the API groups and versions Istio and
//! Kubernetes serve them in, and the names the CLI accepts for them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of resource meshctl reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    VirtualService,
    DestinationRule,
    Gateway,
    ServiceEntry,
    Sidecar,
    WorkloadEntry,
    WorkloadGroup,
    PeerAuthentication,
    AuthorizationPolicy,
    RequestAuthentication,
    Telemetry,
    Namespace,
    Service,
    Pod,
    Deployment,
    Secret,
    ConfigMap,
    ServiceAccount,
    Endpoints,
    EndpointSlice,
}

/// What the API serves for a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    pub kind: Kind,
    /// The API group (`networking.istio.io`; empty for the Kubernetes core group).
    pub group: &'static str,
    /// The versions served, the storage version first.
    pub versions: &'static [&'static str],
    pub plural: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
}

const NETWORKING: &[&str] = &["v1", "v1beta1", "v1alpha3"];
const SECURITY: &[&str] = &["v1", "v1beta1"];
const TELEMETRY: &[&str] = &["v1", "v1alpha1"];

macro_rules! kinds {
    ($($kind:ident => $group:expr, $versions:expr, $plural:expr, [$($short:expr),*], $ns:expr;)*) => {
        /// Every kind, in the order tables list them.
        pub const ALL_KINDS: &[KindInfo] = &[
            $(KindInfo {
                kind: Kind::$kind,
                group: $group,
                versions: $versions,
                plural: $plural,
                short_names: &[$($short),*],
                namespaced: $ns,
            },)*
        ];

        impl Kind {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($kind),)*
                }
            }
        }
    };
}

kinds! {
    VirtualService => "networking.istio.io", NETWORKING, "virtualservices", ["vs"], true;
    DestinationRule => "networking.istio.io", NETWORKING, "destinationrules", ["dr"], true;
    Gateway => "networking.istio.io", NETWORKING, "gateways", ["gw"], true;
    ServiceEntry => "networking.istio.io", NETWORKING, "serviceentries", ["se"], true;
    Sidecar => "networking.istio.io", NETWORKING, "sidecars", [], true;
    WorkloadEntry => "networking.istio.io", NETWORKING, "workloadentries", ["we"], true;
    WorkloadGroup => "networking.istio.io", NETWORKING, "workloadgroups", ["wg"], true;
    PeerAuthentication => "security.istio.io", SECURITY, "peerauthentications", ["pa"], true;
    AuthorizationPolicy => "security.istio.io", SECURITY, "authorizationpolicies", ["ap"], true;
    RequestAuthentication => "security.istio.io", SECURITY, "requestauthentications", ["ra"], true;
    Telemetry => "telemetry.istio.io", TELEMETRY, "telemetries", ["telemetry"], true;
    Namespace => "", &["v1"], "namespaces", ["ns"], false;
    Service => "", &["v1"], "services", ["svc"], true;
    Pod => "", &["v1"], "pods", ["po"], true;
    Deployment => "apps", &["v1"], "deployments", ["deploy"], true;
    Secret => "", &["v1"], "secrets", [], true;
    ConfigMap => "", &["v1"], "configmaps", ["cm"], true;
    ServiceAccount => "", &["v1"], "serviceaccounts", ["sa"], true;
    Endpoints => "", &["v1"], "endpoints", ["ep"], true;
    EndpointSlice => "discovery.k8s.io", &["v1"], "endpointslices", [], true;
}

impl Kind {
    pub fn info(self) -> &'static KindInfo {
        ALL_KINDS
            .iter()
            .find(|i| i.kind == self)
            .expect("every kind is in ALL_KINDS")
    }

    /// Whether this is one of the mesh's own (Istio) kinds, as opposed to a
    /// Kubernetes object that mesh config refers to.
    pub fn is_mesh_kind(self) -> bool {
        self.info().group.ends_with(".istio.io")
    }

    /// Look up a kind by a manifest's `apiVersion` group and `kind` field: a
    /// `Gateway` of `gateway.networking.k8s.io` is not Istio's Gateway.
    pub fn from_manifest(api_version: &str, kind: &str) -> Option<Kind> {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        ALL_KINDS
            .iter()
            .find(|i| i.kind.as_str() == kind && i.group == group)
            .map(|i| i.kind)
    }

    /// The `apiVersion` to write for this kind (its storage version).
    pub fn api_version(self) -> String {
        let info = self.info();
        if info.group.is_empty() {
            info.versions[0].to_string()
        } else {
            format!("{}/{}", info.group, info.versions[0])
        }
    }

    /// Whether `api_version` (`group/version`) serves this kind.
    pub fn serves(self, api_version: &str) -> bool {
        let info = self.info();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        group == info.group && info.versions.contains(&version)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown kind name on the command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource kind {0:?}; known kinds: {known}", known = known_kinds())]
pub struct UnknownKind(pub String);

fn known_kinds() -> String {
    ALL_KINDS
        .iter()
        .map(|i| i.plural)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Kind {
    type Err = UnknownKind;

    /// Accepts what kubectl accepts: the kind (`VirtualService`), its lowercase form,
    /// singular or plural, short names (`vs`), and `plural.group`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let (name, group) = match lower.split_once('.') {
            Some((n, g)) => (n.to_owned(), Some(g.to_owned())),
            None => (lower.clone(), None),
        };
        ALL_KINDS
            .iter()
            .find(|i| {
                let kind = i.kind.as_str().to_ascii_lowercase();
                let named =
                    name == kind || name == i.plural || i.short_names.contains(&name.as_str());
                named && group.as_deref().is_none_or(|g| g == i.group)
            })
            .map(|i| i.kind)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_like_kubectl() {
        for s in [
            "VirtualService",
            "virtualservice",
            "virtualservices",
            "vs",
            "virtualservices.networking.istio.io",
        ] {
            assert_eq!(s.parse::<Kind>(), Ok(Kind::VirtualService), "{s}");
        }
        assert_eq!("svc".parse::<Kind>(), Ok(Kind::Service));
        assert!("virtualservices.security.istio.io".parse::<Kind>().is_err());
        assert!("nope".parse::<Kind>().is_err());
    }

    #[test]
    fn versions_served() {
        assert!(Kind::VirtualService.serves("networking.istio.io/v1alpha3"));
        assert!(Kind::AuthorizationPolicy.serves("security.istio.io/v1beta1"));
        assert!(!Kind::AuthorizationPolicy.serves("security.istio.io/v1alpha1"));
        assert!(Kind::Telemetry.serves("telemetry.istio.io/v1alpha1"));
        assert!(Kind::Service.serves("v1"));
        assert!(Kind::Deployment.serves("apps/v1"));
        assert_eq!(Kind::Gateway.api_version(), "networking.istio.io/v1");
        assert_eq!(
            Kind::from_manifest("networking.istio.io/v1beta1", "Gateway"),
            Some(Kind::Gateway)
        );
        assert_eq!(
            Kind::from_manifest("gateway.networking.k8s.io/v1", "Gateway"),
            None
        );
    }
}
