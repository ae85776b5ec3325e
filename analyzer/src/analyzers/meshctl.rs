//! meshctl's own analyzers, for mistakes Istio's analyzers do not look for. Their
//! codes are MSHnnnn (see docs/analysis.md).

use mesh_api::FieldPath;
use mesh_api::security::Action;

use crate::{Reporter, Snapshot};

fn human(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `meshctl.RetryTimeoutAnalyzer` (MSH0001): the first try and every retry, each
/// up to `perTryTimeout`, must fit in the route's `timeout`, or the last retries
/// never run.
pub fn retry_timeout(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, vs) in s.virtual_services() {
        for (i, h) in vs.spec.http.iter().enumerate() {
            let (Some(timeout), Some(retries)) = (&h.timeout, &h.retries) else {
                continue;
            };
            let Some(per_try) = &retries.per_try_timeout else {
                continue;
            };
            let (timeout, per_try) = (timeout.as_std(), per_try.as_std());
            if retries.attempts <= 0 || timeout.is_zero() || per_try.is_zero() {
                continue;
            }
            let tries = u32::try_from(retries.attempts)
                .unwrap_or(u32::MAX)
                .saturating_add(1);
            let total = per_try.saturating_mul(tries);
            if total > timeout {
                let at = FieldPath::root()
                    .field("spec")
                    .field("http")
                    .index(i)
                    .field("retries");
                let fit = (timeout.as_millis() / per_try.as_millis().max(1)).saturating_sub(1);
                r.report(
                    e,
                    Some(&at),
                    "MSH0001",
                    &[
                        i.to_string(),
                        tries.to_string(),
                        human(per_try),
                        human(total),
                        human(timeout),
                        fit.to_string(),
                    ],
                );
            }
        }
    }
}

/// `meshctl.WeightAnalyzer` (MSH0002): a destination with weight 0 beside
/// weighted ones gets no traffic.
pub fn zero_weights(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, vs) in s.virtual_services() {
        for (i, h) in vs.spec.http.iter().enumerate() {
            if h.route.len() < 2 || h.route.iter().all(|d| d.weight == 0) {
                continue;
            }
            for (j, d) in h.route.iter().enumerate() {
                if d.weight != 0 {
                    continue;
                }
                let Some(dest) = &d.destination else { continue };
                let target = match dest.subset.as_deref() {
                    Some(sub) => format!("{} subset {sub}", dest.host),
                    None => dest.host.clone(),
                };
                let at = FieldPath::root()
                    .field("spec")
                    .field("http")
                    .index(i)
                    .field("route")
                    .index(j);
                r.report(e, Some(&at), "MSH0002", &[target, i.to_string()]);
            }
        }
    }
}

/// `meshctl.AuthorizationPolicyAnalyzer`: an ALLOW policy without rules matches no
/// request, so it denies every request to the workloads it selects (MSH0003); a
/// CUSTOM policy needs an external authorizer sidecars do not support yet, so
/// they deny what it matches (MSH0004).
pub fn authorization(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, ap) in s.authorization_policies() {
        if ap.spec.action == Some(Action::Custom) {
            let provider = ap
                .spec
                .provider
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_default();
            r.report(
                e,
                Some(&FieldPath::root().field("spec").field("action")),
                "MSH0004",
                &[provider],
            );
        }
        let allow = ap.spec.action.unwrap_or_default() == Action::Allow;
        if allow && ap.spec.rules.is_empty() && ap.spec.provider.is_none() {
            let scope = match &ap.spec.selector {
                Some(sel) if !sel.match_labels.is_empty() => {
                    format!(
                        "workloads {}",
                        crate::context::selector_string(&sel.match_labels)
                    )
                }
                _ if crate::context::ns(e) == s.mesh.root_namespace() => {
                    "the whole mesh".to_owned()
                }
                _ => format!("namespace {}", crate::context::ns(e)),
            };
            r.report(
                e,
                Some(&FieldPath::root().field("spec")),
                "MSH0003",
                &[scope],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use mesh_api::load::{self, Input, UnknownKinds};

    use crate::{Entry, MeshConfig};

    fn codes(yaml: &str, analyzer: &str) -> Vec<String> {
        let loaded = load::load(
            vec![Ok(Input {
                name: "t.yaml".into(),
                text: yaml.into(),
            })],
            UnknownKinds::Warn,
        );
        let entries: Vec<Entry> = loaded.objects.into_iter().map(Entry::from).collect();
        crate::analyze(&entries, &MeshConfig::default(), &[analyzer.to_owned()])
            .expect("known analyzer")
            .into_iter()
            .map(|f| format!("{} {}", f.code, f.message))
            .collect()
    }

    const VS: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: d}\nspec:\n  hosts: [r]\n  http:\n  - timeout: TIMEOUT\n    retries: {attempts: 3, perTryTimeout: 2s}\n    route:\n    - destination: {host: r, subset: v1}\n      weight: 100\n    - destination: {host: r, subset: v2}\n      weight: 0\n";

    #[test]
    fn retries_that_outlast_the_route_timeout() {
        let found = codes(&VS.replace("TIMEOUT", "5s"), "meshctl.RetryTimeoutAnalyzer");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("4 tries of up to 2s take up to 8s"),
            "{found:?}"
        );
        assert!(
            codes(
                &VS.replace("TIMEOUT", "10s"),
                "meshctl.RetryTimeoutAnalyzer"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_zero_weight_beside_others_gets_no_traffic() {
        let found = codes(&VS.replace("TIMEOUT", "10s"), "meshctl.WeightAnalyzer");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("MSH0002 r subset v2 gets no traffic"),
            "{found:?}"
        );
    }

    #[test]
    fn an_allow_policy_without_rules_denies_everything() {
        let ap = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  selector: {matchLabels: {app: cart}}\n";
        let found = codes(ap, "meshctl.AuthorizationPolicyAnalyzer");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("every request to workloads app=cart"),
            "{found:?}"
        );
        let with_rule = format!("{ap}  rules:\n  - to:\n    - operation: {{methods: [GET]}}\n");
        assert!(codes(&with_rule, "meshctl.AuthorizationPolicyAnalyzer").is_empty());
    }

    #[test]
    fn a_custom_policy_is_reported_as_failing_closed() {
        let ap = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ext, namespace: shop}\nspec:\n  action: CUSTOM\n  provider: {name: opa}\n  rules:\n  - to:\n    - operation: {paths: [/admin]}\n";
        let found = codes(ap, "meshctl.AuthorizationPolicyAnalyzer");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("MSH0004") && found[0].contains("provider \"opa\""),
            "{found:?}"
        );
    }
}
