//! A stream thread's tasks: which task reads which partition, taking consumed records in,
//! processing and punctuating, restoring, creating and closing tasks.
//!
//! The other jobs on the same tasks each have a file: what a rebalance does to them
//! ([`rebalance`]), committing them and the producer's delivery reports ([`commit`]), and
//! the metrics snapshot they publish ([`metrics`]). The stream thread owns its task manager and
//! drives it from its step loop; tasks hold `Rc`-based processor graphs, so they never leave
//! their thread.

mod commit;
use commit::PendingCommit;
mod metrics;
mod rebalance;

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::message::{BorrowedMessage, Headers as _, Message};
use tracing::{debug, info};

use crate::config::StreamsConfig;
use crate::error::StreamsError;
use crate::processor::TaskId;
use crate::record::Headers;
#[cfg(feature = "rocksdb")]
use crate::state::RocksDbMemory;
use crate::state::{RecordCache, StoreContext, StoreRegistry};
use crate::topology::Topology;

use super::RuntimeError;
use super::changelog::KafkaChangelog;
use super::collector::{KafkaCollector, Producer, ProductionHandlers};
use super::consumer::StreamConsumer;
use super::metrics::{CommitStats, RateMeter};
use super::partition_group::Fetch;
use super::partitions::{PartitionMap, TopicPartition};
use super::restore::Restorer;
use super::state::{Shared, ThreadState};
use super::stream_task::{
    Changelog, Handlers, Input, InputLimits, StreamTask, TaskStores, system_time_ms,
};
use super::topics::{changelogged_stores, stores_of};

/// Records processed per task per step, so one busy task does not starve the others.
const PROCESS_LIMIT: usize = 1000;

/// At least how long a commit waits for the producer to flush.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(330);

/// How long a step restores state before the thread polls its consumer again.
const RESTORE_SLICE: Duration = Duration::from_millis(100);

/// Counts kept over the thread's life (tasks come and go).
struct Counts {
    processed: u64,
    /// Skipped by closed tasks (active tasks keep their own count).
    skipped: u64,
    /// Dropped on purpose by the operators of closed tasks (`dropped-records`).
    operator_dropped: u64,
    /// Dropped by a `continue` production handler, shared with the collectors.
    dropped: Arc<AtomicU64>,
    rate: RateMeter,
    commits: CommitStats,
    /// Revocations that could not commit (the assignment was lost, or the commit failed).
    uncommitted_revocations: u64,
    /// Failed transactions, aborted (exactly-once).
    aborted_transactions: u64,
    /// Times the production handler said retry.
    production_retries: u64,
}

/// A stream thread's producer, and under exactly-once how to make it again.
pub(crate) struct ThreadProducer {
    pub(crate) producer: Arc<Producer>,
    /// The transactional producer's config (exactly-once), to replace it after a fatal error.
    pub(crate) transactional_config: Option<rdkafka::ClientConfig>,
}

/// The tasks of one stream thread — Kafka Streams' `TaskManager`.
///
/// Active tasks process; suspended ones (revoked, in-memory state only) wait for the next
/// assignment, which resumes them if they are still this thread's, else closes them.
pub(crate) struct TaskManager {
    thread: usize,
    name: Arc<str>,
    topology: Topology,
    application_id: Arc<str>,
    producer: Arc<Producer>,
    production: ProductionHandlers,
    handlers: Handlers,
    limits: InputLimits,
    flush_timeout: Duration,
    commit_interval: Duration,
    /// How long client calls are retried (`default.api.timeout.ms`).
    api_timeout: Duration,
    /// Where a partition the group never committed starts.
    offset_reset: crate::config::AutoOffsetReset,
    /// The thread is asked to stop: waits for the broker give up.
    shutdown: Arc<std::sync::atomic::AtomicBool>,
    shared: Arc<Shared>,
    active: Vec<StreamTask>,
    suspended: Vec<StreamTask>,
    /// (task index in `active`, input index) of each assigned partition.
    routes: PartitionMap<(usize, usize)>,
    /// The thread failed: tasks are closed without a commit or a checkpoint.
    failed: bool,
    counts: Counts,
    last_commit: Instant,
    /// An at-least-once commit waiting for its records' acknowledgements.
    pending: Option<PendingCommit>,
    last_publish: Instant,
    state_dir: std::path::PathBuf,
    #[cfg(feature = "rocksdb")]
    rocksdb: RocksDbMemory,
    cache: RecordCache,
    restorer: Restorer,
    /// `exactly_once_v2`: commits are transactions.
    exactly_once: bool,
    /// How long a transactional call may take (`transaction.timeout.ms`).
    transaction_timeout: Duration,
    /// How to make the producer again after a fatal transaction error (exactly-once).
    producer_config: Option<rdkafka::ClientConfig>,
    /// Read-only handles on the instance's global stores, shared by the thread's tasks.
    globals: Option<Rc<StoreRegistry>>,
}

