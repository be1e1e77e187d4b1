//! Interactive queries: read-only views of a running application's state stores, across the
//! tasks of every local stream thread — Kafka Streams' `KafkaStreams#store`.
//!
//! Stores live on their stream thread (they are `Rc`-based, not `Send`), so a query never
//! touches them from the caller's thread: it sends a read to every stream thread, each thread
//! runs it against its tasks' stores between two turns of its step loop (after processing, so
//! it sees every record processed so far, committed or not), and the caller merges the
//! answers. An idle thread answers within a few milliseconds (it polls in 5 ms slices); a busy
//! one after its current step (at most 1000 records per task, or a commit).

mod error;
mod handles;

use std::any::{Any, type_name};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::path::PathBuf;

use crate::processor::TaskId;
use crate::state::global::{GlobalAccess, GlobalEngines};
use crate::state::{StoreContext, StoreError, StoreKind, StoreRegistry, query_reads};
use crate::topology::Topology;
use crate::topology::instance::global_store_views;

use super::global_thread::{GlobalPhase, GlobalStatus};
use super::state::{Shared, StreamsState};
use super::stream_task::StreamTask;

use error::not_ready;
pub use error::{NotReadyReason, QueryError};
pub use handles::{ReadOnlyKeyValueStore, ReadOnlySessionStore, ReadOnlyWindowStore};

/// What a query reads of one task.
pub(crate) struct TaskView<'a> {
    pub(crate) id: TaskId,
    pub(crate) stores: &'a StoreRegistry,
    pub(crate) restoring: bool,
}

/// A read sent to a stream thread, run against its tasks.
pub(crate) type QueryJob = Box<dyn FnOnce(&[TaskView<'_>]) + Send>;

/// Runs the queries waiting for this stream thread against its active tasks; the step loop calls
/// it once per turn.
pub(crate) fn serve(jobs: &Receiver<QueryJob>, tasks: &[StreamTask]) {
    while let Ok(job) = jobs.try_recv() {
        let views: Vec<TaskView<'_>> = tasks
            .iter()
            .map(|t| TaskView {
                id: t.id,
                stores: t.stores(),
                restoring: t.is_restoring(),
            })
            .collect();
        job(&views);
    }
}

/// What queries of global stores read: the instance's engines of them, directly from the
/// caller's thread (they are thread-safe), once the global thread has restored them.
pub(crate) struct GlobalQueries {
    pub(crate) topology: Topology,
    pub(crate) application_id: String,
    pub(crate) state_dir: PathBuf,
    pub(crate) engines: GlobalEngines,
    pub(crate) status: Arc<GlobalStatus>,
}

/// Sends queries to the stream threads of one [`KafkaStreams`](super::KafkaStreams).
pub(crate) struct QueryRouter {
    shared: Arc<Shared>,
    /// The topology's stores.
    stores: Vec<(String, StoreKind)>,
    threads: Mutex<Vec<Sender<QueryJob>>>,
    timeout: Duration,
    /// The global stores, if there are some.
    global: Option<GlobalQueries>,
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
            global: None,
        }
    }

    /// Answers queries of global stores from `global`.
    pub(crate) fn with_global(mut self, global: Option<GlobalQueries>) -> Self {
        self.global = global;
        self
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
        StoreKind::VersionedKeyValue => "versioned key-value store",
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
    /// other types) and returns the results in task order. A global store is read once, here.
    fn per_task<R, F>(&self, read: F) -> Result<Vec<R>, QueryError>
    where
        R: Send + 'static,
        F: Fn(&dyn Any) -> Option<Result<R, StoreError>> + Clone + Send + 'static,
    {
        let store = &*self.target.store;
        if let Some(global) = &self.router.global
            && global.topology.is_global_store(store)
        {
            return self.global_read(global, &read);
        }
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

    /// Reads a global store on the caller's thread: every instance has all of it, and its
    /// engine is thread-safe. Answers in `Running` and `Rebalancing` (global stores do not
    /// move), once the global thread has restored them.
    fn global_read<R>(
        &self,
        global: &GlobalQueries,
        read: &impl Fn(&dyn Any) -> Option<Result<R, StoreError>>,
    ) -> Result<Vec<R>, QueryError> {
        let store = &*self.target.store;
        let state = self.router.shared.state();
        if !state.is_running_or_rebalancing() {
            return Err(QueryError::NotRunning { state });
        }
        if global.status.phase() != GlobalPhase::Running {
            return Err(not_ready(store, NotReadyReason::GlobalRestoring));
        }
        let context = StoreContext::global(
            global.application_id.as_str(),
            &global.state_dir,
            GlobalAccess {
                engines: global.engines.clone(),
                writable: false,
            },
        );
        let answer = catch_unwind(AssertUnwindSafe(|| {
            query_reads(|| {
                let views = global_store_views(&global.topology, &context)?;
                let view = TaskView {
                    id: TaskId::GLOBAL,
                    stores: &views,
                    restoring: false,
                };
                self.target.answer(&[view], read)
            })
        }))
        .unwrap_or_else(|panic| {
            Err(QueryError::Panic {
                store: store.to_string(),
                message: panic_message(&*panic),
            })
        })?;
        Ok(answer.into_iter().map(|(_, r)| r).collect())
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

#[cfg(test)]
mod tests;
