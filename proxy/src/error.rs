//! The proxy's errors: config rejections (sent back to the control plane as NACKs)
//! and failures to start.

use std::net::SocketAddr;

/// Why a pushed config was rejected; the message is what the NACK carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The discovery type is none of `listeners`, `clusters`, `endpoints`, `routes`.
    #[error("unknown config type {0:?}: expected one of listeners, clusters, endpoints, routes")]
    UnknownType(String),
    /// The payload is not the JSON this type expects.
    #[error("invalid {type_url} payload: {message}")]
    Decode {
        /// The discovery type.
        type_url: String,
        /// The JSON decoder's message.
        message: String,
    },
    /// A delta push that this proxy cannot apply to the config it runs.
    #[error("cannot apply the {type_url} delta: {message}")]
    Delta {
        /// The discovery type.
        type_url: String,
        /// Why.
        message: String,
    },
    /// The payload decodes but the proxy cannot run it; one line per problem.
    #[error("invalid {type_url} config: {}", problems.join("; "))]
    Invalid {
        /// The discovery type.
        type_url: String,
        /// Every problem found.
        problems: Vec<String>,
    },
}

/// Why the proxy could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A listener could not be bound.
    #[error("cannot bind the {listener} listener on {addr}: {source}")]
    Bind {
        /// Which listener (`outbound`, `inbound`, `admin`).
        listener: &'static str,
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The admin listener must only be reachable from the local host.
    #[error("the admin listener must bind a loopback address, got {0}")]
    AdminNotLoopback(SocketAddr),
}
