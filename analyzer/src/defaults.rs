//! Stand-ins for what every installed mesh has but files rarely include: the default
//! ingress gateway's pod and service (as `istioctl analyze` adds for files-only
//! analysis, so Gateways selecting `istio: ingressgateway` are not reported as
//! selecting nothing).

use mesh_api::Resource;
use mesh_api::yaml;

use crate::Entry;

const INGRESS: &str = "\
apiVersion: v1
kind: Pod
metadata:
  labels:
    istio: ingressgateway
  name: istio-ingressgateway-dummypod
  namespace: NAMESPACE
spec:
  containers:
  - name: istio-proxy
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: NAMESPACE
spec:
  ports:
  - {name: http2, port: 80, protocol: TCP, targetPort: 80}
  - {name: https, port: 443, protocol: TCP, targetPort: 443}
  - {name: tcp, port: 31400, protocol: TCP, targetPort: 31400}
  - {name: tls, port: 15443, protocol: TCP, targetPort: 15443}
  selector:
    istio: ingressgateway
";

/// The default ingress gateway's pod and service in `namespace`.
pub fn default_resources(namespace: &str) -> Vec<Entry> {
    let text = INGRESS.replace("NAMESPACE", namespace);
    yaml::parse_documents(&text)
        .map(|docs| {
            docs.iter()
                .filter_map(|d| Resource::from_node(d).ok())
                .map(Entry::new)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_ingress_gateway_decodes() {
        let r = super::default_resources("istio-system");
        assert_eq!(r.len(), 2);
    }
}
