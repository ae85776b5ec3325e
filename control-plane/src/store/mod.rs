//! The config store: every applied resource, on disk, crash-safe.
//!
//! Backed by redb (copy-on-write B-trees, fsync on commit): a write either commits
//! whole or not at all, so a `kill -9` mid-apply loses nothing that was acknowledged
//! and never leaves half an apply behind. Each apply or delete is one transaction and
//! gets one revision; every object remembers the revision that created it and the one
//! that last changed it (its `metadata.resourceVersion`).

use std::path::Path;
use std::sync::Arc;

use mesh_api::{Kind, Resource};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// `Kind/namespace/name` -> JSON [`Record`].
const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
/// `"revision"` -> the store's current revision.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// redb's page cache. Its default (1 GiB) keeps every page an apply writes:
/// applying 10,000 resources left about 17 MiB more resident. The push loop
/// reads the decoded resources ([`Store::resources`]), not the pages, so a few
/// MiB serve the point reads and writes of `apply`, `get` and `delete`.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("open store {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: redb::DatabaseError,
    },
    #[error("store: {0}")]
    Db(String),
    #[error("stored object {key} is unreadable: {message}")]
    Corrupt { key: String, message: String },
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.to_string())
            }
        }
    )*};
}
db_err!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// What the store keeps for one object.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    created_revision: u64,
    revision: u64,
    created_unix: u64,
    updated_unix: u64,
    manifest: serde_json::Value,
}

/// A stored object as readers see it.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub resource: Resource,
    /// The revision that last changed the object.
    pub revision: u64,
    pub created_revision: u64,
    /// Seconds since the Unix epoch.
    pub created_unix: u64,
    pub updated_unix: u64,
}

/// What an apply did to one object, in kubectl's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Configured,
    Unchanged,
    Deleted,
}

