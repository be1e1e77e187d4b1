//! A stream thread's tasks: created on assignment, committed and suspended on revocation
//! (inside the rebalance callback), fed with consumed records, committed every
//! `commit.interval.ms`.
//!
//! Tasks hold `Rc`-based processor graphs, so they never leave their thread. The task manager
//! lives in a thread-local so that the rebalance callbacks, which librdkafka runs inside
//! `poll` on the same thread, can reach it; the step loop never holds it across `poll`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{BorrowedMessage, Headers as _, Message};
use rdkafka::producer::Producer as _;
use tracing::{debug, error, info, warn};

use crate::config::{ProductionHandler, StreamsConfig};
use crate::processor::TaskId;
use crate::record::Headers;
use crate::state::{RecordCache, RocksDbMemory, StoreContext};
use crate::topology::Topology;

use super::RuntimeError;
use super::changelog::KafkaChangelog;
use super::collector::{KafkaCollector, Producer, flush};
use super::consumer::StreamConsumer;
use super::metrics::{CommitStats, RateMeter, ThreadMetrics};
use super::partition_group::OwnedRecord;
use super::restore::Restorer;
use super::state::{Shared, ThreadState};
use super::task::{Changelog, Handlers, Input, StreamTask, TaskStores, system_time_ms};
use super::topics::{changelogged_stores, stores_of};

thread_local! {
    static TASK_MANAGER: RefCell<Option<TaskManager>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's task manager, if it has one and it is not in use.
pub(crate) fn with_task_manager<R>(f: impl FnOnce(&mut TaskManager) -> R) -> Option<R> {
    TASK_MANAGER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut tm) => tm.as_mut().map(f),
        Err(_) => {
            error!("the task manager is in use (re-entrant call); this is a bug");
            None
        }
    })
}

/// Installs this thread's task manager.
pub(crate) fn install(tm: TaskManager) {
    TASK_MANAGER.with(|cell| *cell.borrow_mut() = Some(tm));
}

/// Removes this thread's task manager.
pub(crate) fn uninstall() -> Option<TaskManager> {
    TASK_MANAGER.with(|cell| cell.borrow_mut().take())
}

/// Records processed per task per step, so one busy task does not starve the others.
const PROCESS_LIMIT: usize = 1000;

/// At least how long a commit waits for the producer to flush.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(330);

/// How long a step restores state before the thread polls its consumer again.
const RESTORE_SLICE: Duration = Duration::from_millis(100);

/// Where a (topic, partition) goes: task index and input index.
type Routes = Vec<(Arc<str>, Vec<Option<(usize, usize)>>)>;

pub(crate) struct TaskManager {
    thread: usize,
    name: Arc<str>,
    topology: Topology,
    application_id: Arc<str>,
    producer: Arc<Producer>,
    production_handler: ProductionHandler,
    handlers: Handlers,
    max_idle_ms: i64,
    buffered_max: usize,
    flush_timeout: Duration,
    commit_interval: Duration,
    shared: Arc<Shared>,
    active: Vec<StreamTask>,
    suspended: Vec<StreamTask>,
    routes: Routes,
    /// An error raised in a callback, for the step loop to act on.
    fatal: Option<RuntimeError>,
    /// The thread failed: close tasks without committing.
    pub(crate) failed: bool,
    processed: u64,
    skipped: u64,
    dropped: Arc<AtomicU64>,
    rate: RateMeter,
    commits: CommitStats,
    last_commit: Instant,
    last_publish: Instant,
    state_dir: std::path::PathBuf,
    rocksdb: RocksDbMemory,
    cache: RecordCache,
    restorer: Restorer,
}

