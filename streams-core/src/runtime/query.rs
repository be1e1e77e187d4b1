//! Interactive queries: read-only views of a running application's state stores, across the
//! tasks of every local stream thread — Kafka Streams' `KafkaStreams#store`.
//!
//! Stores live on their stream thread (they are `Rc`-based, not `Send`), so a query never
//! touches them from the caller's thread: it sends a read to every stream thread, each thread
//! runs it against its tasks' stores once per turn of its step loop (after processing, so it
//! sees every record processed so far, committed or not), and the caller merges the answers.
//! A thread idle in `poll` answers within `poll.ms`; a busy one after its current step.

use std::any::{Any, type_name};
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::processor::TaskId;
use crate::state::{
    KeyValueStore, SessionStore, StoreError, StoreKind, StoreRegistry, TimestampedKeyValueStore,
    ValueAndTimestamp, Window, WindowStore, Windowed, query_reads,
};
use crate::topology::Topology;

use super::kafka_streams::KafkaStreams;
use super::state::{Shared, StreamsState};
use super::task_manager::with_task_manager;

/// Why an interactive query got no answer — Kafka Streams' `InvalidStateStoreException` family.
///
/// [`is_retryable`](Self::is_retryable) tells the transient cases (the store is restoring, the
/// tasks are moving, a thread is busy) from mistakes and a stopped application.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The topology has no store of that name.
    #[error("no state store named `{store}` in the topology ({})", known_stores(.known))]
    UnknownStore {
        /// The name asked for.
        store: String,
        /// The topology's stores.
        known: Vec<String>,
    },
    /// The store is of another kind, or holds other key or value types, than asked.
    #[error("state store `{store}` is a {found}, not a {expected}")]
    WrongType {
        /// The store.
        store: String,
        /// What was asked, e.g. `key-value store of (String, i64)`.
        expected: String,
        /// What the store is.
        found: String,
    },
    /// The application is not started, or is closing, closed or failed. Not retryable on this
    /// instance (except [`Created`](StreamsState::Created): call
    /// [`start`](KafkaStreams::start) first).
    #[error("{}", not_running(*.state))]
    NotRunning {
        /// The application's state.
        state: StreamsState,
    },
    /// The store cannot answer right now; retry later.
    #[error("state store `{store}` is not ready for queries: {reason}; retry later")]
    StoreNotReady {
        /// The store.
        store: String,
        /// Why.
        reason: NotReadyReason,
    },
    /// Reading the store failed (an engine or codec error).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stream thread did not answer in time (a long commit, rebalance or restoration); retry
    /// later, or give the handle a longer [`with_timeout`](ReadOnlyKeyValueStore::with_timeout).
    #[error("no answer for state store `{store}` within {timeout:?}: a stream thread is busy")]
    Timeout {
        /// The store.
        store: String,
        /// How long the query waited.
        timeout: Duration,
    },
    /// The read panicked on the stream thread (a codec bug); the thread carries on.
    #[error("reading state store `{store}` panicked: {message}")]
    Panic {
        /// The store.
        store: String,
        /// The panic message.
        message: String,
    },
}

impl QueryError {
    /// Whether the same query may succeed if retried later:
    /// [`StoreNotReady`](Self::StoreNotReady) and [`Timeout`](Self::Timeout).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            QueryError::StoreNotReady { .. } | QueryError::Timeout { .. }
        )
    }
}

fn known_stores(known: &[String]) -> String {
    if known.is_empty() {
        "it has none".to_string()
    } else {
        let names: Vec<String> = known.iter().map(|s| format!("`{s}`")).collect();
        format!("stores: {}", names.join(", "))
    }
}

fn not_running(state: StreamsState) -> String {
    match state {
        StreamsState::Created => {
            "the application is not started (state Created): call start() before querying"
                .to_string()
        }
        state => format!(
            "the application is not running (state {state:?}): stores answer queries only in \
             state Running"
        ),
    }
}

