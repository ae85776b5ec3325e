use crate::validation::testing::{assert_error, assert_valid, warnings};

/// A DestinationRule document in namespace `default` with the given spec body
/// (indented two spaces).
fn dr(spec: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  namespace: default\nspec:\n{spec}"
    )
}

/// A rule for `reviews` whose trafficPolicy is `tp` (indented four spaces).
fn tp(tp: &str) -> String {
    dr(&format!("  host: reviews\n  trafficPolicy:\n{tp}"))
}

#[test]
fn host_is_required_and_valid() {
    assert_valid(&dr("  host: \"*.example.com\"\n"));
    assert_valid(&dr("  host: reviews.default.svc.cluster.local\n"));
    assert_error(&dr("  subsets: []\n"), "spec.host: host is required");
    assert_error(&dr("  host: foo.*.com\n"), "spec.host");
    assert_error(&dr("  host: 1.2.3.4\n"), "spec.host");
}

#[test]
fn subsets_names_labels_and_uniqueness() {
    assert_valid(&dr(
        "  host: reviews\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n",
    ));
    assert_error(
        &dr("  host: reviews\n  subsets:\n  - labels:\n      version: v1\n"),
        "spec.subsets[0].name: subset name is required",
    );
    assert_error(
        &dr("  host: reviews\n  subsets:\n  - name: v_1\n"),
        "spec.subsets[0].name: subset name \"v_1\" invalid",
    );
    assert_error(
        &dr("  host: reviews\n  subsets:\n  - name: v1\n  - name: v1\n"),
        "spec.subsets[1].name: duplicate subset name",
    );
    assert_error(
        &dr("  host: reviews\n  subsets:\n  - name: v1\n    labels:\n      version: bad value\n"),
        "spec.subsets[0].labels[version]",
    );
    assert_error(
        &dr("  host: reviews\n  subsets:\n  - name: v1\n    trafficPolicy: {}\n"),
        "spec.subsets[0].trafficPolicy: traffic policy must have at least one field",
    );
}

#[test]
fn traffic_policy_needs_a_field() {
    assert_valid(&tp("    tls:\n      mode: ISTIO_MUTUAL\n"));
    assert_valid(&tp(
        "    retryBudget:\n      percent: 25\n      minRetryConcurrency: 5\n",
    ));
    assert_error(&tp("    {}\n"), "at least one field");
    assert_error(
        &tp("    retryBudget:\n      percent: 120\n"),
        "spec.trafficPolicy.retryBudget.percent",
    );
}

#[test]
fn tunnel_and_proxy_protocol() {
    assert_valid(&tp(
        "    tunnel:\n      protocol: POST\n      targetHost: 10.0.0.1\n      targetPort: 8443\n",
    ));
    assert_valid(&tp("    proxyProtocol:\n      version: V2\n"));
    assert_error(
        &tp(
            "    tunnel:\n      targetHost: egress.example.com\n      targetPort: 443\n    proxyProtocol: {}\n",
        ),
        "tunnel and proxyProtocol must not be set together",
    );
    assert_error(
        &tp(
            "    tunnel:\n      protocol: GET\n      targetHost: egress.example.com\n      targetPort: 443\n",
        ),
        "tunnel.protocol",
    );
    assert_error(
        &tp("    tunnel:\n      targetHost: \"*.example.com\"\n      targetPort: 443\n"),
        "tunnel.targetHost",
    );
    assert_error(
        &tp("    tunnel:\n      targetHost: egress.example.com\n"),
        "tunnel.targetPort",
    );
}

#[test]
fn outlier_detection() {
    assert_valid(&tp(
        "    outlierDetection:\n      consecutive5xxErrors: 7\n      consecutiveGatewayErrors: 3\n      interval: 5m\n      baseEjectionTime: 15m\n      maxEjectionPercent: 100\n      minHealthPercent: 0\n      splitExternalLocalOriginErrors: true\n      consecutiveLocalOriginFailures: 3\n",
    ));
    assert_error(
        &tp("    outlierDetection:\n      interval: 0s\n"),
        "outlierDetection.interval",
    );
    assert_error(
        &tp("    outlierDetection:\n      baseEjectionTime: 1500us\n"),
        "outlierDetection.baseEjectionTime",
    );
    assert_error(
        &tp("    outlierDetection:\n      maxEjectionPercent: 101\n"),
        "maxEjectionPercent 101 invalid",
    );
    assert_error(
        &tp("    outlierDetection:\n      minHealthPercent: -1\n"),
        "minHealthPercent -1 invalid",
    );
    assert_error(
        &tp("    outlierDetection:\n      consecutiveLocalOriginFailures: 3\n"),
        "outlierDetection.consecutiveLocalOriginFailures",
    );
    let w = warnings(&tp("    outlierDetection:\n      consecutiveErrors: 5\n"));
    assert!(w.iter().any(|w| w.contains("deprecated")), "{w:?}");
}

