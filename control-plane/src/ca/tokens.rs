//! Bootstrap tokens (local mode): how the CA knows a proxy is who it claims.
//!
//! `meshctl run` creates one per workload before it starts the sidecar: a random
//! secret in `<home>/tokens/<proxy-id>.token` (mode 0600, in a 0700 folder), whose
//! path the sidecar gets, and beside it `<proxy-id>.json`, the binding the CA
//! trusts: namespace, service account and the SHA-256 of the secret. A CSR
//! carrying the proxy id and the secret gets the identity of the binding, whatever
//! else the proxy claims; a missing or wrong secret gets nothing. Tokens are never
//! logged and never leave the mesh home except to the sidecar's memory.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::WorkloadIdentity;
use super::material::write_private;

/// The folder of the tokens in the mesh home.
pub const TOKENS_DIR: &str = "tokens";

/// Why a caller was refused. The messages never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no bootstrap token presented: start the sidecar with `meshctl run` (it passes --token-file)"
    )]
    Missing,
    #[error("no bootstrap token was issued for proxy {0:?}")]
    Unknown(String),
    #[error("the bootstrap token does not match the one issued for proxy {0:?}")]
    Mismatch(String),
    #[error("proxy id {0:?} cannot name a token file: use letters, digits, '.', '-' and '_'")]
    BadProxyId(String),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// What the CA trusts about one token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Binding {
    proxy_id: String,
    namespace: String,
    service_account: String,
    /// SHA-256 of the token, hex: the secret itself is only in the `.token` file.
    token_sha256: String,
}

fn check_id(proxy_id: &str) -> Result<(), TokenError> {
    let ok = !proxy_id.is_empty()
        && !proxy_id.starts_with('.')
        && proxy_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(TokenError::BadProxyId(proxy_id.into()))
    }
}

fn digest(token: &str) -> String {
    mesh_api::proxy::hex(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> TokenError {
    TokenError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Create a token for a workload; returns the path of the secret for the sidecar.
pub fn create(
    home: &Path,
    proxy_id: &str,
    namespace: &str,
    service_account: &str,
) -> Result<PathBuf, TokenError> {
    check_id(proxy_id)?;
    let dir = home.join(TOKENS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| file_err(&dir, e))?;
    let mut secret = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
        .map_err(|_| file_err(&dir, "the system's random source failed"))?;
    let token = mesh_api::proxy::hex(&secret);
    let binding = Binding {
        proxy_id: proxy_id.into(),
        namespace: namespace.into(),
        service_account: service_account.into(),
        token_sha256: digest(&token),
    };
    let token_path = dir.join(format!("{proxy_id}.token"));
    let binding_path = dir.join(format!("{proxy_id}.json"));
    let json = serde_json::to_vec_pretty(&binding).map_err(|e| file_err(&binding_path, e))?;
    write_private(&binding_path, &json).map_err(|e| file_err(&binding_path, e))?;
    write_private(&token_path, token.as_bytes()).map_err(|e| file_err(&token_path, e))?;
    Ok(token_path)
}

/// Remove a workload's token (when its sidecar has stopped).
pub fn remove(home: &Path, proxy_id: &str) {
    if check_id(proxy_id).is_ok() {
        let dir = home.join(TOKENS_DIR);
        let _ = std::fs::remove_file(dir.join(format!("{proxy_id}.token")));
        let _ = std::fs::remove_file(dir.join(format!("{proxy_id}.json")));
    }
}

/// The identity a token was created for, without checking any token.
pub fn binding(home: &Path, proxy_id: &str) -> Option<WorkloadIdentity> {
    check_id(proxy_id).ok()?;
    let text = std::fs::read(home.join(TOKENS_DIR).join(format!("{proxy_id}.json"))).ok()?;
    let b: Binding = serde_json::from_slice(&text).ok()?;
    Some(WorkloadIdentity {
        proxy_id: b.proxy_id,
        namespace: b.namespace,
        service_account: b.service_account,
    })
}

/// The identity `token` proves for `proxy_id`, or why it proves nothing.
pub fn verify(home: &Path, proxy_id: &str, token: &str) -> Result<WorkloadIdentity, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Missing);
    }
    check_id(proxy_id)?;
    let path = home.join(TOKENS_DIR).join(format!("{proxy_id}.json"));
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TokenError::Unknown(proxy_id.into()));
        }
        Err(e) => return Err(file_err(&path, e)),
    };
    let binding: Binding = serde_json::from_slice(&text).map_err(|e| file_err(&path, e))?;
    // Comparing digests: equal-length values, and a timing difference reveals
    // nothing about the token itself.
    if binding.proxy_id != proxy_id || binding.token_sha256 != digest(token) {
        return Err(TokenError::Mismatch(proxy_id.into()));
    }
    Ok(WorkloadIdentity {
        proxy_id: binding.proxy_id,
        namespace: binding.namespace,
        service_account: binding.service_account,
    })
}
