//! The message catalogue: Istio's analysis messages (code, name, level, template, as in
//! Istio's `messages.yaml`) and meshctl's own (MSH codes), each with a one-line hint
//! on how to fix it.

use crate::Level;

/// One kind of finding an analyzer can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    /// `IST0101`.
    pub code: &'static str,
    /// `ReferencedResourceNotFound`.
    pub name: &'static str,
    pub level: Level,
    /// Go-style template: `%s`, `%q`, `%v` and `%d` take the arguments in order.
    pub template: &'static str,
    /// What to do about it, in one line.
    pub hint: &'static str,
}

impl Message {
    /// The message for `code`, if it is in the catalogue.
    pub fn get(code: &str) -> Option<&'static Message> {
        MESSAGES.iter().find(|m| m.code == code)
    }

    /// The text with the arguments in place (`%q` quotes its argument).
    pub fn format(&self, args: &[String]) -> String {
        let mut out = String::with_capacity(self.template.len() + 32);
        let mut args = args.iter();
        let mut chars = self.template.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%'
                && let Some(&verb) = chars.peek()
                && matches!(verb, 's' | 'q' | 'v' | 'd')
            {
                chars.next();
                let arg = args.next().map(String::as_str).unwrap_or("");
                if verb == 'q' {
                    out.push_str(&format!("{arg:?}"));
                } else {
                    out.push_str(arg);
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Istio's page for an IST code; meshctl's own codes (MSH) are described in
    /// the repository's docs/analysis.md.
    pub fn documentation_url(&self) -> String {
        let code = self.code.to_ascii_lowercase();
        if code.starts_with("msh") {
            format!(
                "{}/blob/main/docs/analysis.md#{code}",
                env!("CARGO_PKG_REPOSITORY")
            )
        } else {
            format!("https://istio.io/latest/docs/reference/config/analysis/{code}/")
        }
    }
}

/// Go's `%v` of a string slice: `[a b c]`.
pub fn go_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", parts.join(" "))
}

/// Every message, ordered by code.
pub const MESSAGES: &[Message] = &[
    Message {
        code: "IST0001",
        name: "InternalError",
        level: Level::Error,
        template: "Internal error: %v",
        hint: "report this as a meshctl bug with the input that triggers it",
    },
    Message {
        code: "IST0002",
        name: "Deprecated",
        level: Level::Warning,
        template: "Deprecated: %s",
        hint: "move to the replacement field or resource named in the message",
    },
    Message {
        code: "IST0101",
        name: "ReferencedResourceNotFound",
        level: Level::Error,
        template: "Referenced %s not found: %q",
        hint: "create the referenced resource, or correct the name (short names resolve in the referencing resource's namespace)",
    },
    Message {
        code: "IST0102",
        name: "NamespaceNotInjected",
        level: Level::Info,
        template: "The namespace is not enabled for Istio injection. Run 'kubectl label namespace %s istio-injection=enabled' to enable it, or 'kubectl label namespace %s istio-injection=disabled' to explicitly mark it as not needing injection.",
        hint: "label the namespace istio-injection=enabled, or =disabled to mark it as deliberately outside the mesh",
    },
    Message {
        code: "IST0103",
        name: "PodMissingProxy",
        level: Level::Warning,
        template: "The pod %s is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.",
        hint: "restart or redeploy the workload so the sidecar is injected",
    },
    Message {
        code: "IST0106",
        name: "SchemaValidationError",
        level: Level::Error,
        template: "Schema validation error: %v",
        hint: "fix the field named in the message; `meshctl validate` shows the same error at its line",
    },
    Message {
        code: "IST0107",
        name: "MisplacedAnnotation",
        level: Level::Warning,
        template: "Misplaced annotation: %s can only be applied to %s",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0108",
        name: "UnknownAnnotation",
        level: Level::Warning,
        template: "Unknown annotation: %s",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0109",
        name: "ConflictingMeshGatewayVirtualServiceHosts",
        level: Level::Error,
        template: "The VirtualServices %s associated with mesh gateway define the same host %s which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.",
        hint: "merge the VirtualServices for this host into one, or restrict their exportTo so they do not overlap",
    },
    Message {
        code: "IST0110",
        name: "ConflictingSidecarWorkloadSelectors",
        level: Level::Error,
        template: "The Sidecars %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.",
        hint: "make the Sidecars' workload selectors disjoint so each pod has exactly one Sidecar",
    },
    Message {
        code: "IST0111",
        name: "MultipleSidecarsWithoutWorkloadSelectors",
        level: Level::Error,
        template: "The Sidecars %v in namespace %q have no workload selector, which can lead to undefined behavior.",
        hint: "keep at most one Sidecar without a workloadSelector per namespace",
    },
    Message {
        code: "IST0112",
        name: "VirtualServiceDestinationPortSelectorRequired",
        level: Level::Error,
        template: "This VirtualService routes to a service %q that exposes multiple ports %v. Specifying a port in the destination is required to disambiguate.",
        hint: "add destination.port.number naming one of the service's ports",
    },
    Message {
        code: "IST0116",
        name: "DeploymentAssociatedToMultipleServices",
        level: Level::Warning,
        template: "This deployment %s is associated with multiple services using port %d but different protocols: %v",
        hint: "use the same protocol (port name prefix) for this port in every Service selecting the deployment",
    },
    Message {
        code: "IST0118",
        name: "PortNameIsNotUnderNamingConvention",
        level: Level::Info,
        template: "Port name %s (port: %d, targetPort: %s) doesn't follow the naming convention of Istio port.",
        hint: "name the port <protocol>[-suffix] (http, http2, grpc, tcp, tls, ...) or set appProtocol",
    },
    Message {
        code: "IST0123",
        name: "NamespaceMultipleInjectionLabels",
        level: Level::Warning,
        template: "The namespace has more than one type of injection labels %v, which may lead to undefined behavior. Make sure only one injection label exists.",
        hint: "keep only one injection label (istio-injection or istio.io/rev) on the namespace",
    },
    Message {
        code: "IST0125",
        name: "InvalidAnnotation",
        level: Level::Warning,
        template: "Invalid annotation %s: %s",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0126",
        name: "UnknownMeshNetworksServiceRegistry",
        level: Level::Error,
        template: "Unknown service registry %s in network %s",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0127",
        name: "NoMatchingWorkloadsFound",
        level: Level::Warning,
        template: "No matching workloads for this resource with the following labels: %s",
        hint: "fix the selector's labels so they match running workloads, or delete the policy",
    },
    Message {
        code: "IST0128",
        name: "NoServerCertificateVerificationDestinationLevel",
        level: Level::Warning,
        template: "DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s",
        hint: "set caCertificates (or credentialName) in the trafficPolicy's tls so the server is verified",
    },
    Message {
        code: "IST0129",
        name: "NoServerCertificateVerificationPortLevel",
        level: Level::Warning,
        template: "DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s at port %s",
        hint: "set caCertificates (or credentialName) in the port-level tls so the server is verified",
    },
    Message {
        code: "IST0130",
        name: "VirtualServiceUnreachableRule",
        level: Level::Warning,
        template: "VirtualService rule %v not used (%s).",
        hint: "remove the rule or move it before the rule that already matches its requests",
    },
    Message {
        code: "IST0131",
        name: "VirtualServiceIneffectiveMatch",
        level: Level::Info,
        template: "VirtualService rule %v match %v is not used (duplicate/overlapping match in rule %v).",
        hint: "remove the match or make it differ from the earlier one",
    },
    Message {
        code: "IST0132",
        name: "VirtualServiceHostNotFoundInGateway",
        level: Level::Warning,
        template: "one or more host %v defined in VirtualService %s not found in Gateway %s.",
        hint: "add the VirtualService's host to the Gateway's servers.hosts, or fix the host",
    },
    Message {
        code: "IST0133",
        name: "SchemaWarning",
        level: Level::Warning,
        template: "Schema validation warning: %v",
        hint: "see the field named in the message; the resource is accepted but the setting is discouraged",
    },
    Message {
        code: "IST0134",
        name: "ServiceEntryAddressesRequired",
        level: Level::Warning,
        template: "ServiceEntry addresses are required for this protocol.",
        hint: "add addresses to the ServiceEntry, or give its ports a protocol that is routed by host (HTTP, HTTPS, TLS)",
    },
    Message {
        code: "IST0135",
        name: "DeprecatedAnnotation",
        level: Level::Info,
        template: "Annotation %q has been deprecated%s and may not work in future Istio versions.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0136",
        name: "AlphaAnnotation",
        level: Level::Info,
        template: "Annotation %q is part of an alpha-phase feature and may be incompletely supported.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0137",
        name: "DeploymentConflictingPorts",
        level: Level::Warning,
        template: "This deployment %s is associated with multiple services %v using targetPort %q but different ports: %v.",
        hint: "give each Service the same port for this targetPort",
    },
    Message {
        code: "IST0138",
        name: "GatewayDuplicateCertificate",
        level: Level::Warning,
        template: "Duplicate certificate in multiple gateways %v may cause 404s if clients re-use HTTP2 connections.",
        hint: "give each Gateway its own certificate, or merge the servers into one Gateway",
    },
    Message {
        code: "IST0139",
        name: "InvalidWebhook",
        level: Level::Error,
        template: "%v",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0140",
        name: "IngressRouteRulesNotAffected",
        level: Level::Warning,
        template: "Subset in virtual service %s has no effect on ingress gateway %s requests",
        hint: "define the subset in a route bound to the gateway, or drop the subset from the mesh route",
    },
    Message {
        code: "IST0141",
        name: "InsufficientPermissions",
        level: Level::Error,
        template: "Missing required permission to create resource %v (%v)",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0142",
        name: "UnsupportedKubernetesVersion",
        level: Level::Error,
        template: "The Kubernetes Version %q is lower than the minimum version: %v",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0143",
        name: "LocalhostListener",
        level: Level::Error,
        template: "Port %v is exposed in a Service but listens on localhost. It will not be exposed to other pods.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0144",
        name: "InvalidApplicationUID",
        level: Level::Warning,
        template: "User ID (UID) 1337 is reserved for the sidecar proxy.",
        hint: "run the application with a UID other than 1337 (reserved for the sidecar)",
    },
    Message {
        code: "IST0145",
        name: "ConflictingGateways",
        level: Level::Error,
        template: "Conflict with gateways %s (workload selector %s, port %s, hosts %v).",
        hint: "give the Gateways different ports or hosts, or merge them",
    },
    Message {
        code: "IST0146",
        name: "ImageAutoWithoutInjectionWarning",
        level: Level::Warning,
        template: "%s %s contains `image: auto` but does not match any Istio injection webhook selectors.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0147",
        name: "ImageAutoWithoutInjectionError",
        level: Level::Error,
        template: "%s %s contains `image: auto` but does not match any Istio injection webhook selectors.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0148",
        name: "NamespaceInjectionEnabledByDefault",
        level: Level::Info,
        template: "is enabled for Istio injection, as Istio is installed with enableNamespacesByDefault as true.",
        hint: "nothing to do unless the namespace should stay outside the mesh: label it istio-injection=disabled",
    },
    Message {
        code: "IST0149",
        name: "JwtClaimBasedRoutingWithoutRequestAuthN",
        level: Level::Error,
        template: "The virtual service uses the JWT claim based routing (key: %s) but found no request authentication for the gateway (%s) pod (%s). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing.",
        hint: "add a RequestAuthentication that selects the gateway pods so JWT claims are validated",
    },
    Message {
        code: "IST0150",
        name: "ExternalNameServiceTypeInvalidPortName",
        level: Level::Warning,
        template: "Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly",
        hint: "name ExternalName service ports with a protocol prefix (http, https, tls, ...) instead of tcp or nothing",
    },
    Message {
        code: "IST0151",
        name: "EnvoyFilterUsesRelativeOperation",
        level: Level::Warning,
        template: "This EnvoyFilter does not have a priority and has a relative patch operation set which can cause the EnvoyFilter not to be applied. Using the INSERT_FIRST of ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0152",
        name: "EnvoyFilterUsesReplaceOperationIncorrectly",
        level: Level::Error,
        template: "The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0153",
        name: "EnvoyFilterUsesAddOperationIncorrectly",
        level: Level::Error,
        template: "The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0154",
        name: "EnvoyFilterUsesRemoveOperationIncorrectly",
        level: Level::Error,
        template: "The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0155",
        name: "EnvoyFilterUsesRelativeOperationWithProxyVersion",
        level: Level::Warning,
        template: "This EnvoyFilter does not have a priority and has a relative patch operation (NSTERT_BEFORE/AFTER, REPLACE, MERGE, DELETE) and proxyVersion set which can cause the EnvoyFilter not to be applied during an upgrade. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0156",
        name: "UnsupportedGatewayAPIVersion",
        level: Level::Error,
        template: "The Gateway API CRD version %v is lower than the minimum version: %v",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0157",
        name: "InvalidTelemetryProvider",
        level: Level::Warning,
        template: "The Telemetry %v in namespace %q with empty providers will be ignored.",
        hint: "name at least one provider, or remove the empty providers list",
    },
    Message {
        code: "IST0158",
        name: "PodsIstioProxyImageMismatchInNamespace",
        level: Level::Warning,
        template: "The Istio proxy images of the pods running in the namespace do not match the image defined in the injection configuration (pod names: %v). This often happens after upgrading the Istio control-plane and can be fixed by redeploying the pods.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0159",
        name: "ConflictingTelemetryWorkloadSelectors",
        level: Level::Error,
        template: "The Telemetries %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.",
        hint: "make the Telemetries' selectors disjoint so each pod has exactly one",
    },
    Message {
        code: "IST0160",
        name: "MultipleTelemetriesWithoutWorkloadSelectors",
        level: Level::Error,
        template: "The Telemetries %v in namespace %q have no workload selector, which can lead to undefined behavior.",
        hint: "keep at most one Telemetry without a selector per namespace",
    },
    Message {
        code: "IST0161",
        name: "InvalidGatewayCredential",
        level: Level::Error,
        template: "The credential referenced by the Gateway %s in namespace %s is invalid, which can cause the traffic not to work as expected.",
        hint: "store a valid, unexpired certificate and key (tls.crt/tls.key) in the Secret",
    },
    Message {
        code: "IST0162",
        name: "GatewayPortNotDefinedOnService",
        level: Level::Warning,
        template: "The gateway is listening on a target port (port %d) that is not defined in the Service associated with its workload instances (Pod selector %s). If you need to access the gateway port through the gateway Service, it will not be available.",
        hint: "expose the gateway's port in the Service that selects its pods",
    },
    Message {
        code: "IST0163",
        name: "InvalidExternalControlPlaneConfig",
        level: Level::Warning,
        template: "The hostname (%s) that was provided for the webhook (%s) to reach the ingress gateway on the external control plane cluster %s. Traffic may not flow properly.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0164",
        name: "ExternalControlPlaneAddressIsNotAHostname",
        level: Level::Info,
        template: "The address (%s) that was provided for the webhook (%s) to reach the ingress gateway on the external control plane cluster is an IP address. This is not recommended for a production environment.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0165",
        name: "ReferencedInternalGateway",
        level: Level::Warning,
        template: "Gateway reference in VirtualService %s is to an implementation-generated internal Gateway: %s.",
        hint: "reference a Gateway you created instead of the implementation's generated one",
    },
    Message {
        code: "IST0166",
        name: "IneffectiveSelector",
        level: Level::Warning,
        template: "Ineffective selector on Kubernetes Gateway %s. Use the TargetRef field instead.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0167",
        name: "IneffectivePolicy",
        level: Level::Warning,
        template: "The policy has no impact: %s.",
        hint: "remove the policy, or move the workload out of ambient mode",
    },
    Message {
        code: "IST0168",
        name: "UnknownUpgradeCompatibility",
        level: Level::Warning,
        template: "The configuration %q changed in release %s, but compatibility cannot be automatically detected: %s. Or, install with `--set compatibilityVersion=%s` to retain the old default.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0169",
        name: "UpdateIncompatibility",
        level: Level::Warning,
        template: "The configuration %q changed in release %s: %s. Or, install with `--set compatibilityVersion=%s` to retain the old default.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0170",
        name: "MultiClusterInconsistentService",
        level: Level::Warning,
        template: "The service %v in namespace %q is inconsistent across clusters %q, which can lead to undefined behaviors. The inconsistent behaviors are: %v.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0171",
        name: "NegativeConditionStatus",
        level: Level::Warning,
        template: "A condition with a negative status is present: type=%s, reason=%s, message=%s.",
        hint: "look at the condition's reason and message on the resource's status",
    },
    Message {
        code: "IST0172",
        name: "FutureUnsupportedGatewayAPIVersion",
        level: Level::Warning,
        template: "The Gateway API CRD version %v is lower than the minimum version: %v",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0173",
        name: "DestinationRuleSubsetNotSelectPods",
        level: Level::Error,
        template: "The Subset %s defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
        hint: "fix the subset's labels so they match the labels of the service's pods",
    },
    Message {
        code: "IST0174",
        name: "UnknownDestinationRuleHost",
        level: Level::Warning,
        template: "The host %s defined in the DestinationRule does not match any services in the mesh.",
        hint: "correct the host, or create the Service or ServiceEntry it names",
    },
    Message {
        code: "IST0175",
        name: "JwksUriFetchUnrestricted",
        level: Level::Warning,
        template: "BLOCKED_CIDRS_IN_JWKS_URIS is not configured but %d RequestAuthentication resource(s) exist (%s). Consider configuring it to restrict JWKS URI fetches to trusted networks.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0176",
        name: "GatewayAPICRDVersionBelowMinimum",
        level: Level::Warning,
        template: "Gateway API CRD %q is at version %q but Istio requires at least %q; resources of this kind will not be processed. Upgrade the Gateway API CRDs to satisfy the minimum version.",
        hint: "see the documentation link for this code",
    },
    Message {
        code: "IST0177",
        name: "ConflictingServiceEntryProtocol",
        level: Level::Warning,
        template: "Multiple ServiceEntries (%s) define the same host %q and port %d with conflicting protocols (%s).",
        hint: "use one protocol for this host and port in every ServiceEntry",
    },
    Message {
        code: "MSH0001",
        name: "RetriesExceedRouteTimeout",
        level: Level::Warning,
        template: "HTTP rule %s: %s tries of up to %s take up to %s, beyond the route timeout %s: at most %s retries can run.",
        hint: "raise the route timeout, or lower attempts or perTryTimeout so every try fits",
    },
    Message {
        code: "MSH0002",
        name: "DestinationWithoutTraffic",
        level: Level::Info,
        template: "%s gets no traffic: its weight in HTTP rule %s is 0 while other destinations have weight.",
        hint: "give it a weight, or remove the destination if it is drained on purpose",
    },
    Message {
        code: "MSH0003",
        name: "AllowPolicyDeniesAll",
        level: Level::Info,
        template: "This ALLOW policy has no rules, so it matches no request and denies every request to %s.",
        hint: "add rules for the requests to allow; if denying everything is the intent (Istio's allow-nothing pattern), suppress this with -S",
    },
    Message {
        code: "MSH0004",
        name: "CustomActionNotSupported",
        level: Level::Warning,
        template: "CUSTOM authorization (provider %q) is not supported by meshctl yet: sidecars deny the requests this policy matches.",
        hint: "use ALLOW or DENY policies until external authorization is supported, or keep this policy to fail closed",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let m = Message::get("IST0101").expect("catalogued");
        assert_eq!(
            m.format(&["host".into(), "reviews-bogus".into()]),
            "Referenced host not found: \"reviews-bogus\""
        );
        assert_eq!(m.level, Level::Error);
        assert_eq!(go_list(&["a", "b"]), "[a b]");
    }
}
