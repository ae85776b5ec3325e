//! Keeps a Prometheus `file_sd` targets file of every connected proxy's admin
//! `/stats/prometheus` and the control plane's own `/metrics`, rewritten
//! (atomically) as proxies come and go, so a Prometheus server pointed at it
//! scrapes the whole mesh (`meshctl install --set addons.prometheus=true`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::state::Shared;
use crate::registry::Workload;

/// Changes closer together than this are written once.
const QUIET: Duration = Duration::from_millis(300);

/// One `file_sd` target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

/// The target groups for the control plane at `admin` and `workloads`.
pub fn groups(admin: &str, workloads: &[Workload]) -> Vec<TargetGroup> {
    let mut out = vec![TargetGroup {
        targets: vec![admin.to_owned()],
        labels: BTreeMap::from([
            ("job".into(), "meshctl-control-plane".into()),
            ("__metrics_path__".into(), "/metrics".into()),
        ]),
    }];
    out.extend(workloads.iter().map(|w| {
        let mut labels = BTreeMap::from([
            ("job".to_owned(), "meshctl-proxies".to_owned()),
            ("__metrics_path__".into(), "/stats/prometheus".into()),
            ("proxy_id".into(), w.proxy_id.clone()),
            ("namespace".into(), w.namespace.clone()),
            ("service".into(), w.service.clone()),
        ]);
        for key in ["app", "version"] {
            if let Some(v) = w.labels.get(key) {
                labels.insert(key.into(), v.clone());
            }
        }
        TargetGroup {
            targets: vec![w.admin_address.clone()],
            labels,
        }
    }));
    out
}

/// Writes `groups` to `path` through a temporary file and a rename, so
/// Prometheus never reads half a file.
pub fn write(path: &Path, groups: &[TargetGroup]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let text = serde_json::to_vec_pretty(groups).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Rewrites the file at start and after every registry change, until the
/// registry is dropped.
pub async fn run(shared: Arc<Shared>, path: PathBuf, admin: String) {
    let mut changes = shared.registry_changes();
    loop {
        if let Err(e) = write(&path, &groups(&admin, &shared.workloads())) {
            tracing::warn!(path = %path.display(), error = %e, "write the Prometheus targets file");
        }
        if changes.changed().await.is_err() {
            return;
        }
        tokio::time::sleep(QUIET).await;
        changes.borrow_and_update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(id: &str, admin: &str) -> Workload {
        Workload {
            proxy_id: id.into(),
            service: "reviews".into(),
            namespace: "default".into(),
            service_account: "default".into(),
            labels: BTreeMap::from([
                ("app".into(), "reviews".into()),
                ("version".into(), "v2".into()),
            ]),
            inbound_address: "127.0.0.1:1".into(),
            outbound_address: "127.0.0.1:2".into(),
            admin_address: admin.into(),
            ports: Vec::new(),
            proxy_version: "0.1.0".into(),
            connected_unix: 0,
            app_ready: true,
        }
    }

    #[test]
    fn one_group_per_proxy_plus_the_control_plane() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prometheus/targets.json");
        let g = groups(
            "127.0.0.1:15014",
            &[workload("reviews-v2-1.default", "127.0.0.1:15000")],
        );
        write(&path, &g).expect("write");
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert_eq!(v[0]["targets"][0], "127.0.0.1:15014");
        assert_eq!(v[0]["labels"]["__metrics_path__"], "/metrics");
        assert_eq!(v[1]["targets"][0], "127.0.0.1:15000");
        assert_eq!(v[1]["labels"]["__metrics_path__"], "/stats/prometheus");
        assert_eq!(v[1]["labels"]["proxy_id"], "reviews-v2-1.default");
        assert_eq!(v[1]["labels"]["version"], "v2");
        assert!(!dir.path().join("prometheus/targets.json.tmp").exists());
    }
}
