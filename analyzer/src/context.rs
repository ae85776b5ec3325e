//! What analyzers see (`Snapshot`: the resources, indexed by kind, name and namespace,
//! and the mesh config) and how they report (`Reporter`).

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret, Service};
use mesh_api::networking::{DestinationRule, Gateway, ServiceEntry, Sidecar, VirtualService};
use mesh_api::security::{AuthorizationPolicy, RequestAuthentication};
use mesh_api::telemetry::Telemetry;
use mesh_api::{FieldPath, Kind, Resource};

use crate::messages::Message;
use crate::{Entry, Finding, MeshConfig};

/// The resources of one analysis run, indexed once and shared by every analyzer.
#[derive(Debug)]
pub struct Snapshot<'a> {
    entries: &'a [Entry],
    by_kind: HashMap<Kind, Vec<usize>>,
    by_name: HashMap<(Kind, &'a str, &'a str), usize>,
    pods_by_ns: HashMap<&'a str, Vec<usize>>,
    /// The mesh config in effect (defaults when none was given).
    pub mesh: &'a MeshConfig,
    /// The time certificates are checked against.
    pub now: SystemTime,
}

/// The namespace of an entry, `""` when the manifest names none.
pub fn ns(e: &Entry) -> &str {
    e.resource.metadata().namespace.as_deref().unwrap_or("")
}

/// The name of an entry.
pub fn name(e: &Entry) -> &str {
    e.resource.metadata().name.as_deref().unwrap_or("")
}

/// `namespace/name`, or `name` when there is no namespace (Istio's `FullName`).
pub fn full_name(e: &Entry) -> String {
    match ns(e) {
        "" => name(e).to_owned(),
        n => format!("{n}/{}", name(e)),
    }
}

/// The labels of an entry (empty when none).
pub fn labels(e: &Entry) -> &BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    e.resource.metadata().labels.as_ref().unwrap_or(&EMPTY)
}

/// The annotations of an entry (empty when none).
pub fn annotations(e: &Entry) -> &BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    e.resource.metadata().annotations.as_ref().unwrap_or(&EMPTY)
}

/// Whether every `k=v` of `selector` is among `labels` (an empty selector matches all).
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Kubernetes' selector string: `k1=v1,k2=v2`, keys sorted.
pub fn selector_string(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

macro_rules! typed {
    ($($fn:ident: $kind:ident => $ty:ty;)*) => {
        $(
            #[doc = concat!("Every ", stringify!($kind), ", in input order.")]
            pub fn $fn(&self) -> impl Iterator<Item = (&'a Entry, &'a $ty)> + '_ {
                self.of(Kind::$kind).filter_map(|e| match &e.resource {
                    Resource::$kind(o) => Some((e, &**o)),
                    _ => None,
                })
            }
        )*
    };
}

impl<'a> Snapshot<'a> {
    /// Index the entries. When a resource appears twice, the later one wins (as in
    /// an apply).
    pub fn new(entries: &'a [Entry], mesh: &'a MeshConfig) -> Self {
        let mut by_name = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_name.insert((e.resource.kind(), ns(e), name(e)), i);
        }
        let mut by_kind: HashMap<Kind, Vec<usize>> = HashMap::new();
        let mut pods_by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let key = (e.resource.kind(), ns(e), name(e));
            if by_name.get(&key) != Some(&i) {
                continue;
            }
            by_kind.entry(e.resource.kind()).or_default().push(i);
            if e.resource.kind() == Kind::Pod {
                pods_by_ns.entry(ns(e)).or_default().push(i);
            }
        }
        Snapshot {
            entries,
            by_kind,
            by_name,
            pods_by_ns,
            mesh,
            now: SystemTime::now(),
        }
    }

    /// Every entry, in input order (later duplicates included).
    pub fn all(&self) -> impl Iterator<Item = &'a Entry> + '_ {
        self.entries.iter()
    }

    /// Every entry of a kind, in input order.
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = &'a Entry> + '_ {
        let entries = self.entries;
        self.by_kind
            .get(&kind)
            .into_iter()
            .flatten()
            .map(move |&i| &entries[i])
    }

    /// The entry of `kind` named `name` in `namespace`.
    pub fn find(&self, kind: Kind, namespace: &str, name: &str) -> Option<&'a Entry> {
        self.by_name
            .get(&(kind, namespace, name))
            .map(|&i| &self.entries[i])
    }

    /// Whether a resource exists.
    pub fn exists(&self, kind: Kind, namespace: &str, name: &str) -> bool {
        self.find(kind, namespace, name).is_some()
    }

    /// The pods of a namespace.
    pub fn pods_in(&self, namespace: &str) -> impl Iterator<Item = (&'a Entry, &'a Pod)> + '_ {
        let entries = self.entries;
        self.pods_by_ns
            .get(namespace)
            .into_iter()
            .flatten()
            .filter_map(move |&i| match &entries[i].resource {
                Resource::Pod(p) => Some((&entries[i], &**p)),
                _ => None,
            })
    }

    typed! {
        virtual_services: VirtualService => VirtualService;
        destination_rules: DestinationRule => DestinationRule;
        gateways: Gateway => Gateway;
        service_entries: ServiceEntry => ServiceEntry;
        sidecars: Sidecar => Sidecar;
        authorization_policies: AuthorizationPolicy => AuthorizationPolicy;
        request_authentications: RequestAuthentication => RequestAuthentication;
        telemetries: Telemetry => Telemetry;
        namespaces: Namespace => Namespace;
        services: Service => Service;
        pods: Pod => Pod;
        deployments: Deployment => Deployment;
        secrets: Secret => Secret;
    }
}

/// Collects one analyzer's findings.
#[derive(Debug)]
pub struct Reporter {
    analyzer: &'static str,
    findings: Vec<Finding>,
}

impl Reporter {
    /// A reporter for the named analyzer.
    pub fn new(analyzer: &'static str) -> Self {
        Reporter {
            analyzer,
            findings: Vec::new(),
        }
    }

    /// Report `code` on `entry`, placed at `at` (a field path) when the entry has a
    /// YAML tree. `args` fill the message template in order.
    pub fn report(
        &mut self,
        entry: &Entry,
        at: Option<&FieldPath>,
        code: &'static str,
        args: &[String],
    ) {
        let Some(msg) = Message::get(code) else {
            // Every code an analyzer uses is in the catalogue (a unit test checks).
            return;
        };
        self.report_message(entry, at, msg, msg.format(args));
    }

    /// Report `msg` on `entry` with a text of its own (not from the template).
    pub fn report_message(
        &mut self,
        entry: &Entry,
        at: Option<&FieldPath>,
        msg: &'static Message,
        text: String,
    ) {
        let line = match (&entry.node, at) {
            (Some(node), Some(path)) => node.locate(path).line,
            _ => entry.line.unwrap_or(0),
        };
        let reference = entry.file.as_ref().map(|f| {
            if line > 0 {
                format!("{f}:{line}")
            } else {
                f.to_string()
            }
        });
        let resource = entry.resource.reference();
        self.findings.push(Finding {
            code: msg.code,
            level: msg.level,
            origin: resource.to_string(),
            reference,
            message: text,
            documentation_url: msg.documentation_url(),
            analyzer: self.analyzer,
            hint: msg.hint,
            resource,
            line,
        });
    }

    /// The findings reported so far.
    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}
