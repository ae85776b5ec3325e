//! Root rotation with an overlapping trust bundle (`meshctl ca rotate`), in
//! three phases, each of which must reach every connected proxy before the
//! next may start:
//!
//! 1. `add-root`: a new root (generated, or the user's) joins the trust bundle;
//!    the CA still signs with the old one. Proxies renew and trust both.
//! 2. `reissue`: the CA signs with the new root; proxies renew at once.
//! 3. `remove-old`: the old root leaves the bundle (refused while a proxy still
//!    holds a certificate from it); the new CA becomes the kept CA.
//!
//! The state is kept in `<home>/ca/rotation.json` (atomic writes) and the new
//! CA in `<home>/ca/next/` until `remove-old`, so a control plane that crashes
//! resumes in the recorded phase. `complete` forgets the rotation once every
//! proxy has dropped the old root.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use mesh_api::proxy::{CertInfo, RotationStatus, cert_pem, certs_from_pem};
use serde::{Deserialize, Serialize};
use x509_parser::certificate::X509Certificate;

use super::material::{CA_DIR, write_private};
use super::{Authority, Ca, CaError, CaFiles, CaSettings};

/// The rotation state file in `<home>/ca/`.
pub const ROTATION_FILE: &str = "rotation.json";
/// The new CA's folder in `<home>/ca/` while it is not yet the kept CA.
pub const NEXT_DIR: &str = "next";

/// The body of `POST /v1/ca/rotate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotateRequest {
    /// `add-root`, `reissue`, `remove-old` or `complete`.
    pub phase: String,
    /// The user's new CA certificate (with `add-root`), PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_pem: Option<String>,
    /// Its private key, PKCS#8 PEM. Secret: never logged or echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pem: Option<String>,
    /// Its issuers up to the root, PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_pem: Option<String>,
}

/// A rotation phase (or the step that ends it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The new root is in every trust bundle; the old root still signs.
    AddRoot,
    /// The new root signs; both are trusted.
    Reissue,
    /// Only the new root is trusted.
    RemoveOld,
    /// The rotation is over (not kept: the state file is removed).
    Complete,
}

impl Phase {
    /// The phases in order.
    pub const ALL: [Phase; 4] = [
        Phase::AddRoot,
        Phase::Reissue,
        Phase::RemoveOld,
        Phase::Complete,
    ];

