//! Istio's own test material (`../shared/conformance`) read through mesh-api: every
//! document of a kind meshctl supports decodes, and the bookinfo samples validate.

use std::path::{Path, PathBuf};

use mesh_api::Severity;
use mesh_api::load::{self, UnknownKinds};

fn conformance() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    assert!(
        p.is_dir(),
        "missing {}: shared/ must sit beside the repository",
        p.display()
    );
    p
}

/// Files of Istio's analyzer tests that are mesh config, not resources: analyze
/// takes them with --meshConfigFile.
const MESH_CONFIG_FILES: &[&str] = &[
    "meshconfig.yaml",
    "meshnetworks.yaml",
    "mesh-with-automtls.yaml",
    "serviceentry-address-allocated-mesh-cfg.yaml",
    "serviceentry-missing-addresses-protocol-mesh-cfg.yaml",
    "telemetry-lightstep-meshconfig.yaml",
];

#[test]
fn every_supported_resource_in_istios_analyzer_inputs_decodes() {
    let dir = conformance().join("istio-analyzers/testdata");
    let loaded = load::load(load::read_inputs(&[dir]), UnknownKinds::Warn);
    assert!(loaded.files > 100, "read {} files", loaded.files);
    assert!(
        loaded.objects.len() > 400,
        "decoded {}",
        loaded.objects.len()
    );
    let failures: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .filter(|d| {
            let file = d.file.as_deref().unwrap_or_default();
            !MESH_CONFIG_FILES.iter().any(|m| file.ends_with(m))
        })
        .map(|d| d.to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{} documents failed to decode:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bookinfo_samples_are_valid() {
    let dir = conformance().join("istio-samples/bookinfo");
    let loaded = load::load(load::read_inputs(&[dir]), UnknownKinds::Error);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    assert_eq!(loaded.objects.len(), 52);
    let findings = load::validate(&loaded);
    let errors: Vec<String> = findings
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The one finding Istio also reports on its samples: in the fault-injection
    // sample, a catch-all rule follows another catch-all rule.
    let rest: Vec<(Option<&str>, Option<&str>, Option<&str>)> = findings
        .iter()
        .map(|d| (d.code.as_deref(), d.resource.as_deref(), d.field.as_deref()))
        .collect();
    assert_eq!(
        rest,
        [(
            Some("IST0130"),
            Some("VirtualService details"),
            Some("spec.http[1]")
        )],
        "{findings:#?}"
    );
}
