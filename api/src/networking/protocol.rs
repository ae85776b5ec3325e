//! Istio's `protocol.Parse`: the protocol names a Gateway server or ServiceEntry port
//! may declare, case-insensitively, and what each implies.

/// A port protocol as Istio's `protocol.Instance` classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProtocol {
    Tcp,
    Udp,
    Grpc,
    GrpcWeb,
    Http,
    HttpProxy,
    Http2,
    Https,
    Tls,
    Mongo,
    Redis,
    Mysql,
    /// Empty or not a protocol Istio knows.
    Unsupported,
}

/// The names Istio accepts, for messages.
pub const PORT_PROTOCOL_NAMES: &str =
    "HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, HTTP_PROXY, TCP, TLS, UDP, MONGO, MYSQL, REDIS";

impl PortProtocol {
    /// Parse a protocol name, ignoring case.
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Self::Tcp,
            "udp" => Self::Udp,
            "grpc" => Self::Grpc,
            "grpc-web" => Self::GrpcWeb,
            "http" => Self::Http,
            "http_proxy" => Self::HttpProxy,
            "http2" => Self::Http2,
            "https" => Self::Https,
            "tls" => Self::Tls,
            "mongo" => Self::Mongo,
            "redis" => Self::Redis,
            "mysql" => Self::Mysql,
            _ => Self::Unsupported,
        }
    }

    /// Carried over HTTP (plain text HTTP/1.1, HTTP/2, gRPC).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Self::Http | Self::Http2 | Self::HttpProxy | Self::Grpc | Self::GrpcWeb
        )
    }

    /// Carried over TCP without HTTP awareness.
    pub fn is_tcp(self) -> bool {
        matches!(
            self,
            Self::Tcp | Self::Https | Self::Tls | Self::Mongo | Self::Redis | Self::Mysql
        )
    }

    /// On top of TLS (HTTPS, TLS).
    pub fn is_tls(self) -> bool {
        matches!(self, Self::Https | Self::Tls)
    }
}

#[cfg(test)]
mod tests {
    use super::PortProtocol;

    #[test]
    fn parses_case_insensitively() {
        assert_eq!(PortProtocol::parse("grpc-Web"), PortProtocol::GrpcWeb);
        assert_eq!(PortProtocol::parse("HTTP_PROXY"), PortProtocol::HttpProxy);
        assert_eq!(PortProtocol::parse(""), PortProtocol::Unsupported);
        assert_eq!(PortProtocol::parse("THRIFT"), PortProtocol::Unsupported);
        assert!(PortProtocol::parse("https").is_tls() && PortProtocol::parse("https").is_tcp());
        assert!(PortProtocol::parse("http2").is_http());
    }
}