    /// `add-root`, `reissue`, `remove-old`, `complete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::AddRoot => "add-root",
            Phase::Reissue => "reissue",
            Phase::RemoveOld => "remove-old",
            Phase::Complete => "complete",
        }
    }

    /// The phase named `s`.
    pub fn parse(s: &str) -> Option<Phase> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// What every proxy must have for this phase to be reached.
    pub fn goal(self) -> &'static str {
        match self {
            Phase::AddRoot => "a trust bundle with the new root",
            Phase::Reissue => "a certificate from the new root",
            Phase::RemoveOld | Phase::Complete => "a trust bundle without the old root",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `<home>/ca/rotation.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    phase: Phase,
    started_unix: i64,
    /// The roots being rotated out, PEM.
    old_roots_pem: Vec<String>,
    /// The roots being rotated in, PEM.
    new_roots_pem: Vec<String>,
}

/// The rotation in progress, as the authority holds it.
#[derive(Debug)]
pub(crate) struct Rotation {
    record: Record,
    /// The new CA, until `remove-old` makes it the kept one.
    next: Option<CaFiles>,
}

/// Why a rotation step was refused.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error("{0}")]
    Order(String),
    #[error(
        "phase {phase} has not reached every proxy: {} of {total} still need {}: {}; wait for them (or stop them) and run `meshctl ca rotate` again",
        laggards.len(), phase.goal(), laggards.join(", ")
    )]
    Laggards {
        phase: Phase,
        total: usize,
        laggards: Vec<String>,
    },
}

/// What a proxy runs, as it reported it (public parts).
#[derive(Debug, Clone, Default)]
pub struct ProxyCert {
    pub chain_der: Vec<Vec<u8>>,
    pub bundle_der: Vec<Vec<u8>>,
    pub rotations: u64,
    /// The root the chain ends at (found by signature when it was reported,
    /// among every root the CA knows), DER.
    pub root_der: Option<Vec<u8>>,
}

fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .map(|(_, c)| c)
}

/// Which of `roots` the chain ends at (DER), if any.
pub fn chain_root<'a>(chain: &[Vec<u8>], roots: &'a [Vec<u8>]) -> Option<&'a Vec<u8>> {
    let top_der = chain.last()?;
    let top = parse(top_der)?;
    roots.iter().find(|r| {
        *r == top_der
            || parse(r).is_some_and(|root| {
                top.issuer() == root.subject()
                    && top.verify_signature(Some(root.public_key())).is_ok()
            })
    })
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn pems(ders: &[Vec<u8>]) -> Vec<String> {
    ders.iter().map(|d| cert_pem(d)).collect()
}

fn ders(pems: &[String]) -> Vec<Vec<u8>> {
    pems.iter()
        .filter_map(|p| certs_from_pem(p).ok())
        .flatten()
        .collect()
}

fn union(a: &[Vec<u8>], b: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|d| !a.contains(d)).cloned());
    out
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> CaError {
    CaError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn ca_dir(home: &Path) -> PathBuf {
    home.join(CA_DIR)
}

fn read_record(home: &Path) -> Result<Option<Record>, CaError> {
    let path = ca_dir(home).join(ROTATION_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| file_err(&path, format!("not a rotation record: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_err(&path, e)),
    }
}

fn write_record(home: &Path, record: &Record) -> Result<(), CaError> {
    let path = ca_dir(home).join(ROTATION_FILE);
    let text = serde_json::to_vec_pretty(record).map_err(|e| file_err(&path, e))?;
    write_private(&path, &text).map_err(|e| file_err(&path, e))
}

/// Make the new CA the kept one: its files replace `ca/`'s, then `ca/next/`
/// goes. Safe to repeat after a crash (the record says `remove-old` first).
fn promote(home: &Path, next: &CaFiles) -> Result<(), CaError> {
    next.save(home)?;
    let dir = ca_dir(home).join(NEXT_DIR);
    std::fs::remove_dir_all(&dir).or_else(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Ok(())
        } else {
            Err(file_err(&dir, e))
        }
    })
}

/// Finish promoting the new CA if a crash interrupted it (the record says
/// `remove-old` and `ca/next/` is still there). Called before the kept CA is
/// read, so its files are whole again.
pub fn finish_interrupted_promotion(home: &Path) -> Result<(), CaError> {
    let Some(record) = read_record(home)? else {
        return Ok(());
    };
    if record.phase >= Phase::RemoveOld
        && let Some(next) = CaFiles::load_dir(&ca_dir(home).join(NEXT_DIR))?
    {
        promote(home, &next)?;
    }
    Ok(())
}

/// Forget a rotation (the user installs another CA over it).
pub fn abandon(home: &Path) -> Result<(), CaError> {
    for path in [
        ca_dir(home).join(ROTATION_FILE),
        ca_dir(home).join(NEXT_DIR),
    ] {
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(e) = gone
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(file_err(&path, e));
        }
    }
    Ok(())
}

impl Authority {
    /// The CA kept in `home` (a new self-signed root if there is none), in the
    /// rotation phase recorded there.
    pub fn open(home: PathBuf, settings: CaSettings) -> Result<Self, CaError> {
        finish_interrupted_promotion(&home)?;
        let record = read_record(&home)?;
        let next_dir = ca_dir(&home).join(NEXT_DIR);
        let next = CaFiles::load_dir(&next_dir)?;
        let current = CaFiles::ensure(&home, &settings.trust_domain)?;
        let ca = Ca::new(current, settings)?;
        let rotation = match record {
            None => None,
            Some(record) => {
                if record.phase < Phase::RemoveOld && next.is_none() {
                    return Err(file_err(
                        &next_dir,
                        format!(
                            "the rotation record says phase {} but the new CA is missing; restore {} or remove {} to abandon the rotation",
                            record.phase.as_str(),
                            next_dir.display(),
                            ca_dir(&home).join(ROTATION_FILE).display()
                        ),
                    ));
                }
                Some(Rotation { record, next })
            }
        };
        let authority = Self::new(ca, home);
        if let Some(r) = &rotation {
            authority.apply_phase(r)?;
        }
        *authority.rotation_lock() = rotation;
        Ok(authority)
    }

    fn rotation_lock(&self) -> std::sync::MutexGuard<'_, Option<Rotation>> {
        self.rotation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Point the CA at what the phase signs with and trusts.
    fn apply_phase(&self, r: &Rotation) -> Result<(), CaError> {
        let old = ders(&r.record.old_roots_pem);
        let new = ders(&r.record.new_roots_pem);
        let current = CaFiles::load(&self.home)?
            .ok_or_else(|| file_err(&ca_dir(&self.home), "the CA files are gone"))?;
        match (r.record.phase, &r.next) {
            (Phase::AddRoot, Some(_)) => self.ca.switch(&current, union(&old, &new)),
            (Phase::Reissue, Some(next)) => self.ca.switch(next, union(&old, &new)),
            _ => self.ca.switch(&current, current.roots_der.clone()),
        }?;
        self.epoch.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Changes each time the CA's signer or bundle changes (proxies asked to
    /// renew for an older epoch are asked again).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// The phase of the rotation in progress, if any.
    pub fn rotation_phase(&self) -> Option<Phase> {
        self.rotation_lock().as_ref().map(|r| r.record.phase)
    }

    /// Whether a proxy's certificate comes from the CA's signing root and its
    /// trust bundle is the CA's.
    pub fn is_current(&self, cert: &ProxyCert) -> bool {
        let bundle = self.ca.bundle_der();
        let signing_root = self.ca.signing_root_der();
        let same_bundle = cert.bundle_der.len() == bundle.len()
            && bundle.iter().all(|b| cert.bundle_der.contains(b));
        if !same_bundle {
            return false;
        }
        match &cert.root_der {
            Some(root) => *root == signing_root,
            None => chain_root(&cert.chain_der, &bundle) == Some(&signing_root),
        }
    }

    /// The root a proxy's chain ends at (DER), among every root the CA knows
    /// (the bundle and a rotation's old and new roots).
    pub fn root_of(&self, chain: &[Vec<u8>]) -> Option<Vec<u8>> {
        let mut roots = self.ca.bundle_der();
        if let Some(r) = self.rotation_lock().as_ref() {
            roots = union(&roots, &ders(&r.record.old_roots_pem));
            roots = union(&roots, &ders(&r.record.new_roots_pem));
        }
        chain_root(chain, &roots).cloned()
    }

    /// Move the rotation to `target`. `proxies` are the connected proxies with
    /// an identity and what each reported (`None`: nothing yet); every one must
    /// have reached the current phase first. `new_ca` is the user's new root
    /// (or intermediate) for `add-root`; without it a root is generated.
    /// Repeating the current phase is a no-op, so a crashed CLI can resume.
    pub fn rotate(
        &self,
        target: Phase,
        new_ca: Option<CaFiles>,
        proxies: &[(String, Option<ProxyCert>)],
    ) -> Result<(), RotateError> {
        let mut guard = self.rotation_lock();
        let phase = guard.as_ref().map(|r| r.record.phase);
        if new_ca.is_some() && target != Phase::AddRoot {
            return Err(RotateError::Order(
                "a new CA (--cert/--key/--chain) is given with the add-root phase only".into(),
            ));
        }
        if phase == Some(target) {
            if new_ca.is_some() {
                return Err(RotateError::Order(format!(
                    "a rotation is already in phase {}; continue it with `meshctl ca rotate` (without --cert), or wait for it to end before plugging in another CA",
                    target.as_str()
                )));
            }
            return Ok(());
        }
        let expected = match phase {
            None => Phase::AddRoot,
            Some(Phase::AddRoot) => Phase::Reissue,
            Some(Phase::Reissue) => Phase::RemoveOld,
            Some(_) => Phase::Complete,
        };
        if target == Phase::Complete && phase.is_none() {
            return Ok(());
        }
        if target != expected {
            return Err(RotateError::Order(match phase {
                None => format!(
                    "no rotation is in progress: start one with `meshctl ca rotate` (or `--phase add-root`), not {}",
                    target.as_str()
                ),
                Some(p) => format!(
                    "the rotation is in phase {}; the next phase is {}, not {}",
                    p.as_str(),
                    expected.as_str(),
                    target.as_str()
                ),
            }));
        }
        if phase.is_some() {
            let laggards: Vec<String> = proxies
                .iter()
                .filter(|(_, c)| !c.as_ref().is_some_and(|c| self.is_current(c)))
                .map(|(id, _)| id.clone())
                .collect();
            if !laggards.is_empty() {
                return Err(RotateError::Laggards {
                    phase: phase.unwrap_or(Phase::AddRoot),
                    total: proxies.len(),
                    laggards,
                });
            }
        }
        match guard.as_mut() {
            None => {
                let current = CaFiles::load(&self.home)?
                    .ok_or_else(|| file_err(&ca_dir(&self.home), "the CA files are gone"))?;
                let next = match new_ca {
                    Some(n) => n,
                    None => CaFiles::generate(&self.ca.settings().trust_domain)?,
                };
                if next.roots_der.iter().any(|r| current.roots_der.contains(r)) {
                    return Err(RotateError::Order(
                        "the new CA chains to the current root: a rotation needs another root"
                            .into(),
                    ));
                }
                next.save_dir(&ca_dir(&self.home).join(NEXT_DIR))?;
                let record = Record {
                    phase: Phase::AddRoot,
                    started_unix: now_unix(),
                    old_roots_pem: pems(&current.roots_der),
                    new_roots_pem: pems(&next.roots_der),
                };
                write_record(&self.home, &record)?;
                let rotation = Rotation {
                    record,
                    next: Some(next),
                };
                self.apply_phase(&rotation)?;
                *guard = Some(rotation);
            }
            Some(r) if target == Phase::Complete => {
                let path = ca_dir(&self.home).join(ROTATION_FILE);
                std::fs::remove_file(&path).map_err(|e| file_err(&path, e))?;
                tracing::info!(started = r.record.started_unix, "CA rotation complete");
                *guard = None;
            }
            Some(r) => {
                r.record.phase = target;
                write_record(&self.home, &r.record)?;
                if target == Phase::RemoveOld
                    && let Some(next) = r.next.take()
                {
                    promote(&self.home, &next)?;
                }
                self.apply_phase(r)?;
            }
        }
        tracing::info!(phase = target.as_str(), "CA rotation phase");
        Ok(())
    }

    /// The rotation for `ca status`: phase, roots and which proxies lag.
    pub fn rotation_status(
        &self,
        proxies: &[(String, Option<ProxyCert>)],
    ) -> Option<RotationStatus> {
        let guard = self.rotation_lock();
        let r = guard.as_ref()?;
        let describe = |pems: &[String]| {
            ders(pems)
                .iter()
                .filter_map(|d| CertInfo::from_der(d).ok())
                .collect::<Vec<_>>()
        };
        let laggards: Vec<String> = proxies
            .iter()
            .filter(|(_, c)| !c.as_ref().is_some_and(|c| self.is_current(c)))
            .map(|(id, _)| id.clone())
            .collect();
        Some(RotationStatus {
            phase: r.record.phase.as_str().into(),
            started_unix: r.record.started_unix,
            old_roots: describe(&r.record.old_roots_pem),
            new_roots: describe(&r.record.new_roots_pem),
            proxies: proxies.len(),
            done: proxies.len() - laggards.len(),
            laggards,
        })
    }
}
