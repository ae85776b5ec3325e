//! Telemetry `tagOverrides` UPSERT on the request metrics: compiled per
//! snapshot into per-direction plans (which labels each request metric gets),
//! evaluated once per request when it arrives (`Call::start`), and applied to
//! the label set when the request is recorded.

use std::sync::Arc;

use http::{HeaderMap, Request, Version};
use mesh_api::proxy::TagUpsert;
use mesh_api::telemetry::filter::{Attr, Attributes, Value, ValueExpr, valid_label_name};

use super::labels::{Extra, RequestLabels, standard_bit};
use super::observe::{authority_port, metric_bit};

/// The request metrics' bits (see [`metric_bit`]): count, duration, request
/// and response size, gRPC request and response messages.
const REQUEST_METRICS: [u8; 6] = [1, 2, 4, 8, 32, 64];

/// The labels one group of request metrics gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The metric bits this plan serves.
    metrics: u8,
    /// Standard labels the added ones replace.
    hidden: u32,
    /// Label name and the index of its value in [`RtUpserts::exprs`].
    labels: Vec<(Arc<str>, usize)>,
}

/// The plans of one direction: each request metric in exactly one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Direction {
    plans: Vec<Plan>,
}

/// The UPSERT overrides, compiled.
#[derive(Debug)]
pub(crate) struct RtUpserts {
    /// The distinct value expressions, evaluated once per request.
    exprs: Vec<ValueExpr>,
    client: Option<Arc<Direction>>,
    server: Option<Arc<Direction>>,
}

impl RtUpserts {
    /// Compiles the overrides; `None` when there are none. A label name or
    /// value outside what meshctl supports is an error (a NACK).
    pub(crate) fn compile(upserts: &[TagUpsert]) -> Result<Option<Self>, String> {
        if upserts.is_empty() {
            return Ok(None);
        }
        let mut exprs: Vec<ValueExpr> = Vec::new();
        let mut parsed = Vec::with_capacity(upserts.len());
        for u in upserts {
            if !valid_label_name(&u.tag) {
                return Err(format!(
                    "telemetry.metrics.upsertedTags: {:?} is not a valid Prometheus label name",
                    u.tag
                ));
            }
            let e = ValueExpr::parse(&u.value)
                .map_err(|e| format!("telemetry.metrics.upsertedTags[{}].value: {e}", u.tag))?;
            let i = match exprs.iter().position(|x| *x == e) {
                Some(i) => i,
                None => {
                    exprs.push(e);
                    exprs.len() - 1
                }
            };
            parsed.push((u, i));
        }
        let direction = |client: bool| {
            // Per request metric, its labels in order; a later one replaces.
            let mut per: [Vec<(Arc<str>, usize)>; 6] = Default::default();
            for (u, i) in parsed.iter().filter(|(u, _)| u.mode.applies(client)) {
                let bits = metric_bit(&u.metric);
                for (slot, bit) in REQUEST_METRICS.iter().enumerate() {
                    if bits & bit != 0 {
                        let labels = &mut per[slot];
                        labels.retain(|(n, _)| **n != *u.tag);
                        labels.push((u.tag.as_str().into(), *i));
                    }
                }
            }
            if per.iter().all(Vec::is_empty) {
                return None;
            }
            let mut plans: Vec<Plan> = Vec::new();
            for (labels, bit) in per.into_iter().zip(REQUEST_METRICS) {
                match plans.iter_mut().find(|p| p.labels == labels) {
                    Some(p) => p.metrics |= bit,
                    None => plans.push(Plan {
                        metrics: bit,
                        hidden: labels.iter().fold(0, |m, (n, _)| m | standard_bit(n)),
                        labels,
                    }),
                }
            }
            Some(Arc::new(Direction { plans }))
        };
        Ok(Some(RtUpserts {
            client: direction(true),
            server: direction(false),
            exprs,
        }))
    }

    /// Evaluates the values for one request (outbound when `client`); `None`
    /// when no UPSERT applies to this direction.
    pub(crate) fn start<B>(&self, client: bool, req: &Request<B>) -> Option<Box<Upserted>> {
        let dir = if client { &self.client } else { &self.server };
        let dir = dir.as_ref()?.clone();
        let input = RequestAttrs {
            req,
            authority: crate::forward::authority_of(req),
        };
        let values = self
            .exprs
            .iter()
            .map(|e| Arc::from(escape(e.eval(&input))))
            .collect();
        Some(Box::new(Upserted { dir, values }))
    }
}

/// One request's evaluated values and its direction's plans.
#[derive(Debug)]
pub(crate) struct Upserted {
    dir: Arc<Direction>,
    values: Vec<Arc<str>>,
}

impl Upserted {
    /// Each plan's label set (built from `base`, which has the REMOVEd labels
    /// hidden) with the metric bits it serves.
    pub(crate) fn label_sets<'a>(
        &'a self,
        base: &'a RequestLabels,
    ) -> impl Iterator<Item = (RequestLabels, u8)> + 'a {
        self.dir.plans.iter().map(move |p| {
            let mut l = base.clone();
            l.hide(base.hidden | p.hidden);
            if !p.labels.is_empty() {
                l.extra = Some(Box::new(Extra(
                    p.labels
                        .iter()
                        .map(|(n, i)| (n.clone(), self.values[*i].clone()))
                        .collect(),
                )));
            }
            (l, p.metrics)
        })
    }
}