/// The identity of an object in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub kind: Kind,
    /// Empty for cluster-scoped kinds (Namespace).
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn of(resource: &Resource) -> Self {
        let meta = resource.metadata();
        Self {
            kind: resource.kind(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
        }
    }

    fn encode(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The store. Cheap to share behind an `Arc`; writes are serialized by redb.
#[derive(Debug)]
pub struct Store {
    db: Database,
    revision: watch::Sender<u64>,
    /// Every stored resource, decoded, as of the last commit: the push loop
    /// reads the whole mesh after every change, and decoding thousands of
    /// records each time cost more than compiling. Filled by the first
    /// [`Store::resources`]; each commit then decodes only what it wrote.
    decoded: std::sync::Mutex<Option<Decoded>>,
}

/// The decoded resources and their keys, sorted by key (as [`Store::list`]).
#[derive(Debug)]
struct Decoded {
    keys: Vec<String>,
    resources: Arc<Vec<Resource>>,
}

impl Decoded {
    fn upsert(&mut self, key: &str, resource: Resource) {
        let all = Arc::make_mut(&mut self.resources);
        match self.keys.binary_search_by(|k| k.as_str().cmp(key)) {
            Ok(i) => all[i] = resource,
            Err(i) => {
                self.keys.insert(i, key.to_owned());
                all.insert(i, resource);
            }
        }
    }

    fn remove(&mut self, key: &str) {
        if let Ok(i) = self.keys.binary_search_by(|k| k.as_str().cmp(key)) {
            self.keys.remove(i);
            Arc::make_mut(&mut self.resources).remove(i);
        }
    }
}

impl Store {
    /// Open (or create) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let txn = db.begin_write()?;
        txn.open_table(OBJECTS)?;
        let rev = {
            let meta = txn.open_table(META)?;
            meta.get("revision")?.map(|g| g.value()).unwrap_or(0)
        };
        txn.commit()?;
        let (revision, _) = watch::channel(rev);
        Ok(Self {
            db,
            revision,
            decoded: std::sync::Mutex::new(None),
        })
    }

    /// The revision of the last committed change (0 for an empty store).
    pub fn revision(&self) -> u64 {
        *self.revision.borrow()
    }

    /// Be told of every committed change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.revision.subscribe()
    }

    /// Store every resource in one transaction. The caller has validated them; an
    /// apply that changes nothing does not create a revision.
    pub fn apply(
        &self,
        resources: &[Resource],
    ) -> Result<(u64, Vec<(ObjectKey, Change)>), StoreError> {
        let now = crate::unix_now();
        let txn = self.db.begin_write()?;
        let mut changes = Vec::with_capacity(resources.len());
        let mut rev = {
            let meta = txn.open_table(META)?;
            meta.get("revision")?.map(|g| g.value()).unwrap_or(0)
        };
        let next = rev + 1;
        let mut written: Vec<(String, Vec<u8>)> = Vec::new();
        {
            let mut objects = txn.open_table(OBJECTS)?;
            for res in resources {
                let key = ObjectKey::of(res);
                let encoded = key.encode();
                let mut manifest = res.to_json();
                strip_server_fields(&mut manifest);
                let existing = objects
                    .get(encoded.as_str())?
                    .map(|g| decode_record(&encoded, g.value()))
                    .transpose()?;
                let (record, change) = match existing {
                    Some(old) if old.manifest == manifest => (None, Change::Unchanged),
                    Some(old) => (
                        Some(Record {
                            created_revision: old.created_revision,
                            revision: next,
                            created_unix: old.created_unix,
                            updated_unix: now,
                            manifest,
                        }),
                        Change::Configured,
                    ),
                    None => (
                        Some(Record {
                            created_revision: next,
                            revision: next,
                            created_unix: now,
                            updated_unix: now,
                            manifest,
                        }),
                        Change::Created,
                    ),
                };
                if let Some(record) = record {
                    let bytes = serde_json::to_vec(&record)
                        .map_err(|e| StoreError::Db(format!("encode {key}: {e}")))?;
                    objects.insert(encoded.as_str(), bytes.as_slice())?;
                    written.push((encoded, bytes));
                }
                changes.push((key, change));
            }
        }
        if changes.iter().any(|(_, c)| *c != Change::Unchanged) {
            rev = next;
            txn.open_table(META)?.insert("revision", rev)?;
            // Held from before the commit until the decoded copy has it, so no
            // reader or later writer sees the copy behind the database.
            let mut decoded = self.decoded();
            txn.commit()?;
            if let Some(d) = decoded.as_mut() {
                for (key, bytes) in &written {
                    match to_object(key, bytes) {
                        Ok(o) => d.upsert(key, o.resource),
                        Err(_) => {
                            *decoded = None;
                            break;
                        }
                    }
                }
            }
            drop(decoded);
            self.revision.send_replace(rev);
        } else {
            txn.abort().map_err(|e| StoreError::Db(e.to_string()))?;
        }
        Ok((rev, changes))
    }

    /// Delete objects in one transaction; keys that are not stored are reported as
    /// `None` and change nothing.
    pub fn delete(&self, keys: &[ObjectKey]) -> Result<(u64, Vec<(ObjectKey, bool)>), StoreError> {
        let txn = self.db.begin_write()?;
        let mut out = Vec::with_capacity(keys.len());
        {
            let mut objects = txn.open_table(OBJECTS)?;
            for key in keys {
                let removed = objects.remove(key.encode().as_str())?.is_some();
                out.push((key.clone(), removed));
            }
        }
        let mut rev = {
            let meta = txn.open_table(META)?;
            meta.get("revision")?.map(|g| g.value()).unwrap_or(0)
        };
        if out.iter().any(|(_, removed)| *removed) {
            rev += 1;
            txn.open_table(META)?.insert("revision", rev)?;
            let mut decoded = self.decoded();
            txn.commit()?;
            if let Some(d) = decoded.as_mut() {
                for (key, removed) in &out {
                    if *removed {
                        d.remove(&key.encode());
                    }
                }
            }
            drop(decoded);
            self.revision.send_replace(rev);
        } else {
            txn.abort().map_err(|e| StoreError::Db(e.to_string()))?;
        }
        Ok((rev, out))
    }

    pub fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        let txn = self.db.begin_read()?;
        let objects = txn.open_table(OBJECTS)?;
        let encoded = key.encode();
        objects
            .get(encoded.as_str())?
            .map(|g| to_object(&encoded, g.value()))
            .transpose()
    }

    fn decoded(&self) -> std::sync::MutexGuard<'_, Option<Decoded>> {
        self.decoded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every stored resource, sorted by key, as [`Store::list`] gives them;
    /// decoded once, then kept current by each commit, and shared.
    pub fn resources(&self) -> Result<Arc<Vec<Resource>>, StoreError> {
        let mut cached = self.decoded();
        if let Some(d) = cached.as_ref() {
            return Ok(d.resources.clone());
        }
        let (keys, all): (Vec<String>, Vec<Resource>) = self
            .list(None, None)?
            .into_iter()
            .map(|o| (ObjectKey::of(&o.resource).encode(), o.resource))
            .unzip();
        let resources = Arc::new(all);
        *cached = Some(Decoded {
            keys,
            resources: resources.clone(),
        });
        Ok(resources)
    }

    /// Every stored object, optionally of one kind and namespace, sorted by key.
    pub fn list(
        &self,
        kind: Option<Kind>,
        namespace: Option<&str>,
    ) -> Result<Vec<StoredObject>, StoreError> {
        let txn = self.db.begin_read()?;
        let objects = txn.open_table(OBJECTS)?;
        let mut out = Vec::new();
        for entry in objects.iter()? {
            let (k, v) = entry?;
            let key = k.value();
            let mut parts = key.splitn(3, '/');
            let (Some(kind_name), Some(ns)) = (parts.next(), parts.next()) else {
                continue;
            };
            if kind.is_some_and(|want| want.as_str() != kind_name) {
                continue;
            }
            if namespace.is_some_and(|want| want != ns) {
                continue;
            }
            out.push(to_object(key, v.value())?);
        }
        Ok(out)
    }
}

/// Fields the store owns: a re-applied manifest that differs only in these is
/// unchanged.
fn strip_server_fields(manifest: &mut serde_json::Value) {
    if let Some(meta) = manifest.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for f in [
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "uid",
            "managedFields",
        ] {
            meta.remove(f);
        }
    }
}

fn decode_record(key: &str, bytes: &[u8]) -> Result<Record, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        message: e.to_string(),
    })
}

fn to_object(key: &str, bytes: &[u8]) -> Result<StoredObject, StoreError> {
    let record = decode_record(key, bytes)?;
    let mut resource = Resource::from_json(record.manifest).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        message: e.to_string(),
    })?;
    resource.metadata_mut().resource_version = Some(record.revision.to_string());
    Ok(StoredObject {
        resource,
        revision: record.revision,
        created_revision: record.created_revision,
        created_unix: record.created_unix,
        updated_unix: record.updated_unix,
    })
}

#[cfg(test)]
mod tests;