impl TaskManager {
    pub(crate) fn new(
        thread: usize,
        name: Arc<str>,
        topology: Topology,
        config: &StreamsConfig,
        producer: Arc<Producer>,
        shared: Arc<Shared>,
        restorer: Restorer,
    ) -> Self {
        let now = Instant::now();
        let threads = config.num_stream_threads().max(1);
        TaskManager {
            thread,
            name,
            topology,
            application_id: Arc::from(config.application_id()),
            producer,
            production_handler: config.production_handler(),
            handlers: Handlers {
                deserialization: config.deserialization_handler(),
                processing: config.processing_handler(),
            },
            max_idle_ms: config.max_task_idle_ms(),
            buffered_max: config.buffered_records_per_partition(),
            // A commit waits until every record sent is acknowledged or failed, as Kafka
            // Streams' flush does: each record fails on its own after librdkafka's
            // `message.timeout.ms` (5 min by default), so wait a little longer than that.
            flush_timeout: config.api_timeout().max(FLUSH_TIMEOUT),
            commit_interval: config.commit_interval(),
            shared,
            active: Vec::new(),
            suspended: Vec::new(),
            routes: Vec::new(),
            fatal: None,
            failed: false,
            processed: 0,
            skipped: 0,
            dropped: Arc::new(AtomicU64::new(0)),
            rate: RateMeter::new(now),
            commits: CommitStats::default(),
            last_commit: now,
            last_publish: now,
            state_dir: config.state_dir().to_path_buf(),
            rocksdb: RocksDbMemory::process_wide(config.rocksdb_memory_max_bytes()),
            cache: RecordCache::new(config.statestore_cache_max_bytes() / threads),
            restorer,
        }
    }

    /// The active tasks.
    pub(crate) fn tasks(&self) -> &[StreamTask] {
        &self.active
    }

    fn route(&self, topic: &str, partition: i32) -> Option<(usize, usize)> {
        let (_, slots) = self.routes.iter().find(|(t, _)| **t == *topic)?;
        slots
            .get(usize::try_from(partition).ok()?)
            .copied()
            .flatten()
    }

    fn rebuild_routes(&mut self) {
        self.routes.clear();
        for (t, task) in self.active.iter().enumerate() {
            for (i, p) in task.inputs.partitions.iter().enumerate() {
                let Ok(slot) = usize::try_from(p.partition) else {
                    continue;
                };
                let at = match self.routes.iter().position(|(topic, _)| *topic == p.topic) {
                    Some(at) => at,
                    None => {
                        self.routes.push((Arc::clone(&p.topic), Vec::new()));
                        self.routes.len() - 1
                    }
                };
                let slots = &mut self.routes[at].1;
                if slots.len() <= slot {
                    slots.resize(slot + 1, None);
                }
                slots[slot] = Some((t, i));
            }
        }
    }

