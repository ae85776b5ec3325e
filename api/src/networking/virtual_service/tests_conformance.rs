//! Conformance inputs: Istio's analyzer case `dupmatches` (IST0130/IST0131), the
//! bookinfo samples (valid), and the analyzer test data (decodable).

use std::path::PathBuf;

use crate::kind::Kind;
use crate::load::{UnknownKinds, load, read_inputs, validate};

fn conformance(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance/"
    ))
    .join(rel)
}

/// The `dupmatches` case of Istio's analyzer tests (schema.ValidationAnalyzer).
#[test]
fn conformance_dupmatches() {
    let inputs = read_inputs(&[
        conformance("istio-analyzers/testdata/virtualservice_dupmatches.yaml"),
        conformance("istio-analyzers/testdata/virtualservice_overlappingmatches.yaml"),
    ]);
    let loaded = load(inputs, UnknownKinds::Warn);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    let mut got: Vec<(String, String)> = validate(&loaded)
        .into_iter()
        .filter_map(|d| {
            let code = d.code?;
            (code == "IST0130" || code == "IST0131").then(|| (code, d.resource.unwrap_or_default()))
        })
        .collect();
    let mut want: Vec<(String, String)> = [
        ("IST0130", "VirtualService duplicate-match"),
        ("IST0130", "VirtualService foo/sample-foo-cluster01"),
        ("IST0131", "VirtualService almost-duplicate-match"),
        ("IST0131", "VirtualService duplicate-match"),
        ("IST0130", "VirtualService duplicate-tcp-match"),
        ("IST0130", "VirtualService duplicate-empty-tcp"),
        ("IST0131", "VirtualService almost-duplicate-tcp-match"),
        ("IST0131", "VirtualService duplicate-tcp-match"),
        ("IST0130", "VirtualService none/tls-routing"),
        ("IST0131", "VirtualService none/tls-routing-almostmatch"),
        ("IST0131", "VirtualService none/tls-routing"),
        ("IST0131", "VirtualService non-method-get"),
        ("IST0131", "VirtualService overlapping-in-single-match"),
        ("IST0131", "VirtualService overlapping-in-two-matches"),
        (
            "IST0131",
            "VirtualService overlapping-mathes-with-different-methods",
        ),
    ]
    .into_iter()
    .map(|(c, r)| (c.to_owned(), r.to_owned()))
    .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

fn virtual_services_in(dir: &str) -> crate::load::Loaded {
    let loaded = load(read_inputs(&[conformance(dir)]), UnknownKinds::Warn);
    let vs_problems: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| {
            d.severity == crate::validation::Severity::Error
                && d.resource
                    .as_deref()
                    .is_some_and(|r| r.starts_with("VirtualService"))
        })
        .collect();
    assert!(vs_problems.is_empty(), "{vs_problems:#?}");
    loaded
}

#[test]
fn conformance_bookinfo_is_valid() {
    let loaded = virtual_services_in("istio-samples/bookinfo");
    let mut count = 0;
    for obj in &loaded.objects {
        if obj.resource.kind() != Kind::VirtualService {
            continue;
        }
        count += 1;
        let errs: Vec<_> = obj
            .resource
            .validate()
            .into_iter()
            .filter(|f| f.severity == crate::validation::Severity::Error)
            .collect();
        assert!(errs.is_empty(), "{}: {errs:#?}", obj.origin.file);
    }
    assert!(count > 10, "found only {count} VirtualServices");
}

#[test]
fn conformance_analyzer_inputs_decode() {
    let loaded = virtual_services_in("istio-analyzers/testdata");
    assert!(
        loaded
            .objects
            .iter()
            .any(|o| o.resource.kind() == Kind::VirtualService)
    );
}
