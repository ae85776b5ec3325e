//! Lock-free counters for the admin `/stats/prometheus` endpoint.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Why a request did not get a normal upstream answer (Envoy's response flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    const ALL: [Flag; 11] = [
        Flag::None,
        Flag::NoRoute,
        Flag::NoCluster,
        Flag::NoHealthyUpstream,
        Flag::UpstreamConnectFailure,
        Flag::UpstreamTimeout,
        Flag::UpstreamConnectionTermination,
        Flag::UpstreamOverflow,
        Flag::UpstreamRetryLimitExceeded,
        Flag::DelayInjected,
        Flag::FaultInjected,
    ];

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

    fn index(self) -> usize {
        self as usize
    }
}

/// Which listener served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Outbound = 0,
    Inbound = 1,
    Admin = 2,
}

impl Side {
    const ALL: [Side; 3] = [Side::Outbound, Side::Inbound, Side::Admin];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Side::Outbound => "outbound",
            Side::Inbound => "inbound",
            Side::Admin => "admin",
        }
    }
}

const CODES: usize = 500; // 100..=599
const FLAGS: usize = Flag::ALL.len();

/// Request counts by listener, status code and flag; connection gauges.
#[derive(Debug)]
pub(crate) struct Stats {
    requests: Box<[AtomicU64]>,
    active: [AtomicI64; 3],
    total_conns: [AtomicU64; 3],
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            requests: (0..2 * FLAGS * CODES).map(|_| AtomicU64::new(0)).collect(),
            active: Default::default(),
            total_conns: Default::default(),
        }
    }
}

impl Stats {
    pub(crate) fn request(&self, side: Side, code: u16, flag: Flag) {
        let side = side as usize;
        if side > 1 || !(100..600).contains(&code) {
            return;
        }
        let i = (side * FLAGS + flag.index()) * CODES + usize::from(code - 100);
        if let Some(c) = self.requests.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn conn_open(&self, side: Side) {
        self.active[side as usize].fetch_add(1, Ordering::Relaxed);
        self.total_conns[side as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn conn_close(&self, side: Side) {
        self.active[side as usize].fetch_sub(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition of the counters, plus config push counts.
    pub(crate) fn render(&self, config: &[(&'static str, crate::TypeStatus)]) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP meshctl_requests_total HTTP requests by listener, response code and response flag.\n# TYPE meshctl_requests_total counter\n");
        for side in &Side::ALL[..2] {
            for flag in Flag::ALL {
                for code in 0..CODES {
                    let i = ((*side as usize) * FLAGS + flag.index()) * CODES + code;
                    let n = self
                        .requests
                        .get(i)
                        .map_or(0, |c| c.load(Ordering::Relaxed));
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "meshctl_requests_total{{listener=\"{}\",code=\"{}\",flag=\"{}\"}} {n}",
                            side.as_str(),
                            code + 100,
                            flag.as_str()
                        );
                    }
                }
            }
        }
        out.push_str("# HELP meshctl_active_connections Open downstream connections by listener.\n# TYPE meshctl_active_connections gauge\n");
        for side in Side::ALL {
            let _ = writeln!(
                out,
                "meshctl_active_connections{{listener=\"{}\"}} {}",
                side.as_str(),
                self.active[side as usize].load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP meshctl_connections_total Accepted downstream connections by listener.\n# TYPE meshctl_connections_total counter\n");
        for side in Side::ALL {
            let _ = writeln!(
                out,
                "meshctl_connections_total{{listener=\"{}\"}} {}",
                side.as_str(),
                self.total_conns[side as usize].load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP meshctl_config_applies_total Accepted config pushes by type.\n# TYPE meshctl_config_applies_total counter\n");
        for (t, s) in config {
            let _ = writeln!(
                out,
                "meshctl_config_applies_total{{type=\"{t}\"}} {}",
                s.applies
            );
        }
        out.push_str("# HELP meshctl_config_rejects_total Rejected config pushes by type.\n# TYPE meshctl_config_rejects_total counter\n");
        for (t, s) in config {
            let _ = writeln!(
                out,
                "meshctl_config_rejects_total{{type=\"{t}\"}} {}",
                s.rejects
            );
        }
        out
    }
}