impl TaskManager {
    pub(crate) fn new(
        thread: usize,
        name: Arc<str>,
        topology: Topology,
        config: &StreamsConfig,
        producer: ThreadProducer,
        shared: Arc<Shared>,
        restorer: Restorer,
    ) -> Self {
        let ThreadProducer {
            producer,
            transactional_config: producer_config,
        } = producer;
        let now = Instant::now();
        let threads = config.num_stream_threads().max(1);
        TaskManager {
            thread,
            name,
            topology,
            application_id: Arc::from(config.application_id()),
            producer,
            production: ProductionHandlers {
                named: config.production_handler(),
                user: config.user_handlers().production.clone(),
            },
            handlers: Handlers::from_config(config),
            limits: InputLimits {
                max_idle_ms: config.max_task_idle_ms(),
                buffered_max: config.buffered_records_per_partition(),
                outer_join_emit_interval_ms: config.outer_join_emit_interval_ms(),
            },
            // A commit waits until every record sent is acknowledged or failed, as Kafka
            // Streams' flush does: each record fails on its own after librdkafka's
            // `message.timeout.ms` (5 min by default), so wait a little longer than that.
            flush_timeout: config.api_timeout().max(FLUSH_TIMEOUT),
            commit_interval: config.commit_interval(),
            api_timeout: config.api_timeout(),
            offset_reset: config.auto_offset_reset(),
            shutdown: Arc::default(),
            shared,
            active: Vec::new(),
            suspended: Vec::new(),
            routes: PartitionMap::default(),
            failed: false,
            counts: Counts {
                processed: 0,
                skipped: 0,
                operator_dropped: 0,
                dropped: Arc::new(AtomicU64::new(0)),
                rate: RateMeter::new(now),
                commits: CommitStats::default(),
                uncommitted_revocations: 0,
                aborted_transactions: 0,
                production_retries: 0,
            },
            last_commit: now,
            pending: None,
            last_publish: now,
            state_dir: config.state_dir().to_path_buf(),
            #[cfg(feature = "rocksdb")]
            rocksdb: RocksDbMemory::process_wide(config.rocksdb_memory_max_bytes()),
            cache: RecordCache::new(config.statestore_cache_max_bytes() / threads),
            restorer,
            exactly_once: config.processing_guarantee().is_exactly_once(),
            transaction_timeout: config
                .transaction_timeout()
                .unwrap_or(Duration::from_secs(10)),
            producer_config,
            globals: None,
        }
    }

    /// Waits for the broker give up once `shutdown` is set (the thread's stop flag).
    pub(crate) fn stop_waiting_on(&mut self, shutdown: Arc<std::sync::atomic::AtomicBool>) {
        self.shutdown = shutdown;
    }

    /// Gives every task made from now on read-only handles on the global stores.
    pub(crate) fn set_global_stores(&mut self, views: Rc<StoreRegistry>) {
        self.globals = Some(views);
    }

    /// The active tasks.
    pub(crate) fn tasks(&self) -> &[StreamTask] {
        &self.active
    }

    /// The thread failed: from now on tasks close without committing.
    pub(crate) fn fail(&mut self) {
        self.failed = true;
    }

    fn rebuild_routes(&mut self) {
        self.routes.clear();
        for (t, task) in self.active.iter().enumerate() {
            for (i, p) in task.inputs.partitions.iter().enumerate() {
                self.routes.insert(&p.topic, p.partition, (t, i));
            }
        }
    }

