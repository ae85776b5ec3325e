//! The part of Istio's MeshConfig the control plane compiles into proxies'
//! telemetry: access logging (`accessLogFile`, `accessLogEncoding`), the default
//! trace sampling (`defaultConfig.tracing.sampling`), the tracing providers
//! (`extensionProviders[].opentelemetry`, `defaultProviders.tracing`), and a
//! local-mode shortcut for one OTLP collector (`tracing.otlpEndpoint`).
//!
//! Set at install with Istio's keys (`--set meshConfig.accessLogFile=/dev/stdout`);
//! [`MeshConfig::set`] applies one such key.

use serde::{Deserialize, Serialize};

/// Istio's default trace sampling percentage (`defaultConfig.tracing.sampling`).
pub const DEFAULT_SAMPLING: f64 = 1.0;

/// The name the `tracing.otlpEndpoint` shortcut gives its provider.
pub const OTLP_SHORTCUT_PROVIDER: &str = "otel";

/// Mesh-wide telemetry settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshConfig {
    /// Where proxies write access logs (a path, or `/dev/stdout`); empty: off.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_log_file: String,
    /// `TEXT` (Envoy's default format) or `JSON`.
    #[serde(default)]
    pub access_log_encoding: AccessLogEncoding,
    /// Proxy defaults (`defaultConfig.tracing.sampling`).
    #[serde(default, skip_serializing_if = "DefaultConfig::is_empty")]
    pub default_config: DefaultConfig,
    /// Named telemetry providers that Telemetry resources refer to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_providers: Vec<ExtensionProvider>,
    /// The providers used when a Telemetry resource names none.
    #[serde(default, skip_serializing_if = "DefaultProviders::is_empty")]
    pub default_providers: DefaultProviders,
}

/// How access-log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessLogEncoding {
    /// Envoy's default text format.
    #[default]
    Text,
    /// One JSON object per line, with Istio's keys.
    Json,
}

/// `meshConfig.defaultConfig`: what every proxy starts with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultConfig {
    /// `defaultConfig.tracing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<DefaultTracing>,
}

impl DefaultConfig {
    fn is_empty(&self) -> bool {
        self.tracing.is_none()
    }
}

/// `defaultConfig.tracing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultTracing {
    /// The percentage of requests sampled (0-100); Istio's default is 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<f64>,
}

/// `meshConfig.extensionProviders[]`: a named provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionProvider {
    /// The name Telemetry resources use.
    pub name: String,
    /// An OpenTelemetry (OTLP) collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opentelemetry: Option<OpenTelemetryProvider>,
}

/// Istio's `OpenTelemetryTracingProvider`: OTLP/gRPC to `service:port`, or
/// OTLP/HTTP (protobuf) when `http` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenTelemetryProvider {
    /// The collector's host (`otel-collector.observability.svc.cluster.local`,
    /// `127.0.0.1` locally).
    pub service: String,
    /// Its port (4317 for gRPC, 4318 for HTTP by convention).
    pub port: u16,
    /// Export with OTLP/HTTP instead of gRPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<OtlpHttp>,
}

/// OTLP/HTTP settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtlpHttp {
    /// The request path; `/v1/traces` when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
}

/// `meshConfig.defaultProviders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultProviders {
    /// The tracing providers used when a Telemetry names none (the first is used).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracing: Vec<String>,
}

impl DefaultProviders {
    fn is_empty(&self) -> bool {
        self.tracing.is_empty()
    }
}

/// The keys [`MeshConfig::set`] takes (after `meshConfig.`).
pub const SETTABLE: &str = "accessLogFile, accessLogEncoding, defaultConfig.tracing.sampling, \
extensionProviders[N].name, extensionProviders[N].opentelemetry.service, \
extensionProviders[N].opentelemetry.port, extensionProviders[N].opentelemetry.http.path, \
defaultProviders.tracing, tracing.otlpEndpoint";

impl MeshConfig {
    /// The default sampling percentage.
    pub fn sampling(&self) -> f64 {
        self.default_config
            .tracing
            .as_ref()
            .and_then(|t| t.sampling)
            .unwrap_or(DEFAULT_SAMPLING)
    }

    /// The provider named `name`.
    pub fn provider(&self, name: &str) -> Option<&ExtensionProvider> {
        self.extension_providers.iter().find(|p| p.name == name)
    }

