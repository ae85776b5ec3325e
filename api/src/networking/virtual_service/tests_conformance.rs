//! Istio's analyzer case `dupmatches` (IST0130/IST0131). That every bookinfo
//! sample is valid and every analyzer input decodes is checked for all kinds at
//! once in `api/tests/conformance.rs`.

use std::path::PathBuf;

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