    /// Takes a consumed record: processes it at once if its task has a single input and
    /// nothing buffered, else buffers it (pausing the partition when its buffer is full).
    pub(crate) fn add(
        &mut self,
        message: &BorrowedMessage<'_>,
        consumer: &StreamConsumer,
    ) -> Result<(), RuntimeError> {
        let Some((t, i)) = self.route(message.topic(), message.partition()) else {
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
        let timestamp = message.timestamp().to_millis().unwrap_or(-1);
        let task = &mut self.active[t];
        if task.can_process_directly() {
            let input = Input {
                offset: message.offset(),
                timestamp,
                key: message.key(),
                value: message.payload(),
                headers,
            };
            task.process(i, input, &self.handlers)?;
            self.processed += 1;
            self.rate.record(1);
            return Ok(());
        }
        let extracted = task.ordering_timestamp(i, message.key(), message.payload(), timestamp);
        let partition = &mut task.inputs.partitions[i];
        partition.queue.push_back(OwnedRecord {
            offset: message.offset(),
            timestamp,
            extracted,
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers,
        });
        if partition.queue.len() >= self.buffered_max && !partition.paused {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition(&partition.topic, partition.partition);
            if consumer.pause(&tpl).is_ok() {
                partition.paused = true;
            }
        }
        Ok(())
    }

    /// Whether any task has records buffered.
    pub(crate) fn has_buffered(&self) -> bool {
        self.active.iter().any(|t| t.inputs.buffered() > 0)
    }

    /// One turn of the step loop after polling: process buffered records, punctuate by wall
    /// clock, serve delivery reports, commit when due, publish metrics. Returns how many
    /// records it processed (at least 1 while restoring: the thread is busy).
    pub(crate) fn step(&mut self, consumer: &StreamConsumer) -> Result<usize, RuntimeError> {
        if let Some(e) = self.fatal.take() {
            return Err(e);
        }
        let now = Instant::now();
        let context = consumer.context();
        let end_offset = |topic: &str, partition: i32| context.end_offset(topic, partition);
        if self.restorer.is_active() {
            self.restore()?;
        }
        let mut processed = 0;
        let mut commit_requested = false;
        for task in &mut self.active {
            if task.is_restoring() {
                continue;
            }
            if task.inputs.buffered() > 0 {
                processed +=
                    task.process_buffered(now, &end_offset, PROCESS_LIMIT, &self.handlers)?;
            }
            task.punctuate_wall_clock(system_time_ms(), &self.handlers)?;
            commit_requested |= task.take_commit_request();
            for p in &mut task.inputs.partitions {
                if p.paused && p.queue.len() < self.buffered_max {
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition(&p.topic, p.partition);
                    if consumer.resume(&tpl).is_ok() {
                        p.paused = false;
                    }
                }
            }
        }
        self.processed += processed as u64;
        self.rate.record(processed as u64);
        self.producer.poll(Duration::ZERO);
        self.check_deliveries()?;
        if commit_requested
            || now.saturating_duration_since(self.last_commit) >= self.commit_interval
        {
            self.commit(consumer)?;
        }
        if now.saturating_duration_since(self.last_publish) >= Duration::from_secs(1) {
            self.publish(consumer, None);
        }
        // While restoring, report work done so that the loop's next poll does not wait.
        Ok(processed.max(usize::from(self.restorer.is_active())))
    }

    /// Restores for a slice of time; tasks done restoring start processing.
    fn restore(&mut self) -> Result<(), RuntimeError> {
        let restored = self.restorer.restore(&self.active, RESTORE_SLICE)?;
        for (id, topic, partition, end) in restored.partitions {
            if let Some(task) = self.active.iter_mut().find(|t| t.id == id) {
                task.restored_to(&topic, partition, end);
            }
        }
        for id in restored.tasks {
            let Some(task) = self.active.iter_mut().find(|t| t.id == id) else {
                continue;
            };
            task.finish_restoring()?;
            // Its inputs were paused while restoring; the step resumes them.
            info!(thread = %self.name, task = %id, "task restored; processing");
        }
        Ok(())
    }

    /// Applies the production handler to failed deliveries.
    fn check_deliveries(&mut self) -> Result<(), RuntimeError> {
        for failure in self.producer.context().take_failures() {
            match self.production_handler {
                ProductionHandler::Fail => {
                    self.failed = true;
                    return Err(RuntimeError::Production {
                        topic: failure.topic,
                        reason: failure.reason,
                    });
                }
                ProductionHandler::Continue => {
                    error!(topic = %failure.topic, reason = %failure.reason,
                        "dropping an undelivered record (production.exception.handler = continue)");
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }

    /// At-least-once commit: flush the producer, check deliveries, then commit the offsets
    /// after the last processed record of every input partition, synchronously (Kafka Streams'
    /// `commitSync`).
    ///
    /// Asynchronous periodic commits were tried (the stream thread stops less long: p99
    /// latency at 30 000 rec/s went 285 → 52 ms, BENCHMARKS.md) and put back when a
    /// real-broker test stalled (a thread never fetched partitions assigned in a rebalance).
    /// The same stall shows with synchronous commits on a loaded machine, so they were not its
    /// cause; they stay synchronous until a rebalance-aware asynchronous path exists
    /// (librdkafka has known stalls with a commit in flight during a rebalance:
    /// confluentinc/librdkafka#1605, #2933).
    pub(crate) fn commit(&mut self, consumer: &StreamConsumer) -> Result<(), RuntimeError> {
        let start = Instant::now();
        self.last_commit = start;
        for task in &mut self.active {
            task.commit_stores()?;
        }
        flush(&self.producer, self.flush_timeout)
            .map_err(|e| RuntimeError::Commit(format!("flushing the producer: {e}")))?;
        self.check_deliveries()?;
        let mut tpl = TopicPartitionList::new();
        for task in &self.active {
            for (topic, partition, offset) in task.uncommitted() {
                if let Err(e) = tpl.add_partition_offset(topic, partition, Offset::Offset(offset)) {
                    warn!(topic, partition, error = %e, "cannot add an offset to commit");
                }
            }
        }
        self.checkpoint(false)?;
        if tpl.count() == 0 {
            return Ok(());
        }
        match consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => {
                for task in &mut self.active {
                    task.mark_committed();
                }
                let latency = start.elapsed();
                self.commits.record(latency);
                debug!(thread = %self.name, partitions = tpl.count(), ?latency, "committed");
                Ok(())
            }
            Err(e) => {
                let code = e.rdkafka_error_code();
                if matches!(
                    code,
                    Some(
                        RDKafkaErrorCode::GroupAuthorizationFailed
                            | RDKafkaErrorCode::TopicAuthorizationFailed
                            | RDKafkaErrorCode::Fatal
                    )
                ) {
                    return Err(RuntimeError::Commit(e.to_string()));
                }
                // Usually a rebalance in progress: the tasks migrate, their records since the
                // last commit will be processed again (at-least-once).
                warn!(thread = %self.name, error = %e, "offset commit failed; will retry");
                Ok(())
            }
        }
    }

    /// Checkpoints the tasks' persistent stores (every [`super::task`] checkpoint delta, or
    /// always if `force`), after the producer was flushed.
    fn checkpoint(&mut self, force: bool) -> Result<(), RuntimeError> {
        for task in &mut self.active {
            checkpoint_task(&self.producer, task, force)?;
        }
        Ok(())
    }

    /// Rebalance: partitions are being taken away. Commit, then suspend the affected tasks
    /// (kept, in case they come back in the next assignment).
    pub(crate) fn on_revoked(
        &mut self,
        consumer: &StreamConsumer,
        partitions: &TopicPartitionList,
    ) {
        info!(thread = %self.name, partitions = partitions.count(), "partitions revoked");
        self.shared
            .set_thread_state(self.thread, ThreadState::PartitionsRevoked);
        if self.failed || std::thread::panicking() || consumer.assignment_lost() {
            warn!(thread = %self.name, "closing tasks without committing");
            self.close_all();
            return;
        }
        if let Err(e) = self.commit(consumer) {
            error!(thread = %self.name, error = %e, "commit on revocation failed");
            self.failed = true;
            self.fatal = Some(e);
        }
        let revoked: Vec<(String, i32)> = partitions
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        let (keep, suspend): (Vec<StreamTask>, Vec<StreamTask>) =
            self.active.drain(..).partition(|task| {
                !task.inputs.partitions.iter().any(|p| {
                    revoked
                        .iter()
                        .any(|(t, n)| *n == p.partition && **t == *p.topic)
                })
            });
        self.active = keep;
        for mut task in suspend {
            if !task.has_persistent_stores() {
                debug!(task = %task.id, "suspending task");
                task.clear_buffers();
                self.suspended.push(task);
            } else {
                // A task with RocksDB stores is closed, never kept: another thread of this
                // process may be assigned it next, and must find its state directory free.
                self.restorer.remove_task(task.id);
                if !self.failed
                    && let Err(e) = checkpoint_task(&self.producer, &mut task, true)
                {
                    error!(task = %task.id, error = %e, "checkpoint on revocation failed");
                }
                self.retire(task);
            }
        }
        self.rebuild_routes();
        self.publish(consumer, None);
    }

    /// Rebalance: partitions were assigned. Resume suspended tasks that are ours again,
    /// close the others, create the new ones.
    pub(crate) fn on_assigned(
        &mut self,
        consumer: &StreamConsumer,
        partitions: &TopicPartitionList,
    ) {
        self.shared
            .set_thread_state(self.thread, ThreadState::PartitionsAssigned);
        let mut wanted: BTreeMap<TaskId, Vec<(Arc<str>, i32)>> = BTreeMap::new();
        let groups = self.topology.groups();
        for e in partitions.elements() {
            let Some(group) = subtopology_of(&self.topology, e.topic()) else {
                warn!(topic = e.topic(), "assigned a topic no source reads");
                continue;
            };
            let id = TaskId {
                subtopology: groups[group].id,
                partition: e.partition(),
            };
            wanted
                .entry(id)
                .or_default()
                .push((Arc::from(e.topic()), e.partition()));
        }
        for (id, parts) in wanted {
            if self.active.iter().any(|t| t.id == id) {
                continue;
            }
            if let Some(at) = self.suspended.iter().position(|t| t.id == id) {
                let task = self.suspended.swap_remove(at);
                let same = task.inputs.partitions.len() == parts.len()
                    && parts.iter().all(|(t, p)| task.input_index(t, *p).is_some());
                if same {
                    debug!(task = %id, "resuming task");
                    self.active.push(task);
                    continue;
                }
                self.retire(task);
            }
            match self.create_task(id, &parts) {
                Ok(mut task) => {
                    if task.is_restoring() {
                        self.start_restoring(&mut task, consumer);
                    }
                    self.active.push(task);
                }
                Err(e) => {
                    error!(task = %id, error = %e, "cannot create task");
                    self.failed = true;
                    self.fatal = Some(e);
                    break;
                }
            }
        }
        let gone: Vec<StreamTask> = self.suspended.drain(..).collect();
        for task in gone {
            self.retire(task);
        }
        self.active.sort_by_key(|t| t.id);
        self.rebuild_routes();
        self.seek_resumed(consumer, partitions);
        info!(thread = %self.name, tasks = ?self.active.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(),
            "partitions assigned");
        self.shared
            .set_thread_state(self.thread, ThreadState::Running);
        self.publish(consumer, None);
    }

    /// Queues a new task's changelog partitions for restoration and pauses its inputs until
    /// it is done.
    fn start_restoring(&mut self, task: &mut StreamTask, consumer: &StreamConsumer) {
        for c in &task.changelogs {
            self.restorer.add(
                task.id,
                &c.store,
                &c.topic,
                c.partition,
                task.restore_from(c),
            );
        }
        let mut tpl = TopicPartitionList::new();
        for p in &task.inputs.partitions {
            tpl.add_partition(&p.topic, p.partition);
        }
        match consumer.pause(&tpl) {
            Ok(()) => task
                .inputs
                .partitions
                .iter_mut()
                .for_each(|p| p.paused = true),
            Err(e) => {
                warn!(task = %task.id, error = %e, "cannot pause the inputs of a restoring task")
            }
        }
    }

    /// A resumed task whose revocation commit failed (e.g. the group was already
    /// rebalancing) has processed past the committed offsets: fetch from its own position, so
    /// its in-memory state does not see those records twice.
    fn seek_resumed(&mut self, consumer: &StreamConsumer, partitions: &TopicPartitionList) {
        let mut tpl = TopicPartitionList::new();
        let mut any = false;
        for e in partitions.elements() {
            let resume = self
                .route(e.topic(), e.partition())
                .and_then(|(t, _)| self.active[t].resume_offset(e.topic(), e.partition()));
            any |= resume.is_some();
            let offset = resume.map_or(Offset::Invalid, Offset::Offset);
            if let Err(err) = tpl.add_partition_offset(e.topic(), e.partition(), offset) {
                warn!(error = %err, "cannot build the resume assignment");
                return;
            }
        }
        if any {
            info!(thread = %self.name, "resuming tasks from their own positions (last commit failed)");
            if let Err(err) = consumer.assign(&tpl) {
                warn!(thread = %self.name, error = %err, "cannot resume from the tasks' positions");
            }
        }
    }

    fn create_task(
        &self,
        id: TaskId,
        partitions: &[(Arc<str>, i32)],
    ) -> Result<StreamTask, RuntimeError> {
        let group = self
            .topology
            .groups()
            .iter()
            .find(|g| g.id == id.subtopology)
            .ok_or_else(|| RuntimeError::Kafka {
                operation: format!("creating task {id}"),
                reason: "no such sub-topology".to_string(),
            })?;
        let collector = KafkaCollector {
            producer: Arc::clone(&self.producer),
            handler: self.production_handler,
            dropped: Arc::clone(&self.dropped),
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
        let context = StoreContext::new(id, Arc::clone(&self.application_id), &self.state_dir)
            .with_rocksdb_memory(self.rocksdb.clone())
            .with_record_cache(self.cache.clone())
            .with_changelog(Rc::new(sink));
        debug!(task = %id, "creating task");
        StreamTask::new(
            id,
            &self.topology,
            &group.nodes,
            partitions,
            Box::new(collector),
            self.max_idle_ms,
            TaskStores {
                context,
                now,
                changelogs,
                persistent: stores_of(&self.topology, &group.nodes).any(|s| s.persistent()),
            },
        )
    }

    /// Closes every task (after the final commit and a checkpoint, or dirty after a failure).
    pub(crate) fn close_all(&mut self) {
        if !self.failed
            && let Err(e) = self.checkpoint(true)
        {
            error!(thread = %self.name, error = %e, "final checkpoint failed");
        }
        for task in &self.active {
            self.restorer.remove_task(task.id);
        }
        let tasks: Vec<StreamTask> = self
            .active
            .drain(..)
            .chain(self.suspended.drain(..))
            .collect();
        for task in tasks {
            self.retire(task);
        }
        self.routes.clear();
    }

    /// Closes a task, keeping its counts in the thread's.
    fn retire(&mut self, mut task: StreamTask) {
        debug!(task = %task.id, "closing task");
        task.close();
        self.skipped += task.skipped;
    }

    /// Flushes the producer at the end (not after a failure).
    pub(crate) fn flush_producer(&self) {
        if let Err(e) = flush(&self.producer, self.flush_timeout) {
            warn!(thread = %self.name, error = %e, "final producer flush failed");
        }
    }

    /// Publishes a metrics snapshot; `state` overrides the thread state shown.
    pub(crate) fn publish(&mut self, consumer: &StreamConsumer, state: Option<ThreadState>) {
        let now = Instant::now();
        self.last_publish = now;
        let context = consumer.context();
        let end_offset = |topic: &str, partition: i32| context.end_offset(topic, partition);
        let tasks = self
            .active
            .iter_mut()
            .map(|t| t.metrics(now, &end_offset))
            .collect();
        let skipped = self.skipped + self.active.iter().map(|t| t.skipped).sum::<u64>();
        let metrics = ThreadMetrics {
            name: self.name.to_string(),
            state: state.unwrap_or(ThreadState::Running),
            records_processed: self.processed,
            process_rate: self.rate.rate(now),
            records_skipped: skipped,
            records_dropped: self.dropped.load(Ordering::Relaxed),
            commits: self.commits.count,
            commit_latency_avg: self.commits.avg(),
            commit_latency_max: self.commits.max,
            tasks,
        };
        let mut inner = self.shared.lock();
        let thread_state = inner.threads.get(self.thread).copied();
        if let Some(slot) = inner.metrics.get_mut(self.thread) {
            *slot = ThreadMetrics {
                state: state.or(thread_state).unwrap_or(metrics.state),
                ..metrics
            };
        }
    }
}

/// Checkpoints `task` with the changelog offsets `producer` saw acknowledged.
fn checkpoint_task(
    producer: &Producer,
    task: &mut StreamTask,
    force: bool,
) -> Result<(), RuntimeError> {
    let reports = producer.context();
    task.maybe_checkpoint(&|t, p| reports.changelog_offset(t, p), force)
}

/// The index (in `topology.groups()`) of the sub-topology that reads `topic`.
fn subtopology_of(topology: &Topology, topic: &str) -> Option<usize> {
    let nodes = topology.nodes();
    topology.groups().iter().position(|g| {
        g.nodes.iter().any(|&i| {
            matches!(&nodes[i].kind, crate::topology::NodeKind::Source { topics }
                if topics.iter().any(|t| t == topic))
        })
    })
}