    /// Takes a consumed record: processes it at once if its task has a single input and
    /// nothing buffered, else buffers it in its task.
    pub(crate) fn add(
        &mut self,
        message: &BorrowedMessage<'_>,
        fetch: &impl Fetch,
    ) -> Result<(), RuntimeError> {
        let Some(&(t, i)) = self.routes.get(message.topic(), message.partition()) else {
            debug!(
                topic = message.topic(),
                partition = message.partition(),
                "dropping a record of a partition no longer assigned"
            );
            return Ok(());
        };
        let headers = message.headers().map_or_else(Headers::new, |h| {
            h.iter()
                .map(|h| crate::record::Header {
                    key: h.key.to_string(),
                    value: h.value.map(<[u8]>::to_vec),
                })
                .collect()
        });
        let input = Input {
            offset: message.offset(),
            timestamp: message.timestamp().to_millis().unwrap_or(-1),
            key: message.key(),
            value: message.payload(),
            headers,
        };
        let task = &mut self.active[t];
        if task.can_process_directly() {
            task.process(i, input, &self.handlers)?;
            self.counts.processed += 1;
            self.counts.rate.record(1);
        } else {
            task.buffer(i, input, fetch);
        }
        Ok(())
    }

    /// Whether any task has records buffered.
    pub(crate) fn has_buffered(&self) -> bool {
        self.active.iter().any(|t| t.buffered() > 0)
    }

    /// Processes buffered records (up to [`PROCESS_LIMIT`] per task), fetching again what
    /// processing drained; returns how many it processed.
    pub(crate) fn process(&mut self, consumer: &StreamConsumer) -> Result<usize, RuntimeError> {
        let now = Instant::now();
        let context = consumer.context();
        let fetched = |topic: &str, partition: i32| context.fetched(topic, partition);
        let mut processed = 0;
        for task in self.active.iter_mut().filter(|t| !t.is_restoring()) {
            if task.buffered() > 0 {
                processed += task.process_buffered(now, &fetched, PROCESS_LIMIT, &self.handlers)?;
                task.resume_drained(consumer);
            }
        }
        self.counts.processed += processed as u64;
        self.counts.rate.record(processed as u64);
        Ok(processed)
    }

    /// Fires due wall-clock punctuations; returns whether a processor asked for a commit.
    pub(crate) fn punctuate(&mut self) -> Result<bool, RuntimeError> {
        let now_ms = system_time_ms();
        let mut commit_requested = false;
        for task in self.active.iter_mut().filter(|t| !t.is_restoring()) {
            task.punctuate_wall_clock(now_ms, &self.handlers)?;
            commit_requested |= task.take_commit_request();
        }
        Ok(commit_requested)
    }

    /// Restores for a slice of time; tasks done restoring fetch their inputs and start
    /// processing, and the thread runs once none is left. Returns whether restoration goes on.
    pub(crate) fn restore(&mut self, consumer: &StreamConsumer) -> Result<bool, RuntimeError> {
        if !self.restorer.is_active() {
            return Ok(false);
        }
        let restored = self.restorer.restore(&self.active, RESTORE_SLICE)?;
        for (id, topic, partition, end) in restored.partitions {
            if let Some(task) = self.active.iter_mut().find(|t| t.id == id) {
                task.restored_to(&topic, partition, end);
            }
        }
        for id in restored.tasks {
            if let Some(task) = self.active.iter_mut().find(|t| t.id == id) {
                task.finish_restoring(consumer)?;
                info!(thread = %self.name, task = %id, "task restored; processing");
            }
        }
        self.run_if_restored();
        Ok(self.restorer.is_active())
    }

    /// The thread is running once every task restored its state (until then it stays
    /// `PartitionsAssigned`, and the application `Rebalancing`, as in Kafka Streams).
    fn run_if_restored(&self) {
        if !self.active.iter().any(StreamTask::is_restoring) {
            self.shared
                .set_thread_state(self.thread, ThreadState::Running);
        }
    }

