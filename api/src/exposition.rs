//! Prometheus exposition helpers shared by the control plane and the sidecar:
//! both register metrics with prometheus-client (which writes OpenMetrics) and
//! serve the Prometheus text format that Envoy and istiod serve.

/// OpenMetrics to Prometheus text 0.0.4: a counter's `# HELP`/`# TYPE` name its
/// samples (`x_total`), and there is no `# EOF`.
pub fn classic_text(openmetrics: &str) -> String {
    let lines: Vec<&str> = openmetrics.lines().collect();
    let mut out = String::with_capacity(openmetrics.len() + 256);
    for (i, line) in lines.iter().enumerate() {
        if *line == "# EOF" {
            continue;
        }
        let counter_name = |l: &str| {
            l.strip_prefix("# TYPE ")
                .and_then(|r| r.strip_suffix(" counter"))
                .map(str::to_owned)
        };
        let renamed = if let Some(name) = counter_name(line) {
            Some(format!("# TYPE {name}_total counter"))
        } else if let Some(rest) = line.strip_prefix("# HELP ")
            && let Some(next) = lines.get(i + 1)
            && let Some(name) = counter_name(next)
            && let Some(help) = rest.strip_prefix(name.as_str())
        {
            Some(format!("# HELP {name}_total{help}"))
        } else {
            None
        };
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_text_names_counters_by_their_samples() {
        let om = "# HELP istio_requests Requests.\n# TYPE istio_requests counter\nistio_requests_total{a=\"b\"} 1\n# HELP g A gauge.\n# TYPE g gauge\ng 2\n# EOF\n";
        assert_eq!(
            classic_text(om),
            "# HELP istio_requests_total Requests.\n# TYPE istio_requests_total counter\nistio_requests_total{a=\"b\"} 1\n# HELP g A gauge.\n# TYPE g gauge\ng 2\n"
        );
    }
}
