//! Any resource meshctl reads, decoded from a YAML document by its `apiVersion` and
//! `kind`.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Namespace, Pod, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::kind::Kind;
use crate::networking::{
    DestinationRule, Gateway, ServiceEntry, Sidecar, VirtualService, WorkloadEntry, WorkloadGroup,
};
use crate::object::{ResourceRef, Spec, validate_metadata};
use crate::path::FieldPath;
use crate::security::{AuthorizationPolicy, PeerAuthentication, RequestAuthentication};
use crate::telemetry::Telemetry;
use crate::validation::{Finding, Report};
use crate::yaml::Node;

/// Why a document could not be decoded into a resource.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    /// A kind meshctl does not know. Often not an error for the caller: a file of
    /// Kubernetes manifests holds kinds the mesh does not care about.
    #[error("unsupported kind {kind:?} ({api_version})")]
    UnknownKind { api_version: String, kind: String },
    #[error("{kind} is not served as {api_version:?}; use one of: {served}")]
    Version {
        kind: Kind,
        api_version: String,
        served: String,
    },
    #[error("{message}")]
    Schema { path: FieldPath, message: String },
}

impl DecodeError {
    /// The field the error is about.
    pub fn path(&self) -> FieldPath {
        match self {
            DecodeError::Missing { field } => FieldPath::root().field(field),
            DecodeError::UnknownKind { .. } => FieldPath::root().field("kind"),
            DecodeError::Version { .. } => FieldPath::root().field("apiVersion"),
            DecodeError::Schema { path, .. } => path.clone(),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize::<_, T>(json).map_err(|e| {
        let mut path = FieldPath::parse_serde(&e.path().to_string());
        let message = e.inner().to_string();
        // serde names an unknown field in its message, not in the path: point at it.
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some(end) = rest.find('`')
        {
            let field = &rest[..end];
            let named = matches!(path.segments().last(), Some(crate::path::Segment::Field(f)) if f == field);
            if !named {
                path = path.field(field);
            }
        }
        DecodeError::Schema {
            path,
            message: humanize(&message),
        }
    })
}

/// serde's messages speak Rust (`invalid type: string "x", expected u32`); say it
/// in the user's terms.
fn humanize(msg: &str) -> String {
    msg.replace("expected u32", "expected a non-negative integer")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected i32", "expected an integer")
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number")
}

macro_rules! resources {
    (
        mesh { $($mk:ident),* $(,)? }
        kube { $($kk:ident),* $(,)? }
    ) => {
        /// A decoded resource of any kind meshctl knows. Each kind is boxed:
        /// unboxed, every resource took the size of the largest kind (2.4 KB),
        /// and the control plane keeps tens of thousands of them.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Resource {
            $($mk(Box<$mk>),)*
            $($kk(Box<$kk>),)*
        }

        impl Resource {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Resource::$mk(_) => Kind::$mk,)*
                    $(Resource::$kk(_) => Kind::$kk,)*
                }
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Resource::$mk(o) => &o.metadata,)*
                    $(Resource::$kk(o) => &o.metadata,)*
                }
            }

            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Resource::$mk(o) => &mut o.metadata,)*
                    $(Resource::$kk(o) => &mut o.metadata,)*
                }
            }

            fn decode_kind(kind: Kind, json: serde_json::Value) -> Result<Self, DecodeError> {
                Ok(match kind {
                    $(Kind::$mk => Resource::$mk(Box::new(decode(json)?)),)*
                    $(Kind::$kk => Resource::$kk(Box::new(decode(json)?)),)*
                })
            }

            /// Every finding of the resource: metadata first, then the spec.
            pub fn validate(&self) -> Vec<Finding> {
                let mut r = Report::new();
                validate_metadata(self.metadata(), &mut r);
                match self {
                    $(Resource::$mk(o) => o.spec.validate(&o.metadata, &mut r),)*
                    $(Resource::$kk(_) => {})*
                }
                r.into_findings()
            }

            /// The resource as a JSON manifest.
            pub fn to_json(&self) -> serde_json::Value {
                let v = match self {
                    $(Resource::$mk(o) => serde_json::to_value(o),)*
                    $(Resource::$kk(o) => serde_json::to_value(o),)*
                };
                v.expect("resources serialize to JSON: maps have string keys")
            }
        }

        // Every mesh kind's spec names the kind it belongs to.
        $(const _: () = assert!(matches!(<<$mk as SpecOf>::Spec as Spec>::KIND, Kind::$mk));)*
    };
}

/// The spec type of an `Object<S>`, for the compile-time check above.
trait SpecOf {
    type Spec: Spec;
}
impl<S: Spec> SpecOf for crate::object::Object<S> {
    type Spec = S;
}

resources! {
    mesh {
        VirtualService, DestinationRule, Gateway, ServiceEntry, Sidecar, WorkloadEntry,
        WorkloadGroup, PeerAuthentication, AuthorizationPolicy, RequestAuthentication, Telemetry,
    }
    kube {
        Namespace, Service, Pod, Deployment, Secret, ConfigMap, ServiceAccount, Endpoints,
        EndpointSlice,
    }
}

impl Resource {
    /// Decode one YAML document.
    pub fn from_node(node: &Node) -> Result<Self, DecodeError> {
        let api_version =
            node.get_str("apiVersion")
                .filter(|s| !s.is_empty())
                .ok_or(DecodeError::Missing {
                    field: "apiVersion",
                })?;
        let kind_name = node
            .get_str("kind")
            .filter(|s| !s.is_empty())
            .ok_or(DecodeError::Missing { field: "kind" })?;
        let kind = Kind::from_manifest(api_version, kind_name).ok_or_else(|| {
            DecodeError::UnknownKind {
                api_version: api_version.to_owned(),
                kind: kind_name.to_owned(),
            }
        })?;
        if !kind.serves(api_version) {
            let info = kind.info();
            let served = info
                .versions
                .iter()
                .map(|v| {
                    if info.group.is_empty() {
                        (*v).to_owned()
                    } else {
                        format!("{}/{v}", info.group)
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(DecodeError::Version {
                kind,
                api_version: api_version.to_owned(),
                served,
            });
        }
        Self::decode_kind(kind, node.to_json())
    }

    /// Decode a JSON manifest (as stored), with the same checks as [`Self::from_node`].
    pub fn from_json(json: serde_json::Value) -> Result<Self, DecodeError> {
        let field = |f: &'static str| {
            json.get(f)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or(DecodeError::Missing { field: f })
        };
        let api_version = field("apiVersion")?;
        let kind_name = field("kind")?;
        let kind =
            Kind::from_manifest(&api_version, &kind_name).ok_or(DecodeError::UnknownKind {
                api_version,
                kind: kind_name,
            })?;
        Self::decode_kind(kind, json)
    }

    /// `Kind namespace/name` for messages.
    pub fn reference(&self) -> ResourceRef {
        let meta = self.metadata();
        ResourceRef {
            kind: self.kind().as_str().to_owned(),
            namespace: meta.namespace.clone(),
            name: meta
                .name
                .clone()
                .or_else(|| meta.generate_name.clone())
                .unwrap_or_default(),
        }
    }
}