/// Why a store is [not ready](QueryError::StoreNotReady) for queries. All are transient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotReadyReason {
    /// The application is rebalancing: tasks are being revoked or assigned.
    Rebalancing,
    /// A task holding the store is restoring it from its changelog.
    Restoring {
        /// The task.
        task: TaskId,
    },
    /// Tasks moved between threads or instances while the query ran: the answer could miss or
    /// repeat entries, so there is none.
    Migrated,
    /// No task of this instance holds the store: its partitions are on other instances (ask
    /// those), or none is assigned here yet.
    NotHosted,
}

impl fmt::Display for NotReadyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReadyReason::Rebalancing => f.write_str("the application is rebalancing"),
            NotReadyReason::Restoring { task } => {
                write!(f, "task {task} is restoring it from its changelog")
            }
            NotReadyReason::Migrated => f.write_str("its tasks moved while the query ran"),
            NotReadyReason::NotHosted => f.write_str("no task of this instance holds it"),
        }
    }
}

fn not_ready(store: &str, reason: NotReadyReason) -> QueryError {
    QueryError::StoreNotReady {
        store: store.to_string(),
        reason,
    }
}

/// What a query reads of one task.
pub(crate) struct TaskView<'a> {
    pub(crate) id: TaskId,
    pub(crate) stores: &'a StoreRegistry,
    pub(crate) restoring: bool,
}

/// A read sent to a stream thread, run against its tasks.
pub(crate) type QueryJob = Box<dyn FnOnce(&[TaskView<'_>]) + Send>;

/// Runs the queries waiting for this stream thread against its active tasks; the step loop calls
/// it once per turn. A job that cannot run (no task manager) is dropped, which its caller sees.
pub(crate) fn serve(jobs: &Receiver<QueryJob>) {
    while let Ok(job) = jobs.try_recv() {
        with_task_manager(move |tm| {
            let views: Vec<TaskView<'_>> = tm
                .tasks()
                .iter()
                .map(|t| TaskView {
                    id: t.id,
                    stores: t.stores(),
                    restoring: t.is_restoring(),
                })
                .collect();
            job(&views);
        });
    }
}

/// Sends queries to the stream threads of one [`KafkaStreams`].
pub(crate) struct QueryRouter {
    shared: Arc<Shared>,
    /// The topology's stores.
    stores: Vec<(String, StoreKind)>,
    threads: Mutex<Vec<Sender<QueryJob>>>,
    timeout: Duration,
}

impl QueryRouter {
    pub(crate) fn new(
        shared: Arc<Shared>,
        stores: Vec<(String, StoreKind)>,
        timeout: Duration,
    ) -> Self {
        QueryRouter {
            shared,
            stores,
            threads: Mutex::new(Vec::new()),
            timeout,
        }
    }

    /// A router for the stores of `topology`.
    pub(crate) fn for_topology(
        shared: Arc<Shared>,
        topology: &Topology,
        timeout: Duration,
    ) -> Self {
        let stores = topology
            .stores()
            .iter()
            .map(|s| (s.builder.name().to_string(), s.builder.kind()))
            .collect();
        Self::new(shared, stores, timeout)
    }

    /// A new stream thread's end of its query channel.
    pub(crate) fn add_thread(&self) -> Receiver<QueryJob> {
        let (tx, rx) = mpsc::channel();
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tx);
        rx
    }

    /// A query of store `name`, if it exists and is of one of the kinds `accepts`.
    fn handle(
        self: &Arc<Self>,
        name: &str,
        accepts: &[StoreKind],
        expected: String,
    ) -> Result<StoreQuery, QueryError> {
        let Some(&(_, kind)) = self.stores.iter().find(|(n, _)| n == name) else {
            return Err(QueryError::UnknownStore {
                store: name.to_string(),
                known: self.stores.iter().map(|(n, _)| n.clone()).collect(),
            });
        };
        if !accepts.contains(&kind) {
            return Err(QueryError::WrongType {
                store: name.to_string(),
                expected,
                found: kind_name(kind).to_string(),
            });
        }
        Ok(StoreQuery {
            router: Arc::clone(self),
            target: Arc::new(Target {
                store: name.to_string(),
                kind,
                expected,
            }),
            timeout: self.timeout,
        })
    }

    /// The rebalance count if the application can answer queries now.
    fn ready(&self, store: &str) -> Result<u64, QueryError> {
        let inner = self.shared.lock();
        match inner.state {
            StreamsState::Running => Ok(inner.rebalances),
            StreamsState::Rebalancing => Err(not_ready(store, NotReadyReason::Rebalancing)),
            state => Err(QueryError::NotRunning { state }),
        }
    }
}

fn kind_name(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::KeyValue => "key-value store",
        StoreKind::TimestampedKeyValue => "timestamped key-value store",
        StoreKind::Window => "window store",
        StoreKind::Session => "session store",
    }
}

