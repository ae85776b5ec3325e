//! Istio's `ValidateTelemetry` and the CRD's rules.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::cel::syntax_problem;
use super::{AccessLogging, CustomTag, Metrics, ProviderRef, TagOperation, TelemetrySpec, Tracing};
use crate::kind::Kind;
use crate::object::Spec;
use crate::path::FieldPath;
use crate::security::{reject_dry_run, validate_targeting};
use crate::telemetry::filter::{ValueExpr, valid_label_name};
use crate::validation::{Report, rules};

impl Spec for TelemetrySpec {
    const KIND: Kind = Kind::Telemetry;

    fn validate(&self, meta: &ObjectMeta, r: &mut Report) {
        let at = FieldPath::spec();
        reject_dry_run(meta, "Telemetry", r);
        validate_targeting(
            self.selector.as_ref(),
            self.target_ref.as_ref(),
            &self.target_refs,
            &at,
            r,
        );
        if self.tracing.len() > 1 {
            r.warning(
                &at.field("tracing"),
                "multiple tracing entries are not currently supported: only the first is used",
            );
        }
        for (i, t) in self.tracing.iter().enumerate() {
            check_tracing(t, &at.field("tracing").index(i), r);
        }
        for (i, m) in self.metrics.iter().enumerate() {
            check_metrics(m, &at.field("metrics").index(i), r);
        }
        for (i, l) in self.access_logging.iter().enumerate() {
            check_access_logging(l, &at.field("accessLogging").index(i), r);
        }
    }
}

fn check_providers(providers: &[ProviderRef], at: &FieldPath, r: &mut Report) {
    for (i, p) in providers.iter().enumerate() {
        if p.name.is_empty() {
            r.error(
                &at.index(i).field("name"),
                "provider name must not be empty: name an extension provider from the mesh config",
            );
        }
    }
}

fn check_tracing(t: &Tracing, at: &FieldPath, r: &mut Report) {
    if t.providers.len() > 1 {
        r.warning(
            &at.field("providers"),
            "multiple tracing providers are not currently supported: only the first is used",
        );
    }
    check_providers(&t.providers, &at.field("providers"), r);
    if let Some(p) = t.random_sampling_percentage {
        rules::check_percentage(r, &at.field("randomSamplingPercentage"), p);
    }
    for (name, tag) in &t.custom_tags {
        let here = at.field("customTags").key(name);
        if name.is_empty() {
            r.error(&here, "custom tag name must not be empty");
        }
        check_custom_tag(tag, &here, r);
    }
}

fn check_custom_tag(tag: &CustomTag, at: &FieldPath, r: &mut Report) {
    let set = usize::from(tag.literal.is_some())
        + usize::from(tag.environment.is_some())
        + usize::from(tag.header.is_some())
        + usize::from(tag.formatter.is_some());
    if set > 1 {
        r.error(
            at,
            "a custom tag takes its value from one source: set only one of literal, environment, header or formatter",
        );
    }
    let empty = [
        ("literal", "value", tag.literal.as_ref().map(|l| &l.value)),
        (
            "environment",
            "name",
            tag.environment.as_ref().map(|e| &e.name),
        ),
        ("header", "name", tag.header.as_ref().map(|h| &h.name)),
        (
            "formatter",
            "value",
            tag.formatter.as_ref().map(|f| &f.value),
        ),
    ];
    for (kind, field, value) in empty {
        if value.is_some_and(String::is_empty) {
            r.error(
                &at.field(kind).field(field),
                format!("{kind} tag {field} must not be empty"),
            );
        }
    }
}

fn check_metrics(m: &Metrics, at: &FieldPath, r: &mut Report) {
    check_providers(&m.providers, &at.field("providers"), r);
    if let Some(d) = &m.reporting_interval {
        rules::check_duration(r, &at.field("reportingInterval"), d);
    }
    for (i, o) in m.overrides.iter().enumerate() {
        let here = at.field("overrides").index(i);
        if let Some(sel) = &o.r#match {
            let mat = here.field("match");
            if sel.metric.is_some() && sel.custom_metric.is_some() {
                r.error(
                    &mat,
                    "set only one of metric and customMetric: a standard metric or a custom one",
                );
            }
            if sel.custom_metric.as_deref() == Some("") {
                r.error(
                    &mat.field("customMetric"),
                    "customMetric must not be empty: name the metric, or use metric for a standard one",
                );
            }
        }
        for (tag, to) in &o.tag_overrides {
            let there = here.field("tagOverrides").key(tag);
            if tag.is_empty() {
                r.warning(&there, "tag override name is empty: it has no effect");
            }
            match (to.operation(), to.value.as_deref()) {
                (TagOperation::Upsert, None | Some("")) => r.error(
                    &there.field("value"),
                    "value must be set when operation is UPSERT: give the tag's value expression, or use REMOVE",
                ),
                (TagOperation::Remove, Some(v)) => r.error(
                    &there.field("value"),
                    if v.is_empty() {
                        "value must not be set when operation is REMOVE".to_string()
                    } else {
                        format!("value {v:?} must not be set when operation is REMOVE")
                    },
                ),
                (TagOperation::Upsert, Some(v)) => check_upsert(tag, v, &there, r),
                _ => {}
            }
        }
    }
}

/// An `UPSERT`: the tag must be a label name Prometheus accepts and the value
/// within meshctl's subset (see `telemetry::filter::ValueExpr`).
fn check_upsert(tag: &str, value: &str, at: &FieldPath, r: &mut Report) {
    if !tag.is_empty() && !valid_label_name(tag) {
        r.error(
            at,
            format!(
                "tag {tag:?} is not a valid Prometheus label name: use letters, digits and _ \
                 ([a-zA-Z_][a-zA-Z0-9_]*), not starting with __"
            ),
        );
    }
    if let Err(e) = ValueExpr::parse(value) {
        r.error(
            &at.field("value"),
            format!("value {value:?} cannot be evaluated: {e}"),
        );
    }
}

fn check_access_logging(l: &AccessLogging, at: &FieldPath, r: &mut Report) {
    check_providers(&l.providers, &at.field("providers"), r);
    if let Some(f) = &l.filter
        && let Some(p) = syntax_problem(&f.expression)
    {
        r.error(
            &at.field("filter").field("expression"),
            format!(
                "filter expression {:?} must be a valid CEL expression: {p}",
                f.expression
            ),
        );
    } else if let Some(f) = &l.filter
        && let Err(e) = crate::telemetry::filter::Filter::parse(&f.expression)
    {
        r.error(
            &at.field("filter").field("expression"),
            format!(
                "filter expression {:?} cannot be evaluated: {e}",
                f.expression
            ),
        );
    }
}
