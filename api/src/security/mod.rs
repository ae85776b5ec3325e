//! Istio's security resources (`security.istio.io`): PeerAuthentication,
//! AuthorizationPolicy, RequestAuthentication.

mod authorization_policy;
mod peer_authentication;
mod request_authentication;

pub use authorization_policy::*;
pub use peer_authentication::*;
pub use request_authentication::*;