#[test]
fn connection_pool() {
    assert_valid(&tp(
        "    connectionPool:\n      tcp:\n        maxConnections: 100\n        connectTimeout: 30ms\n        idleTimeout: 0s\n        maxConnectionDuration: 1h\n        tcpKeepalive:\n          probes: 3\n          time: 7200s\n          interval: 75s\n      http:\n        http1MaxPendingRequests: 1\n        http2MaxRequests: 1000\n        maxRequestsPerConnection: 10\n        maxRetries: 3\n        idleTimeout: 30s\n        h2UpgradePolicy: UPGRADE\n        maxConcurrentStreams: 100\n",
    ));
    assert_error(
        &tp("    connectionPool: {}\n"),
        "spec.trafficPolicy.connectionPool: connection pool must have at least one field",
    );
    assert_error(
        &tp("    connectionPool:\n      tcp:\n        maxConnections: -1\n"),
        "tcp.maxConnections: maxConnections -1 invalid",
    );
    for f in [
        "http1MaxPendingRequests",
        "http2MaxRequests",
        "maxRequestsPerConnection",
        "maxRetries",
        "maxConcurrentStreams",
    ] {
        assert_error(
            &tp(&format!(
                "    connectionPool:\n      http:\n        {f}: -2\n"
            )),
            &format!("http.{f}: {f} -2 invalid"),
        );
    }
    assert_error(
        &tp("    connectionPool:\n      tcp:\n        connectTimeout: 0s\n"),
        "tcp.connectTimeout",
    );
    assert_error(
        &tp("    connectionPool:\n      tcp:\n        idleTimeout: 1500us\n"),
        "tcp.idleTimeout",
    );
    assert_error(
        &tp("    connectionPool:\n      tcp:\n        tcpKeepalive:\n          time: 0s\n"),
        "tcpKeepalive.time",
    );
    assert_error(
        &tp(
            "    connectionPool:\n      http:\n        h2UpgradePolicy: UPGRADE\n        useClientProtocol: true\n",
        ),
        "http.useClientProtocol",
    );
}

#[test]
fn simple_and_consistent_hash() {
    for lb in [
        "LEAST_REQUEST",
        "ROUND_ROBIN",
        "RANDOM",
        "PASSTHROUGH",
        "LEAST_CONN",
        "UNSPECIFIED",
    ] {
        assert_valid(&tp(&format!("    loadBalancer:\n      simple: {lb}\n")));
    }
    assert_valid(&tp(
        "    loadBalancer:\n      consistentHash:\n        httpCookie:\n          name: user\n          path: /\n          ttl: 0s\n          attributes:\n          - name: SameSite\n            value: Strict\n          - name: Secure\n        maglev:\n          tableSize: 65537\n",
    ));
    assert_valid(&tp(
        "    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        ringHash:\n          minimumRingSize: \"1024\"\n",
    ));
    assert_error(
        &tp(
            "    loadBalancer:\n      simple: RANDOM\n      consistentHash:\n        useSourceIp: true\n",
        ),
        "set only one of simple and consistentHash",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      consistentHash:\n        httpHeaderName: x-user\n        useSourceIp: false\n",
        ),
        "set only one hash key",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        ringHash: {}\n        maglev:\n          tableSize: 7\n",
        ),
        "set only one hash algorithm",
    );
    assert_error(
        &tp("    loadBalancer:\n      consistentHash:\n        httpCookie:\n          ttl: 10s\n"),
        "httpCookie.name: name required",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      consistentHash:\n        httpCookie:\n          name: u\n          attributes:\n          - value: x\n",
        ),
        "httpCookie.attributes[0].name",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        maglev:\n          tableSize: 1000\n",
        ),
        "must be a prime number",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        maglev:\n          tableSize: 5000011\n",
        ),
        "must be less than 5000011",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        maglev: {}\n",
        ),
        "tableSize must be set",
    );
    let y = tp(
        "    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        minimumRingSize: 1024\n",
    );
    assert_valid(&y);
    assert!(warnings(&y).iter().any(|w| w.contains("deprecated")));
    assert_error(
        &tp(
            "    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        minimumRingSize: 1024\n        ringHash:\n          minimumRingSize: 10\n",
        ),
        "only one of minimumRingSize or maglev/ringHash",
    );
}

