//! Istio's security resources (`security.istio.io`): PeerAuthentication,
//! AuthorizationPolicy, RequestAuthentication.

mod authorization_policy;
mod peer_authentication;
mod policy;
mod request_authentication;

pub use authorization_policy::*;
pub use peer_authentication::*;
pub use policy::PolicyTargetReference;
pub(crate) use policy::{reject_dry_run, validate_targeting};
pub use request_authentication::*;