    fn create_task(
        &self,
        id: TaskId,
        partitions: &[TopicPartition],
    ) -> Result<StreamTask, RuntimeError> {
        let group = self
            .topology
            .groups()
            .iter()
            .find(|g| g.id == id.subtopology)
            .ok_or_else(|| RuntimeError::Task {
                task: id,
                source: StreamsError::Instantiate {
                    task: id,
                    reason: format!("the topology has no sub-topology {}", id.subtopology),
                },
            })?;
        let collector = KafkaCollector {
            producer: Arc::clone(&self.producer),
            handlers: self.production.clone(),
            dropped: Arc::clone(&self.counts.dropped),
            partition_counts: HashMap::new(),
        };
        let changelogs: Vec<Changelog> = changelogged_stores(&self.topology, &group.nodes)
            .map(|store| Changelog {
                store: store.name().to_string(),
                topic: store.changelog_topic(&self.application_id),
                partition: id.partition,
                persistent: store.persistent(),
            })
            .collect();
        let now = Rc::new(Cell::new(0));
        let sink = KafkaChangelog::new(
            Arc::clone(&self.producer),
            id.partition,
            changelogs
                .iter()
                .map(|c| (c.store.clone(), c.topic.clone()))
                .collect(),
            Rc::clone(&now),
        );
        let context = StoreContext::new(id, Arc::clone(&self.application_id), &self.state_dir);
        #[cfg(feature = "rocksdb")]
        let context = context.with_rocksdb_memory(self.rocksdb.clone());
        let context = context
            .with_record_cache(self.cache.clone())
            .with_changelog(Rc::new(sink));
        let partitions: Vec<(Arc<str>, i32)> = partitions
            .iter()
            .map(|p| (Arc::clone(&p.topic), p.partition))
            .collect();
        debug!(task = %id, "creating task");
        StreamTask::new(
            id,
            &self.topology,
            &group.nodes,
            &partitions,
            Box::new(collector),
            self.limits,
            TaskStores {
                context,
                now,
                changelogs,
                persistent: stores_of(&self.topology, &group.nodes).any(|s| s.persistent()),
                exactly_once: self.exactly_once,
                globals: self.globals.clone(),
            },
        )
    }

    /// Closes every task: `clean` after the final commit, with a checkpoint; else (the thread
    /// failed, the assignment was lost) without one.
    pub(crate) fn close_all(&mut self, fetch: &impl Fetch, clean: bool) {
        self.pending = None;
        if self.exactly_once
            && (!clean || self.failed)
            && let Err(e) = super::transaction::abort(&self.producer, self.transaction_timeout)
        {
            tracing::warn!(thread = %self.name, error = %e, "aborting the transaction failed");
        }
        if clean
            && !self.failed
            && let Err(e) = self.checkpoint(true)
        {
            tracing::error!(thread = %self.name, error = %e, "final checkpoint failed");
        }
        let tasks: Vec<StreamTask> = self
            .active
            .drain(..)
            .chain(self.suspended.drain(..))
            .collect();
        for task in tasks {
            if clean && !self.failed {
                self.retire(task, fetch);
            } else {
                self.retire_dirty(task, fetch);
            }
        }
        self.routes.clear();
    }

    /// Closes a task: it stops restoring, releases its partitions, and its counts stay in the
    /// thread's.
    fn retire(&mut self, mut task: StreamTask, fetch: &impl Fetch) {
        debug!(task = %task.id, "closing task");
        self.restorer.remove_task(task.id);
        task.leave(fetch);
        task.close();
        self.counts.skipped += task.skipped;
        self.counts.operator_dropped += task.dropped_records();
    }

    /// Closes a task whose state may hold writes of an aborted transaction: under exactly-once
    /// its local state is wiped (it is restored from the changelog, where those writes were
    /// aborted, when the task is made again).
    fn retire_dirty(&mut self, task: StreamTask, fetch: &impl Fetch) {
        let wipe = self.exactly_once.then(|| task.state_dir());
        let id = task.id;
        self.retire(task, fetch);
        if let Some(dir) = wipe {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => debug!(task = %id, "wiped the task's state after a dirty close"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(task = %id, error = %e, dir = %dir.display(),
                    "could not wipe the task's state"),
            }
        }
    }
}
