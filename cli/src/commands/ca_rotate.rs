//! `meshctl ca rotate`: drive the control plane's root rotation phase by phase
//! (`POST /v1/ca/rotate`), waiting for every proxy to reach each phase and
//! showing how many have. The phase lives in the control plane's mesh home, so
//! running the command again resumes a rotation that a crash interrupted.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, bail};
use mesh_api::proxy::{CaStatus, RotationStatus};
use mesh_control_plane::ca::Phase;
use mesh_control_plane::ca::rotation::RotateRequest;

use crate::cli::{CaRotateArgs, GlobalArgs, RotatePhase};
use crate::commands::mesh;
use crate::output::Output;

/// How often the CLI asks the control plane how far a phase got.
pub const POLL: Duration = Duration::from_millis(200);

fn phase_of(p: RotatePhase) -> Phase {
    match p {
        RotatePhase::AddRoot => Phase::AddRoot,
        RotatePhase::Reissue => Phase::Reissue,
        RotatePhase::RemoveOld => Phase::RemoveOld,
        RotatePhase::Complete => Phase::Complete,
    }
}

/// The phases still to run when the rotation is at `current` (`None`: none in
/// progress), and whether `current` itself must first reach every proxy.
pub fn plan(current: Option<Phase>) -> (Option<Phase>, Vec<Phase>) {
    let after = |p: Phase| Phase::ALL.into_iter().filter(move |q| *q > p).collect();
    match current {
        None => (None, Phase::ALL.to_vec()),
        Some(p) => (Some(p), after(p)),
    }
}

/// Why waiting for a phase failed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error(
        "timed out after {}s in phase {phase}: {} of {total} proxies still lack {}: {}. Look at them with `meshctl proxy-config secret <proxy>` (its last error), then run `meshctl ca rotate` again to resume",
        timeout.as_secs(), laggards.len(), phase.goal(), laggards.join(", ")
    )]
    Timeout {
        phase: Phase,
        timeout: Duration,
        total: usize,
        laggards: Vec<String>,
    },
    #[error("the rotation is no longer in phase {0} (another `meshctl ca rotate` moved it?)")]
    Moved(Phase),
    #[error("{0}")]
    Fetch(String),
}