/// `alloc::string::String` → `String`, `core::option::Option<i64>` → `Option<i64>`.
fn short_type_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut segment = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else if c == ':' {
            segment.clear();
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

fn types<K, V>(kind: &str) -> String {
    format!(
        "{kind} of ({}, {})",
        short_type_name(type_name::<K>()),
        short_type_name(type_name::<V>())
    )
}

/// One store's query target: what every read-only handle wraps.
#[derive(Clone)]
struct StoreQuery {
    router: Arc<QueryRouter>,
    target: Arc<Target>,
    timeout: Duration,
}

/// The store a query reads, and the handle type it expects (what a thread needs to answer).
struct Target {
    store: String,
    kind: StoreKind,
    expected: String,
}

/// One thread's answer: a result per task holding the store.
type Answer<R> = Result<Vec<(TaskId, R)>, QueryError>;

impl StoreQuery {
    /// Runs `read` on the handle of every local task holding the store (`None`: the handle has
    /// other types) and returns the results in task order.
    fn per_task<R, F>(&self, read: F) -> Result<Vec<R>, QueryError>
    where
        R: Send + 'static,
        F: Fn(&dyn Any) -> Option<Result<R, StoreError>> + Clone + Send + 'static,
    {
        let store = &*self.target.store;
        let generation = self.router.ready(store)?;
        let (reply, answers) = mpsc::channel::<Answer<R>>();
        let mut asked = 0;
        for thread in self
            .router
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let (read, reply, target) = (read.clone(), reply.clone(), Arc::clone(&self.target));
            let job: QueryJob = Box::new(move |tasks| {
                let answer = catch_unwind(AssertUnwindSafe(|| {
                    query_reads(|| target.answer(tasks, &read))
                }))
                .unwrap_or_else(|panic| {
                    Err(QueryError::Panic {
                        store: target.store.clone(),
                        message: panic_message(&*panic),
                    })
                });
                let _ = reply.send(answer);
            });
            if thread.send(job).is_ok() {
                asked += 1;
            }
        }
        drop(reply);

        let deadline = Instant::now() + self.timeout;
        let mut parts: Vec<(TaskId, R)> = Vec::new();
        let mut error: Option<QueryError> = None;
        let mut received = 0;
        while received < asked {
            let left = deadline.saturating_duration_since(Instant::now());
            match answers.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(Ok(part)) => parts.extend(part),
                Ok(Err(e)) => {
                    // A mistake outranks a transient condition, so retry loops end.
                    if error.as_ref().is_none_or(QueryError::is_retryable) {
                        error = Some(e);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !self.router.shared.state().is_running_or_rebalancing() {
                        self.router.ready(store)?;
                    }
                    if Instant::now() >= deadline {
                        return Err(QueryError::Timeout {
                            store: store.to_string(),
                            timeout: self.timeout,
                        });
                    }
                    continue;
                }
                // A thread stopped without answering.
                Err(RecvTimeoutError::Disconnected) => {
                    self.router.ready(store)?;
                    return Err(not_ready(store, NotReadyReason::Migrated));
                }
            }
            received += 1;
        }
        if let Some(e) = error.take_if(|e| !e.is_retryable()) {
            return Err(e);
        }
        if self.router.ready(store)? != generation {
            return Err(not_ready(store, NotReadyReason::Migrated));
        }
        if let Some(e) = error {
            return Err(e);
        }
        if parts.is_empty() {
            return Err(not_ready(store, NotReadyReason::NotHosted));
        }
        parts.sort_by_key(|(task, _)| *task);
        Ok(parts.into_iter().map(|(_, r)| r).collect())
    }

    /// [`per_task`](Self::per_task) on handles of type `H`.
    fn read<H, R>(
        &self,
        read: impl Fn(&H) -> Result<R, StoreError> + Clone + Send + 'static,
    ) -> Result<Vec<R>, QueryError>
    where
        H: 'static,
        R: Send + 'static,
    {
        self.per_task(move |handle| handle.downcast_ref::<H>().map(&read))
    }
}

