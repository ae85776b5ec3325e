use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mesh_api::Resource;

use super::*;

fn cm(name: &str, value: &str) -> Resource {
    let json = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"k": value},
    });
    Resource::from_json(json).expect("valid ConfigMap")
}

fn key(name: &str) -> ObjectKey {
    ObjectKey {
        kind: Kind::ConfigMap,
        namespace: "default".into(),
        name: name.into(),
    }
}

#[test]
fn apply_reports_kubectl_outcomes_and_counts_revisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store.redb")).expect("open");
    assert_eq!(store.revision(), 0);

    let (rev, changes) = store.apply(&[cm("a", "1"), cm("b", "1")]).expect("apply");
    assert_eq!(rev, 1);
    assert_eq!(
        changes.iter().map(|c| c.1).collect::<Vec<_>>(),
        [Change::Created, Change::Created]
    );

    let (rev, changes) = store.apply(&[cm("a", "1"), cm("b", "2")]).expect("apply");
    assert_eq!(rev, 2);
    assert_eq!(
        changes.iter().map(|c| c.1).collect::<Vec<_>>(),
        [Change::Unchanged, Change::Configured]
    );

    // Nothing changed: no new revision.
    let (rev, changes) = store.apply(&[cm("a", "1")]).expect("apply");
    assert_eq!(rev, 2);
    assert_eq!(changes[0].1, Change::Unchanged);

    let b = store.get(&key("b")).expect("get").expect("stored");
    assert_eq!(b.revision, 2);
    assert_eq!(b.created_revision, 1);
    assert_eq!(b.resource.metadata().resource_version.as_deref(), Some("2"));
    assert_eq!(b.resource, {
        let mut r = cm("b", "2");
        r.metadata_mut().resource_version = Some("2".into());
        r
    });
}

#[test]
fn delete_and_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("s.redb")).expect("open");
    store.apply(&[cm("a", "1"), cm("b", "1")]).expect("apply");
    let (rev, out) = store.delete(&[key("a"), key("zzz")]).expect("delete");
    assert_eq!(rev, 2);
    assert_eq!(out, [(key("a"), true), (key("zzz"), false)]);
    let names: Vec<_> = store
        .list(Some(Kind::ConfigMap), Some("default"))
        .expect("list")
        .into_iter()
        .map(|o| o.resource.metadata().name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["b"]);
    assert!(
        store
            .list(Some(Kind::Service), None)
            .expect("list")
            .is_empty()
    );
    assert!(store.list(None, Some("other")).expect("list").is_empty());
    // Deleting what is gone changes nothing.
    assert_eq!(store.delete(&[key("a")]).expect("delete").0, 2);
}

#[test]
fn survives_reopen_and_notifies_watchers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    {
        let store = Store::open(&path).expect("open");
        let mut rx = store.subscribe();
        store.apply(&[cm("a", "1")]).expect("apply");
        assert!(rx.has_changed().expect("sender alive"));
        assert_eq!(*rx.borrow_and_update(), 1);
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.revision(), 1);
    assert!(store.get(&key("a")).expect("get").is_some());
}

/// The child half of `kill_dash_nine_loses_nothing_acknowledged`: applies one
/// object per revision and prints each acknowledged revision.
#[test]
#[ignore = "run by kill_dash_nine_loses_nothing_acknowledged in a child process"]
fn crash_writer_child() {
    let Some(path) = std::env::var_os("MESHCTL_CRASH_STORE") else {
        return;
    };
    let store = Store::open(Path::new(&path)).expect("open");
    for i in 0.. {
        let (rev, _) = store
            .apply(&[cm(&format!("obj-{i}"), &i.to_string())])
            .expect("apply");
        println!("acked {rev} obj-{i}");
    }
}

#[test]
fn kill_dash_nine_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.redb");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "store::tests::crash_writer_child",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MESHCTL_CRASH_STORE", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("piped");
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read");
        if let Some(rest) = line.strip_prefix("acked ") {
            let mut parts = rest.split(' ');
            let rev: u64 = parts.next().and_then(|r| r.parse().ok()).expect("revision");
            acked.push((rev, parts.next().expect("name").to_owned()));
            if acked.len() >= 50 {
                break;
            }
        }
    }
    // SIGKILL while the writer is mid-way through further writes.
    child.kill().expect("kill -9");
    child.wait().expect("reap");

    let store = Store::open(&path).expect("store opens after a crash");
    let last = acked.last().expect("some writes acknowledged").0;
    assert!(
        store.revision() >= last,
        "revision {} < acknowledged {last}",
        store.revision()
    );
    for (_, name) in &acked {
        assert!(
            store.get(&key(name)).expect("readable").is_some(),
            "{name} lost"
        );
    }
    // Everything stored is readable (nothing corrupt).
    let all = store.list(None, None).expect("list");
    assert!(all.len() >= acked.len());
}

#[test]
fn decoded_resources_follow_every_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store.redb")).expect("open");
    let listed = |store: &Store| -> Vec<Resource> {
        store
            .list(None, None)
            .expect("list")
            .into_iter()
            .map(|o| o.resource)
            .collect()
    };
    assert!(store.resources().expect("resources").is_empty());
    store.apply(&[cm("a", "1"), cm("b", "1")]).expect("apply");
    let first = store.resources().expect("resources");
    assert_eq!(*first, listed(&store));
    // Unchanged: the same decoded resources, shared.
    assert!(Arc::ptr_eq(&first, &store.resources().expect("resources")));
    store.apply(&[cm("b", "2")]).expect("apply");
    assert_eq!(*store.resources().expect("resources"), listed(&store));
    assert_ne!(*store.resources().expect("resources"), *first);
    // New keys land in key order, before, between and after the others.
    store
        .apply(&[cm("c", "1"), cm("0", "1"), cm("ab", "1")])
        .expect("apply");
    assert_eq!(*store.resources().expect("resources"), listed(&store));
    store.delete(&[key("a"), key("c")]).expect("delete");
    let after = store.resources().expect("resources");
    assert_eq!(*after, listed(&store));
    assert_eq!(after.len(), 3);
    // A store opened again decodes the same.
    drop(store);
    let store = Store::open(&dir.path().join("store.redb")).expect("open");
    assert_eq!(*store.resources().expect("resources"), *after);
}