#[test]
fn warmup() {
    assert_valid(&tp(
        "    loadBalancer:\n      simple: ROUND_ROBIN\n      warmupDurationSecs: 60s\n      warmup:\n        duration: 60s\n        minimumPercent: 10\n        aggression: 1.5\n",
    ));
    assert_error(
        &tp("    loadBalancer:\n      warmupDurationSecs: 0s\n"),
        "loadBalancer.warmupDurationSecs",
    );
    assert_error(
        &tp("    loadBalancer:\n      warmup:\n        minimumPercent: 10\n"),
        "warmup.duration: warmup duration is required",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      warmup:\n        duration: 10s\n        minimumPercent: 101\n",
        ),
        "warmup.minimumPercent",
    );
    assert_error(
        &tp("    loadBalancer:\n      warmup:\n        duration: 10s\n        aggression: 0.5\n"),
        "warmup.aggression",
    );
}

#[test]
fn locality_lb_setting() {
    let ok = tp(
        "    loadBalancer:\n      localityLbSetting:\n        enabled: true\n        distribute:\n        - from: us-west/zone1/*\n          to:\n            \"us-west/zone1/*\": 80\n            \"us-west/zone2/*\": 20\n        - from: us-west/zone2/*\n          to:\n            \"us-west/zone1/*\": 20\n            \"us-west/zone2/*\": 80\n",
    );
    assert_valid(&ok);
    let failover = tp(
        "    outlierDetection:\n      consecutive5xxErrors: 1\n    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: us-east\n          to: eu-west\n        failoverPriority:\n        - topology.istio.io/network\n",
    );
    assert_valid(&failover);
    assert!(warnings(&failover).is_empty());
    let no_outlier = tp(
        "    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: us-east\n          to: eu-west\n",
    );
    assert_valid(&no_outlier);
    assert!(
        warnings(&no_outlier)
            .iter()
            .any(|w| w.contains("outlier detection"))
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a\n          to:\n            b: 100\n        failover:\n        - from: a\n          to: b\n",
        ),
        "can not simultaneously specify 'distribute' and 'failover'",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: a\n          to: b\n        failoverPriority:\n        - topology.kubernetes.io/zone\n",
        ),
        "failoverPriority[0]",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a\n          to:\n            b: 60\n            c: 30\n",
        ),
        "total locality weight 90",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a\n          to:\n            b: 0\n            c: 100\n",
        ),
        "locality weight 0 invalid",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: \"a/*/c\"\n          to:\n            b: 100\n",
        ),
        "distribute[0].from: locality \"a/*/c\" invalid",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a\n          to:\n            b: 100\n        - from: a/z1\n          to:\n            b: 100\n",
        ),
        "overlaps",
    );
    assert_error(
        &tp(
            "    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: a//c\n          to:\n            b: 100\n",
        ),
        "empty region/zone/subzone",
    );
    for (from, to, needle) in [
        ("a", "a", "different regions"),
        ("a/z", "b", "only specifies regions"),
        ("a*", "b", "wildcard"),
    ] {
        assert_error(
            &tp(&format!(
                "    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: \"{from}\"\n          to: \"{to}\"\n"
            )),
            needle,
        );
    }
}

#[test]
fn port_level_settings() {
    assert_valid(&tp(
        "    portLevelSettings:\n    - port:\n        number: 80\n      loadBalancer:\n        simple: LEAST_REQUEST\n    - port:\n        number: 9080\n      tls:\n        mode: SIMPLE\n",
    ));
    assert_error(
        &tp("    portLevelSettings:\n    - loadBalancer:\n        simple: RANDOM\n"),
        "portLevelSettings[0].port: port is required",
    );
    assert_error(
        &tp("    portLevelSettings:\n    - port:\n        number: 80\n"),
        "port traffic policy must have at least one field",
    );
    assert_error(
        &tp("    portLevelSettings:\n    - port:\n        number: 80\n      connectionPool: {}\n"),
        "portLevelSettings[0].connectionPool",
    );
    let dup = tp(
        "    portLevelSettings:\n    - port:\n        number: 80\n      tls:\n        mode: SIMPLE\n    - port:\n        number: 80\n      tls:\n        mode: DISABLE\n",
    );
    assert_valid(&dup);
    assert!(
        warnings(&dup)
            .iter()
            .any(|w| w.contains("portLevelSettings[1].port.number"))
    );
}

