//! What a store builder gets when it builds a task's store instance.

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::task_id::TaskId;

use super::cache::RecordCache;
use super::error::StoreError;
use super::global::GlobalAccess;
use super::logging::ChangelogSink;
#[cfg(feature = "rocksdb")]
use super::rocks::RocksDbMemory;

/// Everything a [`StoreBuilder`](super::StoreBuilder) needs to build one task's instance of a
/// store: who the task is, where its state lives, the process-wide RocksDB memory budget, the
/// thread's record cache and the task's changelog sink.
///
/// The runtime makes one per task; the test driver one with a temporary state directory.
/// Persistent stores live in [`store_dir`](Self::store_dir):
/// `<state.dir>/<application.id>/<task>/rocksdb/<store>`.
///
/// ```
/// use std::path::Path;
/// use streams_core::processor::TaskId;
/// use streams_core::state::{RecordCache, StoreContext};
///
/// let task = TaskId { subtopology: 0, partition: 3 };
/// let ctx = StoreContext::new(task, "my-app", "/var/lib/kafka-streams")
///     .with_record_cache(RecordCache::new(10 << 20));
/// assert_eq!(
///     ctx.store_dir("counts"),
///     Path::new("/var/lib/kafka-streams/my-app/0_3/rocksdb/counts")
/// );
/// ```
#[derive(Clone)]
pub struct StoreContext {
    task_id: TaskId,
    application_id: Arc<str>,
    state_dir: PathBuf,
    #[cfg(feature = "rocksdb")]
    rocksdb: RocksDbMemory,
    record_cache: Option<RecordCache>,
    changelog: Option<Rc<dyn ChangelogSink>>,
    /// Set for global stores: their shared engines, and whether this thread writes them.
    global: Option<GlobalAccess>,
}

impl fmt::Debug for StoreContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("StoreContext");
        s.field("task_id", &self.task_id)
            .field("application_id", &self.application_id)
            .field("state_dir", &self.state_dir);
        #[cfg(feature = "rocksdb")]
        s.field("rocksdb", &self.rocksdb);
        s.field("record_cache", &self.record_cache)
            .field("changelog", &self.changelog.is_some())
            .field("global", &self.global)
            .finish()
    }
}

impl StoreContext {
    /// A context for task `task_id` of application `application_id`, with state under
    /// `state_dir` (`state.dir`), the process-wide RocksDB memory budget, no record
    /// cache (caching stores write through) and no changelog sink (logging stores log nothing).
    pub fn new(
        task_id: TaskId,
        application_id: impl Into<Arc<str>>,
        state_dir: impl Into<PathBuf>,
    ) -> Self {
        StoreContext {
            task_id,
            application_id: application_id.into(),
            state_dir: state_dir.into(),
            #[cfg(feature = "rocksdb")]
            rocksdb: RocksDbMemory::shared(),
            record_cache: None,
            changelog: None,
            global: None,
        }
    }

    /// A context for the global stores of application `application_id`, which live in
    /// `<state.dir>/<application.id>/global` (Kafka Streams' global state directory): stores
    /// built with it are layers over the engines in `access` (opened there on first use), with
    /// neither record cache nor changelog.
    pub(crate) fn global(
        application_id: impl Into<Arc<str>>,
        state_dir: impl Into<PathBuf>,
        access: GlobalAccess,
    ) -> Self {
        StoreContext {
            global: Some(access),
            ..StoreContext::new(TaskId::GLOBAL, application_id, state_dir)
        }
    }

    /// The global engines, if this context builds global stores.
    pub(crate) fn global_access(&self) -> Option<&GlobalAccess> {
        self.global.as_ref()
    }

    /// Uses `memory` as the RocksDB budget instead of the process-wide default.
    #[cfg(feature = "rocksdb")]
    pub fn with_rocksdb_memory(mut self, memory: RocksDbMemory) -> Self {
        self.rocksdb = memory;
        self
    }

    /// The stream thread's record cache, used by stores declared with caching on. A cache of
    /// zero bytes is no cache: stores then write through, as Kafka Streams' do with
    /// `statestore.cache.max.bytes=0`.
    pub fn with_record_cache(mut self, cache: RecordCache) -> Self {
        self.record_cache = (cache.max_bytes() > 0).then_some(cache);
        self
    }

    /// The task's changelog sink, fed by stores declared with logging on.
    pub fn with_changelog(mut self, sink: Rc<dyn ChangelogSink>) -> Self {
        self.changelog = Some(sink);
        self
    }

    /// The task.
    pub fn task_id(&self) -> TaskId {
        self.task_id
    }

    /// The application id.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// The `state.dir` root.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The task's directory: `<state.dir>/<application.id>/<task>` (`.../global` for global
    /// stores).
    pub fn task_dir(&self) -> PathBuf {
        let dir = self.state_dir.join(&*self.application_id);
        if self.global.is_some() {
            dir.join("global")
        } else {
            dir.join(self.task_id.to_string())
        }
    }

    /// A persistent store's RocksDB directory: `<task dir>/rocksdb/<store>`.
    pub fn store_dir(&self, store: &str) -> PathBuf {
        self.task_dir().join("rocksdb").join(store)
    }

    /// The RocksDB memory budget.
    #[cfg(feature = "rocksdb")]
    pub fn rocksdb_memory(&self) -> &RocksDbMemory {
        &self.rocksdb
    }

    /// The record cache, if the thread has one.
    pub fn record_cache(&self) -> Option<&RecordCache> {
        self.record_cache.as_ref()
    }

    /// The changelog sink, if the task has one.
    pub fn changelog(&self) -> Option<&Rc<dyn ChangelogSink>> {
        self.changelog.as_ref()
    }
}

/// A directory removed (with its contents) on drop.
#[derive(Debug)]
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new empty directory under the system temp dir, named `<prefix>-<pid>-<n>-<nanos>`.
    pub(crate) fn new(prefix: &str) -> Result<Self, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).map_err(|source| StoreError::Io {
            store: String::new(),
            action: "create",
            path: path.clone(),
            source,
        })?;
        Ok(TempDir { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a temporary state directory");
        }
    }
}