    /// Applies one `--set meshConfig.KEY=VALUE` (`key` without the
    /// `meshConfig.` prefix); the error says what is valid.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "accessLogFile" => self.access_log_file = value.to_owned(),
            "accessLogEncoding" => {
                self.access_log_encoding = match value {
                    "TEXT" => AccessLogEncoding::Text,
                    "JSON" => AccessLogEncoding::Json,
                    _ => return Err(format!("{value}: one of TEXT, JSON")),
                }
            }
            "defaultConfig.tracing.sampling" => {
                let p: f64 = value
                    .parse()
                    .ok()
                    .filter(|p: &f64| (0.0..=100.0).contains(p))
                    .ok_or_else(|| format!("{value}: a percentage from 0 to 100"))?;
                self.default_config.tracing = Some(DefaultTracing { sampling: Some(p) });
            }
            "defaultProviders.tracing" => {
                self.default_providers.tracing =
                    value.split(',').map(|s| s.trim().to_owned()).collect();
            }
            "tracing.otlpEndpoint" => {
                let provider = parse_otlp_endpoint(value)?;
                self.extension_providers
                    .retain(|p| p.name != OTLP_SHORTCUT_PROVIDER);
                self.extension_providers.push(ExtensionProvider {
                    name: OTLP_SHORTCUT_PROVIDER.into(),
                    opentelemetry: Some(provider),
                });
                self.default_providers.tracing = vec![OTLP_SHORTCUT_PROVIDER.into()];
            }
            _ => return self.set_provider(key, value),
        }
        Ok(())
    }

    fn set_provider(&mut self, key: &str, value: &str) -> Result<(), String> {
        let unknown = || format!("unknown setting; known: {SETTABLE}");
        let rest = key
            .strip_prefix("extensionProviders[")
            .ok_or_else(unknown)?;
        let (index, field) = rest.split_once("].").ok_or_else(unknown)?;
        let index: usize = index.parse().map_err(|_| unknown())?;
        if index > self.extension_providers.len() {
            return Err(format!(
                "extensionProviders[{index}]: set extensionProviders[{}] first",
                self.extension_providers.len()
            ));
        }
        if index == self.extension_providers.len() {
            self.extension_providers.push(ExtensionProvider::default());
        }
        let p = &mut self.extension_providers[index];
        let otel = || OpenTelemetryProvider::default();
        match field {
            "name" => p.name = value.to_owned(),
            "opentelemetry.service" => {
                p.opentelemetry.get_or_insert_with(otel).service = value.into()
            }
            "opentelemetry.port" => {
                p.opentelemetry.get_or_insert_with(otel).port = value
                    .parse()
                    .map_err(|_| format!("{value}: a port number (1-65535)"))?;
            }
            "opentelemetry.http.path" => {
                p.opentelemetry.get_or_insert_with(otel).http = Some(OtlpHttp {
                    path: value.to_owned(),
                });
            }
            _ => return Err(unknown()),
        }
        Ok(())
    }
}

/// `http://HOST:PORT` (OTLP/gRPC) or `http://HOST:PORT/v1/traces` (OTLP/HTTP: a
/// path means HTTP) as an OpenTelemetry provider.
pub fn parse_otlp_endpoint(value: &str) -> Result<OpenTelemetryProvider, String> {
    let bad = || {
        format!(
            "{value}: expected http://HOST:PORT (OTLP/gRPC) or http://HOST:PORT/v1/traces (OTLP/HTTP)"
        )
    };
    let rest = value.strip_prefix("http://").ok_or_else(bad)?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(OpenTelemetryProvider {
        service: host.trim_matches(['[', ']']).to_owned(),
        port,
        http: (!path.is_empty() && path != "/").then(|| OtlpHttp {
            path: path.to_owned(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_istio_keys() {
        let mut m = MeshConfig::default();
        assert_eq!(m.sampling(), 1.0);
        m.set("accessLogFile", "/dev/stdout")
            .expect("as set up in this test");
        m.set("accessLogEncoding", "JSON")
            .expect("as set up in this test");
        m.set("defaultConfig.tracing.sampling", "100")
            .expect("as set up in this test");
        m.set("extensionProviders[0].name", "otel-tracing")
            .expect("as set up in this test");
        m.set("extensionProviders[0].opentelemetry.service", "collector")
            .expect("as set up in this test");
        m.set("extensionProviders[0].opentelemetry.port", "4317")
            .expect("as set up in this test");
        assert_eq!(m.access_log_encoding, AccessLogEncoding::Json);
        assert_eq!(m.sampling(), 100.0);
        let p = m.provider("otel-tracing").expect("as set up in this test");
        assert_eq!(
            p.opentelemetry
                .as_ref()
                .expect("as set up in this test")
                .port,
            4317
        );
        assert!(
            m.set("accessLogEncoding", "XML")
                .expect_err("fails in this test")
                .contains("TEXT, JSON")
        );
        assert!(m.set("defaultConfig.tracing.sampling", "101").is_err());
        assert!(m.set("extensionProviders[5].name", "x").is_err());
        assert!(
            m.set("nope", "x")
                .expect_err("fails in this test")
                .contains("known:")
        );
    }

    #[test]
    fn otlp_endpoint_shortcut() {
        let mut m = MeshConfig::default();
        m.set("tracing.otlpEndpoint", "http://127.0.0.1:4317")
            .expect("as set up in this test");
        assert_eq!(m.default_providers.tracing, ["otel"]);
        let p = m
            .provider("otel")
            .expect("as set up in this test")
            .opentelemetry
            .clone()
            .expect("as set up in this test");
        assert_eq!(
            (p.service.as_str(), p.port, p.http),
            ("127.0.0.1", 4317, None)
        );
        let p =
            parse_otlp_endpoint("http://localhost:4318/v1/traces").expect("as set up in this test");
        assert_eq!(p.http.expect("as set up in this test").path, "/v1/traces");
        assert!(parse_otlp_endpoint("127.0.0.1:4317").is_err());
        assert!(parse_otlp_endpoint("http://host").is_err());
    }
}