impl Target {
    /// On a stream thread: reads every task holding the store.
    fn answer<R>(
        &self,
        tasks: &[TaskView<'_>],
        read: &impl Fn(&dyn Any) -> Option<Result<R, StoreError>>,
    ) -> Answer<R> {
        let mut out = Vec::new();
        for task in tasks {
            let Some(handle) = task.stores.get(&self.store) else {
                continue;
            };
            if task.restoring {
                return Err(not_ready(
                    &self.store,
                    NotReadyReason::Restoring { task: task.id },
                ));
            }
            match read(handle) {
                Some(Ok(r)) => out.push((task.id, r)),
                Some(Err(e)) => return Err(QueryError::Store(e)),
                None => {
                    return Err(QueryError::WrongType {
                        store: self.store.clone(),
                        expected: self.expected.clone(),
                        found: format!("{} with other key or value types", kind_name(self.kind)),
                    });
                }
            }
        }
        Ok(out)
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

macro_rules! handle_common {
    ($handle:ident) => {
        impl<K, V> $handle<K, V> {
            /// The store's name.
            pub fn name(&self) -> &str {
                &self.query.target.store
            }

            /// Waits at most `timeout` for the stream threads' answers (by default
            /// `default.api.timeout.ms`), then fails with [`QueryError::Timeout`].
            #[must_use]
            pub fn with_timeout(mut self, timeout: Duration) -> Self {
                self.query.timeout = timeout;
                self
            }
        }

        impl<K, V> Clone for $handle<K, V> {
            fn clone(&self) -> Self {
                $handle {
                    query: self.query.clone(),
                    types: PhantomData,
                }
            }
        }

        impl<K, V> fmt::Debug for $handle<K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($handle))
                    .field("name", &self.query.target.store)
                    .field("timeout", &self.query.timeout)
                    .finish_non_exhaustive()
            }
        }
    };
}

/// A read-only view of a key-value store across this instance's tasks, from
/// [`KafkaStreams::store`] — Kafka Streams' `ReadOnlyKeyValueStore`.
///
/// A cheap, `Send + Sync` handle that can be kept and cloned (e.g. into a web server); every
/// call asks the stream threads afresh. A key lives in one task, so [`get`](Self::get) answers
/// from the task that has it; scans concatenate the tasks' entries, ordered within each task
/// and tasks in id order (like Kafka Streams' composite stores, not one global order). Scans
/// copy what they return. With several instances, each answers for its own tasks only.
pub struct ReadOnlyKeyValueStore<K, V> {
    query: StoreQuery,
    types: PhantomData<fn() -> (K, V)>,
}

handle_common!(ReadOnlyKeyValueStore);

