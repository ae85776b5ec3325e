//! Envoy's response flags and the listener kinds that metrics are kept by.

/// Why a request did not get a normal upstream answer (Envoy's response flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Nothing unusual (`-`).
    None,
    /// No virtual host or route matched (`NR`).
    NoRoute,
    /// The route names a cluster the proxy does not know (`NC`).
    NoCluster,
    /// The cluster has no endpoints (`UH`).
    NoHealthyUpstream,
    /// The upstream connection could not be made (`UF`).
    UpstreamConnectFailure,
    /// The route timeout expired (`UT`).
    UpstreamTimeout,
    /// The upstream connection failed mid-exchange (`UC`).
    UpstreamConnectionTermination,
    /// A connection pool limit overflowed (`UO`).
    UpstreamOverflow,
    /// Retries ran out and the last try's answer was passed on (`URX`).
    UpstreamRetryLimitExceeded,
    /// Fault injection delayed the request (`DI`).
    DelayInjected,
    /// Fault injection answered the request (`FI`).
    FaultInjected,
}

impl Flag {
    /// Envoy's short name.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::None => "-",
            Flag::NoRoute => "NR",
            Flag::NoCluster => "NC",
            Flag::NoHealthyUpstream => "UH",
            Flag::UpstreamConnectFailure => "UF",
            Flag::UpstreamTimeout => "UT",
            Flag::UpstreamConnectionTermination => "UC",
            Flag::UpstreamOverflow => "UO",
            Flag::UpstreamRetryLimitExceeded => "URX",
            Flag::DelayInjected => "DI",
            Flag::FaultInjected => "FI",
        }
    }
}

/// Which listener served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Side {
    Outbound = 0,
    Inbound = 1,
    Admin = 2,
}

impl Side {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Side::Outbound => "outbound",
            Side::Inbound => "inbound",
            Side::Admin => "admin",
        }
    }
}

/// The sidecar's metrics (see [`crate::telemetry`]).
pub(crate) use crate::telemetry::Metrics as Stats;
