//! The analyzer registry: every analyzer under Istio's public name.

mod cert;
mod destinationrule;
mod gateway;
mod meshctl;
mod resources;
mod security;
mod selectors;
mod serviceentry;
mod virtualservice;
mod workloads;

use std::fmt;

use crate::{Reporter, Snapshot};

/// One analyzer: its public name, what it checks, and the function that does it.
#[derive(Clone, Copy)]
pub struct Analyzer {
    /// Istio's name (`virtualservice.DestinationHostAnalyzer`).
    pub name: &'static str,
    pub description: &'static str,
    /// The codes it can report.
    pub codes: &'static [&'static str],
    pub run: fn(&Snapshot<'_>, &mut Reporter),
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every analyzer, sorted by name.
pub static ALL: &[Analyzer] = &[
    Analyzer {
        name: "applicationUID.Analyzer",
        description: "Checks that applications do not run as UID 1337, reserved for the sidecar",
        codes: &["IST0144"],
        run: workloads::application_uid,
    },
    Analyzer {
        name: "auth.AuthorizationPoliciesAnalyzer",
        description: "Checks that authorization policies apply to workloads and name existing namespaces",
        codes: &["IST0101", "IST0127"],
        run: security::authorization_policies,
    },
    Analyzer {
        name: "conditions.ConditionAnalyzer",
        description: "Reports negative status conditions set by the mesh's controllers",
        codes: &["IST0171"],
        run: resources::conditions,
    },
    Analyzer {
        name: "deployment.MultiServiceAnalyzer",
        description: "Checks that services selecting one deployment agree on port protocols and target ports",
        codes: &["IST0116", "IST0137"],
        run: workloads::multi_service,
    },
    Analyzer {
        name: "deprecation.DeprecationAnalyzer",
        description: "Reports fields Istio has deprecated",
        codes: &["IST0002"],
        run: resources::deprecation,
    },
    Analyzer {
        name: "destinationrule.CaCertificateAnalyzer",
        description: "Checks that SIMPLE/MUTUAL TLS sets caCertificates to verify the server",
        codes: &["IST0128", "IST0129"],
        run: destinationrule::ca_certificates,
    },
    Analyzer {
        name: "destinationrule.SubsetSelectPodAnalyzer",
        description: "Checks that a DestinationRule's host exists and each subset selects pods",
        codes: &["IST0173", "IST0174"],
        run: destinationrule::subset_select_pods,
    },
    Analyzer {
        name: "gateway.CertificateAnalyzer",
        description: "Checks that gateways on the same workloads do not share a certificate",
        codes: &["IST0138"],
        run: gateway::certificates,
    },
    Analyzer {
        name: "gateway.ConflictingGatewayAnalyzer",
        description: "Checks that gateways on the same workloads and port do not serve the same host",
        codes: &["IST0101", "IST0145"],
        run: gateway::conflicting_gateways,
    },
    Analyzer {
        name: "gateway.IngressGatewayPortAnalyzer",
        description: "Checks that a gateway selects pods and that their services expose the gateway's ports",
        codes: &["IST0101", "IST0162"],
        run: gateway::ingress_gateway_ports,
    },
    Analyzer {
        name: "gateway.SecretAnalyzer",
        description: "Checks that gateway credentials exist and hold a valid, unexpired certificate",
        codes: &["IST0101", "IST0161"],
        run: gateway::secrets,
    },
    Analyzer {
        name: "injection.Analyzer",
        description: "Checks namespace injection labels and that pods in injected namespaces have their sidecar",
        codes: &["IST0102", "IST0103", "IST0123", "IST0148"],
        run: workloads::injection,
    },
    Analyzer {
        name: "meshctl.AuthorizationPolicyAnalyzer",
        description: "Reports ALLOW policies without rules, which deny every request to what they select, and CUSTOM policies, which sidecars cannot evaluate yet",
        codes: &["MSH0003", "MSH0004"],
        run: meshctl::authorization,
    },
    Analyzer {
        name: "meshctl.RetryTimeoutAnalyzer",
        description: "Checks that a route's retries fit in its timeout",
        codes: &["MSH0001"],
        run: meshctl::retry_timeout,
    },
    Analyzer {
        name: "meshctl.WeightAnalyzer",
        description: "Reports weighted destinations with weight 0, which get no traffic",
        codes: &["MSH0002"],
        run: meshctl::zero_weights,
    },
    Analyzer {
        name: "schema.ValidationAnalyzer",
        description: "Validates every mesh resource against its schema and Istio's webhook rules",
        codes: &["IST0106", "IST0130", "IST0131", "IST0133"],
        run: resources::validation,
    },
    Analyzer {
        name: "service.PortNameAnalyzer",
        description: "Checks that service ports name their protocol",
        codes: &["IST0118", "IST0150"],
        run: workloads::port_names,
    },
    Analyzer {
        name: "serviceentry.Analyzer",
        description: "Checks that ServiceEntries with TCP ports have addresses",
        codes: &["IST0134"],
        run: serviceentry::addresses,
    },
    Analyzer {
        name: "serviceentry.ConflictingServiceEntryProtocolAnalyzer",
        description: "Checks that ServiceEntries sharing a host and port agree on its protocol",
        codes: &["IST0177"],
        run: serviceentry::conflicting_protocols,
    },
    Analyzer {
        name: "sidecar.SelectorAnalyzer",
        description: "Checks that Sidecar selectors match pods without overlapping, and that ambient workloads get no Sidecar",
        codes: &["IST0101", "IST0110", "IST0111", "IST0167"],
        run: selectors::sidecars,
    },
    Analyzer {
        name: "telemetry.DefaultSelectorAnalyzer",
        description: "Checks that a namespace has at most one Telemetry without a selector",
        codes: &["IST0160"],
        run: selectors::telemetry_default_selectors,
    },
    Analyzer {
        name: "telemetry.ProviderAnalyzer",
        description: "Checks that Telemetry entries name a provider or have a mesh default",
        codes: &["IST0157"],
        run: selectors::telemetry_providers,
    },
    Analyzer {
        name: "telemetry.SelectorAnalyzer",
        description: "Checks that Telemetry selectors match pods without overlapping",
        codes: &["IST0101", "IST0159"],
        run: selectors::telemetry_selectors,
    },
    Analyzer {
        name: "virtualservice.ConflictingMeshGatewayHostsAnalyzer",
        description: "Checks that VirtualServices bound to the mesh gateway do not define the same host",
        codes: &["IST0109"],
        run: virtualservice::conflicting_mesh_gateway_hosts,
    },
    Analyzer {
        name: "virtualservice.DestinationHostAnalyzer",
        description: "Checks that VirtualService destination hosts and ports exist",
        codes: &["IST0101", "IST0112", "IST0140"],
        run: virtualservice::destination_hosts,
    },
    Analyzer {
        name: "virtualservice.DestinationRuleAnalyzer",
        description: "Checks that VirtualService destination subsets are defined in DestinationRules",
        codes: &["IST0101"],
        run: virtualservice::destination_rules,
    },
    Analyzer {
        name: "virtualservice.GatewayAnalyzer",
        description: "Checks that VirtualService gateways exist and serve the VirtualService's hosts",
        codes: &["IST0101", "IST0132"],
        run: virtualservice::gateways,
    },
    Analyzer {
        name: "virtualservice.JWTClaimRouteAnalyzer",
        description: "Checks that routes on JWT claims have a RequestAuthentication for the gateway pods",
        codes: &["IST0149"],
        run: virtualservice::jwt_claim_route,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn names_are_sorted_unique_and_codes_are_catalogued() {
        for w in ALL.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        for a in ALL {
            for c in a.codes {
                assert!(
                    Message::get(c).is_some(),
                    "{}: {c} not in the catalogue",
                    a.name
                );
            }
        }
    }
}