#[test]
fn tls_uses_client_tls_rules() {
    assert_valid(&tp(
        "    tls:\n      mode: MUTUAL\n      clientCertificate: /etc/certs/cert.pem\n      privateKey: /etc/certs/key.pem\n",
    ));
    assert_error(
        &tp("    tls:\n      mode: MUTUAL\n"),
        "trafficPolicy.tls.clientCertificate",
    );
}

#[test]
fn export_to() {
    let with = |e: &str| dr(&format!("  host: reviews\n  exportTo: {e}\n"));
    assert_valid(&with("[\".\"]"));
    assert_valid(&with("[\"*\"]"));
    assert_valid(&with("[ns1, ns2]"));
    assert_error(&with("[ns1, ns1]"), "duplicate entry \"ns1\"");
    assert_error(
        &with("[default, \".\"]"),
        "'.' and the current namespace \"default\" are the same",
    );
    assert_error(
        &with("[\"~\"]"),
        "'~' (no one) is allowed only on ServiceEntries",
    );
    assert_error(&with("[Bad_NS]"), "spec.exportTo[0]");
    assert_error(
        &with("[\"*\", ns1]"),
        "cannot have both public (*) and non-public",
    );
    let sel = |e: &str| {
        dr(&format!(
            "  host: reviews\n  workloadSelector:\n    matchLabels:\n      app: ratings\n  exportTo: {e}\n"
        ))
    };
    assert_valid(&sel("[\".\"]"));
    assert_error(
        &sel("[ns1]"),
        "cannot have exportTo beyond the current namespace",
    );
    assert_error(
        &sel("[\".\", ns1]"),
        "cannot have multiple entries in exportTo",
    );
}

#[test]
fn workload_selector() {
    assert_valid(&dr(
        "  host: reviews\n  workloadSelector:\n    matchLabels:\n      app: ratings\n",
    ));
    assert_error(
        &dr("  host: reviews\n  workloadSelector:\n    matchLabels:\n      app: \"*\"\n"),
        "wildcard is not supported",
    );
    let empty = dr("  host: reviews\n  workloadSelector: {}\n");
    assert_valid(&empty);
    assert!(
        warnings(&empty)
            .iter()
            .any(|w| w.contains("without labels"))
    );
}

#[test]
fn unknown_fields_are_rejected() {
    let yaml = tp("    loadBalancer:\n      simpel: RANDOM\n");
    let docs = crate::yaml::parse_documents(&yaml).expect("yaml");
    assert!(crate::resource::Resource::from_node(&docs[0]).is_err());
}

/// A rich example from Istio's reference docs, and more, survives a JSON round trip.
#[test]
fn round_trip() {
    let yaml = tp(
        "    loadBalancer:\n      consistentHash:\n        httpCookie:\n          name: user\n          ttl: 0s\n      localityLbSetting:\n        failoverPriority: [\"topology.istio.io/network\"]\n    connectionPool:\n      tcp:\n        maxConnections: 100\n        connectTimeout: 30ms\n        tcpKeepalive:\n          time: 7200s\n          interval: 75s\n      http:\n        http2MaxRequests: 1000\n        maxRequestsPerConnection: 10\n    outlierDetection:\n      consecutive5xxErrors: 7\n      interval: 5m\n      baseEjectionTime: 15m\n    portLevelSettings:\n    - port:\n        number: 31443\n      tls:\n        credentialName: client-credential\n        mode: MUTUAL\n  subsets:\n  - name: testversion\n    labels:\n      version: v3\n    trafficPolicy:\n      loadBalancer:\n        simple: ROUND_ROBIN\n  exportTo: [\".\"]\n",
    );
    assert_valid(&yaml);
    let docs = crate::yaml::parse_documents(&yaml).expect("yaml");
    let res = crate::resource::Resource::from_node(&docs[0]).expect("decode");
    let json = res.to_json();
    let again: super::DestinationRule = serde_json::from_value(json.clone()).expect("reparse");
    let first: super::DestinationRule = serde_json::from_value(json).expect("parse");
    assert_eq!(first, again);
    let back = serde_json::to_value(&again).expect("serialize");
    assert_eq!(back, serde_json::to_value(&first).expect("serialize"));
    assert_eq!(
        again
            .spec
            .traffic_policy
            .as_ref()
            .and_then(|t| t.outlier_detection.as_ref())
            .and_then(|o| o.consecutive_5xx_errors),
        Some(7)
    );
}