impl<K, V> ReadOnlyKeyValueStore<K, V>
where
    K: Clone + Send + 'static,
    V: Send + 'static,
{
    /// The value for `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, QueryError> {
        let key = key.clone();
        let answers = self
            .query
            .per_task(move |h| KvView::<K, V>::of(h).map(|s| s.get(&key)))?;
        Ok(answers.into_iter().flatten().next())
    }

    /// The entries from `from` to `to`, both included, ascending within each task.
    pub fn range(&self, from: &K, to: &K) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::Range(from.clone(), to.clone()), false)
    }

    /// The entries from `from` to `to`, both included, descending within each task.
    pub fn reverse_range(&self, from: &K, to: &K) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::Range(from.clone(), to.clone()), true)
    }

    /// Every entry, ascending within each task.
    pub fn all(&self) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::All, false)
    }

    /// Every entry, descending within each task.
    pub fn reverse_all(&self) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::All, true)
    }

    /// The sum of the tasks' estimates (exact for in-memory stores).
    pub fn approximate_num_entries(&self) -> Result<u64, QueryError> {
        let counts = self
            .query
            .per_task(|h| KvView::<K, V>::of(h).map(|s| Ok(s.approximate_num_entries())))?;
        Ok(counts.into_iter().sum())
    }

    fn scan(&self, scan: Scan<K>, reverse: bool) -> Result<Vec<(K, V)>, QueryError> {
        let parts = self
            .query
            .per_task(move |h| KvView::<K, V>::of(h).map(|s| s.scan(&scan, reverse)))?;
        Ok(parts.into_iter().flatten().collect())
    }
}

#[derive(Clone)]
enum Scan<K> {
    All,
    Range(K, K),
}