/// A label value as the exposition format needs it (`\`, `"` and newlines
/// escaped; prometheus-client writes values as given).
fn escape(v: String) -> String {
    if !v.contains(['\\', '"', '\n']) {
        return v;
    }
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The attributes of a request as it arrives.
struct RequestAttrs<'a, B> {
    req: &'a Request<B>,
    authority: Option<&'a str>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<Value<'a>> {
    h.get(name)
        .map(|v| Value::Str(String::from_utf8_lossy(v.as_bytes())))
}

impl<B> Attributes for RequestAttrs<'_, B> {
    fn get(&self, attr: &Attr) -> Option<Value<'_>> {
        let r = self.req;
        let s = |v: &'static str| Some(Value::Str(v.into()));
        let scheme = r.uri().scheme_str().unwrap_or("http");
        match attr {
            Attr::Method => Some(Value::Str(r.method().as_str().into())),
            Attr::Path => Some(Value::Str(
                r.uri().path_and_query().map_or("/", |p| p.as_str()).into(),
            )),
            Attr::UrlPath => Some(Value::Str(r.uri().path().into())),
            Attr::Host => self.authority.map(|a| Value::Str(a.into())),
            Attr::Scheme => Some(Value::Str(scheme.into())),
            Attr::Protocol => match r.version() {
                Version::HTTP_10 => s("HTTP/1.0"),
                Version::HTTP_2 => s("HTTP/2"),
                Version::HTTP_3 => s("HTTP/3"),
                _ => s("HTTP/1.1"),
            },
            Attr::RequestId => header(r.headers(), "x-request-id"),
            Attr::UserAgent => header(r.headers(), "user-agent"),
            Attr::Header(h) => header(r.headers(), h),
            Attr::DestinationPort => Some(Value::Int(i64::from(authority_port(
                self.authority,
                scheme,
            )))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesh_api::proxy::TrafficMode;

    fn up(tag: &str, value: &str, metric: &str, mode: TrafficMode) -> TagUpsert {
        TagUpsert {
            tag: tag.into(),
            value: value.into(),
            metric: metric.into(),
            mode,
        }
    }

    #[test]
    fn plans_group_metrics_and_a_later_upsert_wins() {
        let u = RtUpserts::compile(&[
            up(
                "request_host",
                "request.host",
                "ALL_METRICS",
                TrafficMode::ClientAndServer,
            ),
            up("user", "'a'", "REQUEST_COUNT", TrafficMode::Server),
            up("user", "'b'", "REQUEST_COUNT", TrafficMode::Server),
            up(
                "destination_service",
                "request.host",
                "REQUEST_COUNT",
                TrafficMode::Server,
            ),
        ])
        .expect("valid")
        .expect("some");
        assert_eq!(u.exprs.len(), 3, "request.host is evaluated once");
        let client = u.client.as_ref().expect("client");
        assert_eq!(client.plans.len(), 1);
        assert_eq!(client.plans[0].metrics, 1 | 2 | 4 | 8 | 32 | 64);
        let server = u.server.as_ref().expect("server");
        assert_eq!(server.plans.len(), 2);
        let count = &server.plans[0];
        assert_eq!(count.metrics, 1);
        let names: Vec<&str> = count.labels.iter().map(|(n, _)| &**n).collect();
        assert_eq!(names, ["request_host", "user", "destination_service"]);
        assert_eq!(count.hidden, standard_bit("destination_service"));
        assert_eq!(u.exprs[count.labels[1].1], ValueExpr::Literal("b".into()));
        assert_eq!(server.plans[1].metrics, 2 | 4 | 8 | 32 | 64);
    }

    #[test]
    fn request_values_and_errors() {
        let u = RtUpserts::compile(&[
            up("h", "request.host", "ALL_METRICS", TrafficMode::Client),
            up(
                "u",
                "request.headers['x-user']",
                "ALL_METRICS",
                TrafficMode::Client,
            ),
            up(
                "p",
                "string(destination.port)",
                "ALL_METRICS",
                TrafficMode::Client,
            ),
            up("m", "request.method", "ALL_METRICS", TrafficMode::Client),
        ])
        .expect("valid")
        .expect("some");
        let req = Request::post("http://reviews:9080/a?b")
            .header("x-user", "say \"hi\"")
            .body(())
            .expect("request");
        let got = u.start(true, &req).expect("client");
        let values: Vec<&str> = got.values.iter().map(|v| &**v).collect();
        assert_eq!(values, ["reviews:9080", "say \\\"hi\\\"", "9080", "POST"]);
        assert!(u.start(false, &req).is_none(), "no server upserts");
        let bare = Request::get("/x").body(()).expect("request");
        let got = u.start(true, &bare).expect("client");
        let values: Vec<&str> = got.values.iter().map(|v| &**v).collect();
        assert_eq!(values, ["unknown", "unknown", "80", "GET"]);

        for (bad, why) in [
            (
                up("a-b", "'x'", "ALL_METRICS", TrafficMode::Client),
                "label name",
            ),
            (
                up("a", "response.code", "ALL_METRICS", TrafficMode::Client),
                "not known",
            ),
        ] {
            let e = RtUpserts::compile(&[bad]).expect_err("invalid");
            assert!(e.contains(why), "{e}");
        }
    }
}