/// Poll `fetch` until every proxy has reached `phase`, calling `progress` when
/// the count changes; give up after `timeout` (naming the laggards).
pub async fn wait_for_phase<F, Fut>(
    phase: Phase,
    timeout: Duration,
    mut fetch: F,
    mut progress: impl FnMut(&RotationStatus),
) -> Result<(), WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<RotationStatus>, String>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut shown: Option<(usize, usize)> = None;
    loop {
        let Some(r) = fetch().await.map_err(WaitError::Fetch)? else {
            return Err(WaitError::Moved(phase));
        };
        if r.phase != phase.as_str() {
            return Err(WaitError::Moved(phase));
        }
        if shown != Some((r.done, r.proxies)) {
            shown = Some((r.done, r.proxies));
            progress(&r);
        }
        if r.laggards.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(WaitError::Timeout {
                phase,
                timeout,
                total: r.proxies,
                laggards: r.laggards,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

fn read(path: &std::path::Path, flag: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("{flag} {}: cannot read it", path.display()))
}

pub fn run(args: &CaRotateArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    let status: CaStatus = rt.block_on(admin.get("/v1/ca"))?;
    let current = status
        .rotation
        .as_ref()
        .and_then(|r| Phase::parse(&r.phase));
    let (resume, steps) = match args.phase {
        Some(p) => (None, vec![phase_of(p)]),
        None => plan(current),
    };
    if args.cert.is_some() && current.is_some() && args.phase.is_none() {
        bail!(
            "a rotation is already in phase {}: run `meshctl ca rotate` without --cert to continue it",
            current.map_or("?", Phase::as_str)
        );
    }
    let mut new_ca = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => Some((
            read(c, "--cert")?,
            read(k, "--key")?,
            args.chain
                .as_deref()
                .map(|p| read(p, "--chain"))
                .transpose()?,
        )),
        _ => None,
    };
    let started = std::time::Instant::now();
    let timeout = Duration::from_secs(args.timeout);
    let wait = |phase: Phase| -> anyhow::Result<()> {
        let index = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0) + 1;
        rt.block_on(wait_for_phase(
            phase,
            timeout,
            || async {
                admin
                    .get::<CaStatus>("/v1/ca")
                    .await
                    .map(|s| s.rotation)
                    .map_err(|e| e.to_string())
            },
            |r| {
                if !out.is_data() {
                    let _ = out.line(&format!(
                        "phase {index}/3 {phase}: {}/{} proxies have {}",
                        r.done,
                        r.proxies,
                        phase.goal()
                    ));
                }
            },
        ))?;
        Ok(())
    };
    if let Some(p) = resume {
        if !out.is_data() {
            out.line(&format!("resuming the rotation in phase {p}"))?;
        }
        wait(p)?;
    }
    for phase in steps {
        let (cert_pem, key_pem, chain_pem) = match (phase, new_ca.take()) {
            (Phase::AddRoot, Some((c, k, ch))) => (Some(c), Some(k), ch),
            _ => (None, None, None),
        };
        let after: CaStatus = rt.block_on(admin.post(
            "/v1/ca/rotate",
            &RotateRequest {
                phase: phase.as_str().into(),
                cert_pem,
                key_pem,
                chain_pem,
            },
        ))?;
        if phase == Phase::AddRoot
            && !out.is_data()
            && let Some(r) = &after.rotation
        {
            let fp = |c: &[mesh_api::proxy::CertInfo]| {
                c.iter()
                    .map(|c| super::ca::short(&c.fingerprint_sha256))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.line(&format!(
                "rotating root {} to {}",
                fp(&r.old_roots),
                fp(&r.new_roots)
            ))?;
        }
        if phase == Phase::Complete {
            continue;
        }
        wait(phase)?;
    }
    let status: CaStatus = rt.block_on(admin.get("/v1/ca"))?;
    if out.is_data() {
        return Ok(out.data(&status)?);
    }
    let secs = started.elapsed().as_secs_f64();
    match &status.rotation {
        Some(r) => out.line(&format!(
            "phase {} reached by all {} proxies in {secs:.1}s",
            r.phase, r.proxies
        ))?,
        None => out.line(&format!(
            "rotation complete in {secs:.1}s: {} proxies trust only the new root {}",
            status.proxies.iter().filter(|p| p.connected).count(),
            status
                .roots
                .iter()
                .map(|c| super::ca::short(&c.fingerprint_sha256))
                .collect::<Vec<_>>()
                .join(", ")
        ))?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(phase: &str, done: usize, laggards: &[&str]) -> RotationStatus {
        RotationStatus {
            phase: phase.into(),
            started_unix: 0,
            old_roots: Vec::new(),
            new_roots: Vec::new(),
            proxies: done + laggards.len(),
            done,
            laggards: laggards.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn plan_resumes_from_the_recorded_phase() {
        assert_eq!(plan(None).1, Phase::ALL.to_vec());
        assert_eq!(
            plan(Some(Phase::Reissue)),
            (
                Some(Phase::Reissue),
                vec![Phase::RemoveOld, Phase::Complete]
            )
        );
        assert_eq!(plan(Some(Phase::RemoveOld)).1, vec![Phase::Complete]);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_until_every_proxy_is_there_and_shows_each_count() {
        let answers = std::sync::Mutex::new(vec![
            at("reissue", 3, &[]),
            at("reissue", 2, &["b"]),
            at("reissue", 1, &["a", "b"]),
            at("reissue", 1, &["a", "b"]),
        ]);
        let mut shown = Vec::new();
        let t0 = tokio::time::Instant::now();
        wait_for_phase(
            Phase::Reissue,
            Duration::from_secs(60),
            || {
                let next = answers.lock().expect("lock").pop();
                async move { Ok(next) }
            },
            |r| shown.push(r.done),
        )
        .await
        .expect("reached");
        assert_eq!(shown, [1, 2, 3], "one line per change of the count");
        assert_eq!(t0.elapsed(), POLL * 3, "polled four times");
    }

    #[tokio::test(start_paused = true)]
    async fn a_laggard_times_out_with_its_name() {
        let t0 = tokio::time::Instant::now();
        let err = wait_for_phase(
            Phase::AddRoot,
            Duration::from_secs(10),
            || async { Ok(Some(at("add-root", 2, &["ratings-v1-9f2a.default"]))) },
            |_| {},
        )
        .await
        .expect_err("times out");
        let msg = err.to_string();
        assert!(
            msg.contains("ratings-v1-9f2a.default")
                && msg.contains("1 of 3")
                && msg.contains("a trust bundle with the new root")
                && msg.contains("meshctl ca rotate"),
            "{msg}"
        );
        let waited = t0.elapsed();
        assert!(
            (Duration::from_secs(10)..Duration::from_secs(10) + POLL * 2).contains(&waited),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rotation_moved_elsewhere_stops_the_wait() {
        let err = wait_for_phase(
            Phase::AddRoot,
            Duration::from_secs(10),
            || async { Ok(Some(at("reissue", 1, &[]))) },
            |_| {},
        )
        .await
        .expect_err("moved");
        assert!(matches!(err, WaitError::Moved(Phase::AddRoot)), "{err}");
    }
}