/// A key-value handle, or a timestamped one read without its timestamps (as Kafka Streams'
/// `keyValueStore()` query type reads timestamped stores).
enum KvView<'a, K, V> {
    Plain(&'a KeyValueStore<K, V>),
    Timestamped(&'a TimestampedKeyValueStore<K, V>),
}

impl<'a, K: 'static, V: 'static> KvView<'a, K, V> {
    fn of(handle: &'a dyn Any) -> Option<Self> {
        if let Some(store) = handle.downcast_ref::<KeyValueStore<K, V>>() {
            return Some(KvView::Plain(store));
        }
        handle
            .downcast_ref::<TimestampedKeyValueStore<K, V>>()
            .map(KvView::Timestamped)
    }

    fn get(&self, key: &K) -> Result<Option<V>, StoreError> {
        match self {
            KvView::Plain(store) => store.get(key),
            KvView::Timestamped(store) => Ok(store.get(key)?.map(|v| v.value)),
        }
    }

    fn scan(&self, scan: &Scan<K>, reverse: bool) -> Result<Vec<(K, V)>, StoreError> {
        match self {
            KvView::Plain(store) => scan_store(store, scan, reverse),
            KvView::Timestamped(store) => Ok(scan_store(store, scan, reverse)?
                .into_iter()
                .map(|(k, v)| (k, v.value))
                .collect()),
        }
    }

    fn approximate_num_entries(&self) -> u64 {
        match self {
            KvView::Plain(store) => store.approximate_num_entries(),
            KvView::Timestamped(store) => store.approximate_num_entries(),
        }
    }
}

fn scan_store<K: 'static, V: 'static>(
    store: &KeyValueStore<K, V>,
    scan: &Scan<K>,
    reverse: bool,
) -> Result<Vec<(K, V)>, StoreError> {
    let entries = match (scan, reverse) {
        (Scan::All, false) => store.all(),
        (Scan::All, true) => store.reverse_all(),
        (Scan::Range(from, to), false) => store.range(from, to)?,
        (Scan::Range(from, to), true) => store.reverse_range(from, to)?,
    };
    entries.collect()
}

/// A read-only view of a window store across this instance's tasks, from
/// [`KafkaStreams::window_store`] — Kafka Streams' `ReadOnlyWindowStore`. Times are window
/// starts in ms; results of several keys are in store order within each task, tasks in id
/// order. See [`ReadOnlyKeyValueStore`] for how handles behave.
pub struct ReadOnlyWindowStore<K, V> {
    query: StoreQuery,
    types: PhantomData<fn() -> (K, V)>,
}

handle_common!(ReadOnlyWindowStore);

impl<K, V> ReadOnlyWindowStore<K, V>
where
    K: Clone + Send + 'static,
    V: Send + 'static,
{
    /// The value of `key` in the window starting at `window_start_ms`.
    pub fn fetch_one(&self, key: &K, window_start_ms: i64) -> Result<Option<V>, QueryError> {
        let key = key.clone();
        let answers = self
            .query
            .read(move |s: &WindowStore<K, V>| s.fetch_one(&key, window_start_ms))?;
        Ok(answers.into_iter().flatten().next())
    }

    /// The windows of `key` starting from `from_ms` to `to_ms` (both included), oldest first,
    /// as (window start, value).
    pub fn fetch(&self, key: &K, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, V)>, QueryError> {
        let key = key.clone();
        let parts = self.query.read(move |s: &WindowStore<K, V>| {
            s.fetch(&key, from_ms, to_ms)?
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// As [`fetch`](Self::fetch), newest first.
    pub fn backward_fetch(
        &self,
        key: &K,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, V)>, QueryError> {
        let key = key.clone();
        let parts = self.query.read(move |s: &WindowStore<K, V>| {
            s.backward_fetch(&key, from_ms, to_ms)?
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// The windows of keys from `key_from` to `key_to` (key byte order) starting in
    /// `[from_ms, to_ms]`.
    pub fn fetch_key_range(
        &self,
        key_from: &K,
        key_to: &K,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        let (lo, hi) = (key_from.clone(), key_to.clone());
        let parts = self.query.read(move |s: &WindowStore<K, V>| {
            s.fetch_key_range(&lo, &hi, from_ms, to_ms)?
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Every window starting in `[from_ms, to_ms]`, of every key.
    pub fn fetch_all(&self, from_ms: i64, to_ms: i64) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        let parts = self.query.read(move |s: &WindowStore<K, V>| {
            s.fetch_all(from_ms, to_ms).collect::<Result<Vec<_>, _>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Every live window of every key.
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        self.fetch_all(i64::MIN, i64::MAX)
    }
}

/// A read-only view of a session store across this instance's tasks, from
/// [`KafkaStreams::session_store`] — Kafka Streams' `ReadOnlySessionStore`. See
/// [`ReadOnlyKeyValueStore`] for how handles behave.
pub struct ReadOnlySessionStore<K, V> {
    query: StoreQuery,
    types: PhantomData<fn() -> (K, V)>,
}

handle_common!(ReadOnlySessionStore);

impl<K, V> ReadOnlySessionStore<K, V>
where
    K: Clone + Send + 'static,
    V: Send + 'static,
{
    /// Every live session of `key` with its aggregate, by end time.
    pub fn fetch(&self, key: &K) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        self.find_sessions(key, i64::MIN, i64::MAX)
    }

    /// The sessions of `key` that end at or after `earliest_end_ms` and start at or before
    /// `latest_start_ms`, by end time.
    pub fn find_sessions(
        &self,
        key: &K,
        earliest_end_ms: i64,
        latest_start_ms: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        let key = key.clone();
        let parts = self.query.read(move |s: &SessionStore<K, V>| {
            s.find_sessions(&key, earliest_end_ms, latest_start_ms)?
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// The aggregate of exactly this session of `key`.
    pub fn fetch_session(&self, key: &K, window: Window) -> Result<Option<V>, QueryError> {
        let key = key.clone();
        let answers = self
            .query
            .read(move |s: &SessionStore<K, V>| s.fetch_session(&key, window))?;
        Ok(answers.into_iter().flatten().next())
    }
}

/// Interactive queries.
impl KafkaStreams {
    /// A read-only view of key-value store `name` across this instance's tasks — Kafka
    /// Streams' `store(StoreQueryParameters.fromNameAndType(name, keyValueStore()))`. A
    /// timestamped store can be read this way too (values without their timestamps).
    ///
    /// Fails at once if the topology has no such store or it is of another kind; other key or
    /// value types than declared are reported by the first query. The handle can be made
    /// before [`start`](Self::start); its queries then answer [`QueryError::NotRunning`] until
    /// the application runs, and [`QueryError::StoreNotReady`] (retryable) while it
    /// rebalances or a task holding the store restores it. A query waits for the stream
    /// threads — about `poll.ms` when idle — at most `default.api.timeout.ms`
    /// ([`with_timeout`](ReadOnlyKeyValueStore::with_timeout) changes it).
    ///
    /// ```no_run
    /// # use streams_core::runtime::KafkaStreams;
    /// # fn query(streams: &KafkaStreams) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let counts = streams.store::<String, i64>("counts")?;
    /// loop {
    ///     match counts.get(&"kafka".to_string()) {
    ///         Ok(count) => break println!("kafka: {count:?}"),
    ///         Err(e) if e.is_retryable() => std::thread::sleep(Duration::from_millis(100)),
    ///         Err(e) => return Err(e.into()),
    ///     }
    /// }
    /// let everything: Vec<(String, i64)> = counts.all()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn store<K, V>(&self, name: &str) -> Result<ReadOnlyKeyValueStore<K, V>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query = self.queries.handle(
            name,
            &[StoreKind::KeyValue, StoreKind::TimestampedKeyValue],
            types::<K, V>("key-value store"),
        )?;
        Ok(ReadOnlyKeyValueStore {
            query,
            types: PhantomData,
        })
    }

    /// A read-only view of timestamped key-value store `name` (values with the timestamp of
    /// the record that wrote them) — Kafka Streams' `timestampedKeyValueStore()` query type.
    /// As [`store`](Self::store) otherwise.
    pub fn timestamped_store<K, V>(
        &self,
        name: &str,
    ) -> Result<ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query = self.queries.handle(
            name,
            &[StoreKind::TimestampedKeyValue],
            types::<K, V>("timestamped key-value store"),
        )?;
        Ok(ReadOnlyKeyValueStore {
            query,
            types: PhantomData,
        })
    }

    /// A read-only view of window store `name` across this instance's tasks — Kafka Streams'
    /// `windowStore()` query type. As [`store`](Self::store) otherwise.
    ///
    /// ```no_run
    /// # use streams_core::runtime::KafkaStreams;
    /// # fn query(streams: &KafkaStreams) -> Result<(), Box<dyn std::error::Error>> {
    /// let clicks = streams.window_store::<String, i64>("clicks-per-minute")?;
    /// for (window_start, count) in clicks.fetch(&"alice".to_string(), 0, i64::MAX)? {
    ///     println!("{window_start}: {count}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn window_store<K, V>(&self, name: &str) -> Result<ReadOnlyWindowStore<K, V>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query =
            self.queries
                .handle(name, &[StoreKind::Window], types::<K, V>("window store"))?;
        Ok(ReadOnlyWindowStore {
            query,
            types: PhantomData,
        })
    }

    /// A read-only view of session store `name` across this instance's tasks — Kafka Streams'
    /// `sessionStore()` query type. As [`store`](Self::store) otherwise.
    pub fn session_store<K, V>(&self, name: &str) -> Result<ReadOnlySessionStore<K, V>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query =
            self.queries
                .handle(name, &[StoreKind::Session], types::<K, V>("session store"))?;
        Ok(ReadOnlySessionStore {
            query,
            types: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests;
