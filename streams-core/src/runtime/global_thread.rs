//! The global stream thread — Kafka Streams' `GlobalStreamThread`: one per instance, it keeps
//! the instance's global stores (`GlobalKTable`s, `TopologyBuilder::add_global_store`).
//!
//! At start it reads every partition of every global store's topic with a consumer of its own
//! (partitions assigned by hand, outside the consumer group, never committed), from the store's
//! checkpoint (persistent stores) or from the beginning, up to the end offsets it finds when it
//! starts, through the global stores' processors. Only then does
//! [`KafkaStreams::start`](super::KafkaStreams::start) start the stream threads, so a task never
//! joins with a half-restored table. Then it keeps reading, and every `commit.interval.ms` it
//! flushes the stores and writes the checkpoint `<state.dir>/<application.id>/global/.checkpoint`
//! (the next offset to read of each partition, as Kafka Streams' global checkpoint holds).
//!
//! Its failure fails the instance: the error goes to [`KafkaStreams::error`](super::KafkaStreams::error)
//! as [`RuntimeError::GlobalThread`] and every stream thread stops.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers as _, Message};
use tracing::{error, info, warn};

use crate::config::StreamsConfig;
use crate::config::clients as client;
use crate::error::StreamsError;
use crate::processor::TaskId;
use crate::processor::node::RawRecord;
use crate::processor::task_state::{NoSinks, TaskState};
use crate::record::{Header, Headers};
use crate::state::StoreContext;
use crate::state::global::{GlobalAccess, GlobalEngines};
use crate::topology::instance::TaskGraph;
use crate::topology::{NodeKind, Topology};

use super::checkpoint::{self, Offsets};
use super::partitions::partition_list;
use super::restore::StateRestoreListener;
use super::state::Shared;
use super::stream_task::{Handlers, SystemClock};
use super::{GlobalThreadError, RuntimeError};

/// How long one poll of the global consumer waits: also how soon the thread notices shutdown.
const POLL: Duration = Duration::from_millis(100);

/// Records restored between two `on_batch_restored` calls of the restore listener.
const BATCH: u64 = 10_000;

/// How far the global thread got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlobalPhase {
    /// Reading the global topics up to their end offsets.
    Restoring,
    /// The global stores are restored; keeping them up to date.
    Running,
    /// Stopped after a shutdown.
    Stopped,
    /// Failed (the error is the instance's).
    Failed,
}

/// The global thread's phase, shared with `start`, `close` and interactive queries.
#[derive(Debug)]
pub(crate) struct GlobalStatus {
    phase: Mutex<GlobalPhase>,
    changed: Condvar,
}

impl Default for GlobalStatus {
    fn default() -> Self {
        GlobalStatus {
            phase: Mutex::new(GlobalPhase::Restoring),
            changed: Condvar::new(),
        }
    }
}

impl GlobalStatus {
    fn set(&self, phase: GlobalPhase) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = phase;
        self.changed.notify_all();
    }

    /// The phase now.
    pub(crate) fn phase(&self) -> GlobalPhase {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the phase is no longer `Restoring`, or the deadline; returns the phase.
    pub(crate) fn wait_past_restoring(&self, deadline: Option<Instant>) -> GlobalPhase {
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        while *phase == GlobalPhase::Restoring {
            let wait = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => break,
                },
                None => Duration::from_secs(1),
            };
            phase = match self.changed.wait_timeout(phase, wait) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
        *phase
    }

    /// Waits until the thread ended (`Stopped` or `Failed`), or the deadline; returns whether
    /// it did.
    pub(crate) fn wait_ended(&self, deadline: Instant) -> bool {
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if matches!(*phase, GlobalPhase::Stopped | GlobalPhase::Failed) {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            phase = match self.changed.wait_timeout(phase, left) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// What the global thread needs.
pub(crate) struct GlobalSetup {
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) topology: Topology,
    pub(crate) config: StreamsConfig,
    pub(crate) engines: GlobalEngines,
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: Arc<AtomicBool>,
    pub(crate) status: Arc<GlobalStatus>,
    pub(crate) restore_listener: Option<Arc<dyn StateRestoreListener>>,
}

/// Starts the global thread.
pub(crate) fn spawn(setup: GlobalSetup) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(setup.name.clone())
        .spawn(move || run(&setup))
}

/// The thread's body: restores, then keeps the stores up to date until shutdown; a failure
/// (a panic included) fails the instance.
fn run(setup: &GlobalSetup) {
    info!(thread = %setup.name, "global stream thread starting");
    let result = catch_unwind(AssertUnwindSafe(|| {
        GlobalThread::new(setup).and_then(GlobalThread::run)
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(GlobalThreadError::Panic { message })
    });
    match result {
        Ok(()) => {
            setup.status.set(GlobalPhase::Stopped);
            info!(thread = %setup.name, "global stream thread stopped");
        }
        Err(e) => {
            error!(thread = %setup.name, error = %e, "global stream thread failed");
            // The instance shuts down: the error first, so whoever sees `Failed` finds it.
            setup.shared.fail(RuntimeError::GlobalThread {
                thread: setup.name.clone(),
                source: Box::new(e),
            });
            setup.shutdown.store(true, Ordering::Release);
            setup.status.set(GlobalPhase::Failed);
        }
    }
}

/// One partition of a global topic.
struct GlobalPartition {
    topic: Arc<str>,
    partition: i32,
    store: String,
    /// The next offset to read.
    next: i64,
    /// The end offset found at start (restoration reads up to it).
    end: i64,
    /// Whether the store keeps its data on disk, so its offset is checkpointed.
    checkpointed: bool,
    restored: u64,
}

impl GlobalPartition {
    fn restored(&self) -> bool {
        self.next >= self.end
    }
}

/// The global stores, their processors, and where each partition is.
struct GlobalState {
    graph: TaskGraph,
    task: TaskState,
    handlers: Handlers,
    partitions: Vec<GlobalPartition>,
    checkpoint_file: PathBuf,
    checkpointed: Offsets,
}

struct GlobalThread<'s> {
    setup: &'s GlobalSetup,
    consumer: BaseConsumer,
    state: GlobalState,
}

impl<'s> GlobalThread<'s> {
    /// Makes the global stores and their processors, the consumer, and finds where each
    /// partition starts and ends.
    fn new(setup: &'s GlobalSetup) -> Result<Self, GlobalThreadError> {
        let config = &setup.config;
        let access = GlobalAccess {
            engines: setup.engines.clone(),
            writable: true,
        };
        let context = StoreContext::global(config.application_id(), config.state_dir(), access);
        #[cfg(feature = "rocksdb")]
        let context = context.with_rocksdb_memory(crate::state::RocksDbMemory::process_wide(
            config.rocksdb_memory_max_bytes(),
        ));
        let (graph, stores) = TaskGraph::with_global_stores(&setup.topology, &context)
            .map_err(|reason| GlobalThreadError::Instantiate { reason })?;
        let mut task = TaskState::new(
            TaskId::GLOBAL,
            Arc::from(config.application_id()),
            Box::new(SystemClock),
            Box::new(NoSinks),
            stores,
        );
        graph
            .init(&mut task)
            .map_err(|source| GlobalThreadError::Process { source })?;
        let consumer: BaseConsumer =
            client::global_consumer(config, &format!("{}-global-consumer", setup.client_id))
                .create()
                .map_err(|source| GlobalThreadError::Kafka {
                    operation: "creating the global consumer",
                    source,
                })?;
        let checkpoint_file = checkpoint::path(&context.task_dir());
        let checkpointed = checkpoint::read(&checkpoint_file).unwrap_or_else(|e| {
            warn!(error = %e, "ignoring the global checkpoint: restoring the global stores from the beginning");
            Offsets::new()
        });
        let mut thread = GlobalThread {
            setup,
            consumer,
            state: GlobalState {
                graph,
                task,
                handlers: Handlers::from_config(config),
                partitions: Vec::new(),
                checkpoint_file,
                checkpointed,
            },
        };
        thread.find_partitions()?;
        Ok(thread)
    }

    /// Every partition of every global topic, with its start (the checkpoint, for persistent
    /// stores) and end offsets, assigned to the consumer.
    fn find_partitions(&mut self) -> Result<(), GlobalThreadError> {
        let setup = self.setup;
        let timeout = setup.config.api_timeout();
        let nodes = setup.topology.nodes();
        for global in setup.topology.global_stores() {
            let NodeKind::Source { topics } = &nodes[global.source].kind else {
                continue;
            };
            let Some(topic) = topics.first() else {
                continue;
            };
            let checkpointed = setup.engines.persistent(&global.store) == Some(true);
            let metadata =
                self.consumer
                    .fetch_metadata(Some(topic), timeout)
                    .map_err(|source| GlobalThreadError::Kafka {
                        operation: "reading the global topics' metadata",
                        source,
                    })?;
            let found = metadata.topics().iter().find(|t| t.name() == topic);
            let ids: Vec<i32> = found
                .map(|t| t.partitions().iter().map(|p| p.id()).collect())
                .unwrap_or_default();
            if ids.is_empty() {
                return Err(GlobalThreadError::NoPartitions {
                    topic: topic.clone(),
                    reason: found
                        .and_then(|t| t.error())
                        .map_or("the topic is not known to the cluster".to_string(), |e| {
                            format!("{e:?}")
                        }),
                });
            }
            let topic: Arc<str> = Arc::from(topic.as_str());
            for partition in ids {
                let (low, high) = self.watermarks(&topic, partition)?;
                let from_checkpoint = checkpointed
                    .then(|| {
                        self.state
                            .checkpointed
                            .get(&(topic.to_string(), partition))
                            .copied()
                    })
                    .flatten();
                let next = match from_checkpoint {
                    Some(next) if next > high || next < low => {
                        warn!(store = %global.store, topic = %topic, partition, checkpoint = next,
                            low, high, "the global checkpoint is outside the topic; restoring it all");
                        low
                    }
                    Some(next) => next,
                    None => low,
                };
                self.state.partitions.push(GlobalPartition {
                    topic: Arc::clone(&topic),
                    partition,
                    store: global.store.clone(),
                    next,
                    end: high,
                    checkpointed,
                    restored: 0,
                });
            }
        }
        let assignment = partition_list(
            self.state
                .partitions
                .iter()
                .map(|p| (&*p.topic, p.partition, Offset::Offset(p.next))),
        );
        self.consumer
            .assign(&assignment)
            .map_err(|source| GlobalThreadError::Kafka {
                operation: "assigning the global topics' partitions",
                source,
            })
    }

    /// A partition's (low, high) watermarks, retried until `default.api.timeout.ms` (a topic
    /// just created may not be known to every broker yet).
    fn watermarks(&self, topic: &str, partition: i32) -> Result<(i64, i64), GlobalThreadError> {
        let deadline = Instant::now() + self.setup.config.api_timeout();
        loop {
            match self
                .consumer
                .fetch_watermarks(topic, partition, Duration::from_secs(5))
            {
                Ok(offsets) => return Ok(offsets),
                Err(source) if Instant::now() >= deadline => {
                    return Err(GlobalThreadError::EndOffset {
                        topic: topic.to_string(),
                        partition,
                        source,
                    });
                }
                Err(e) => {
                    warn!(topic, partition, error = %e, "global topic end offset not known yet; retrying");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// Restores, then keeps the stores up to date until shutdown; flushes and checkpoints on
    /// the way out.
    fn run(mut self) -> Result<(), GlobalThreadError> {
        let restored = self.restore()?;
        if restored {
            self.setup.status.set(GlobalPhase::Running);
            let interval = self.setup.config.commit_interval();
            let mut last_flush = Instant::now();
            while !self.stopping() {
                if let Some(message) = poll(&self.consumer)? {
                    self.state.process(&message)?;
                }
                if last_flush.elapsed() >= interval {
                    self.state.flush_and_checkpoint()?;
                    last_flush = Instant::now();
                }
            }
            self.state.flush_and_checkpoint()?;
        }
        self.state.graph.close(&mut self.state.task);
        Ok(())
    }

    fn stopping(&self) -> bool {
        self.setup.shutdown.load(Ordering::Acquire)
    }

    /// Reads every partition up to its end offset. `Ok(false)` if shutdown came first.
    fn restore(&mut self) -> Result<bool, GlobalThreadError> {
        let started = Instant::now();
        let listener = self.setup.restore_listener.clone();
        for p in &self.state.partitions {
            info!(store = %p.store, topic = %p.topic, partition = p.partition,
                from = p.next, to = p.end, "restoring global store");
            if let Some(l) = &listener {
                l.on_restore_start(&p.topic, p.partition, &p.store, p.next, p.end);
            }
        }
        let mut reported: Vec<bool> = vec![false; self.state.partitions.len()];
        loop {
            for (p, done) in self.state.partitions.iter().zip(reported.iter_mut()) {
                if *done || !p.restored() {
                    continue;
                }
                *done = true;
                info!(store = %p.store, topic = %p.topic, partition = p.partition,
                    restored = p.restored, "global store partition restored");
                if let Some(l) = &listener {
                    let rest = p.restored % BATCH;
                    if rest > 0 {
                        let last = p.next - 1;
                        l.on_batch_restored(&p.topic, p.partition, &p.store, last, rest);
                    }
                    l.on_restore_end(&p.topic, p.partition, &p.store, p.restored);
                }
            }
            if reported.iter().all(|d| *d) {
                break;
            }
            if self.stopping() {
                return Ok(false);
            }
            match poll(&self.consumer)? {
                Some(message) => {
                    let applied = self.state.process(&message)?;
                    if let (Some(l), Some(i)) = (&listener, applied) {
                        let p = &self.state.partitions[i];
                        if p.restored.is_multiple_of(BATCH) {
                            l.on_batch_restored(
                                &p.topic,
                                p.partition,
                                &p.store,
                                message.offset(),
                                BATCH,
                            );
                        }
                    }
                }
                None => self.catch_up_positions(),
            }
        }
        self.state.flush_and_checkpoint()?;
        info!(
            seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
            "global stores restored"
        );
        Ok(true)
    }

    /// Takes the consumer's positions as the next offsets: past the last record, a position
    /// can be beyond it (compacted gaps, transaction markers).
    fn catch_up_positions(&mut self) {
        let Ok(positions) = self.consumer.position() else {
            return;
        };
        for p in &mut self.state.partitions {
            if let Some(Offset::Offset(at)) = positions
                .find_partition(&p.topic, p.partition)
                .map(|e| e.offset())
                && at > p.next
            {
                p.next = at;
            }
        }
    }
}

/// One record, or `None` after [`POLL`] without one. Errors that only say the brokers are
/// unreachable for now are waited out (librdkafka reconnects).
fn poll(consumer: &BaseConsumer) -> Result<Option<BorrowedMessage<'_>>, GlobalThreadError> {
    match consumer.poll(POLL) {
        Some(Ok(message)) => Ok(Some(message)),
        Some(Err(e)) if transient(&e) => {
            warn!(error = %e, "global topics unreachable for now; will retry");
            std::thread::sleep(POLL);
            Ok(None)
        }
        Some(Err(source)) => Err(GlobalThreadError::Kafka {
            operation: "reading the global topics",
            source,
        }),
        None => Ok(None),
    }
}

impl GlobalState {
    /// Applies a record to its global store through the store's processor; returns the index
    /// of its partition.
    fn process(
        &mut self,
        message: &BorrowedMessage<'_>,
    ) -> Result<Option<usize>, GlobalThreadError> {
        let Some(i) = self
            .partitions
            .iter()
            .position(|p| p.partition == message.partition() && *p.topic == *message.topic())
        else {
            return Ok(None);
        };
        let Some(source) = self.graph.source_index(message.topic()) else {
            return Ok(None);
        };
        let headers = message.headers().map_or_else(Headers::new, |h| {
            h.iter()
                .map(|h| Header {
                    key: h.key.to_string(),
                    value: h.value.map(<[u8]>::to_vec),
                })
                .collect()
        });
        let raw = RawRecord {
            topic: &self.partitions[i].topic,
            partition: message.partition(),
            offset: message.offset(),
            timestamp: message.timestamp().to_millis().unwrap_or(-1),
            key: message.key(),
            value: message.payload(),
            headers,
        };
        match self.graph.process(source, raw, &mut self.task) {
            Ok(()) => {}
            Err(e @ StreamsError::Deserialization { .. }) if self.handlers.skips(&e) => {
                warn!(error = %e, "skipping a global record (deserialization handler = log-and-continue)");
            }
            Err(source) => return Err(GlobalThreadError::Process { source }),
        }
        let p = &mut self.partitions[i];
        p.next = message.offset() + 1;
        p.restored += 1;
        Ok(Some(i))
    }

    /// Flushes the stores, then writes the checkpoint if the offsets of persistent stores moved.
    fn flush_and_checkpoint(&mut self) -> Result<(), GlobalThreadError> {
        self.graph
            .commit(&mut self.task)
            .map_err(|source| GlobalThreadError::Process { source })?;
        self.task
            .stores
            .flush_all()
            .map_err(|source| GlobalThreadError::Store { source })?;
        let offsets: Offsets = self
            .partitions
            .iter()
            .filter(|p| p.checkpointed)
            .map(|p| ((p.topic.to_string(), p.partition), p.next))
            .collect();
        if offsets.is_empty() || offsets == self.checkpointed {
            return Ok(());
        }
        checkpoint::write(&self.checkpoint_file, &offsets).map_err(|source| {
            GlobalThreadError::Checkpoint {
                path: self.checkpoint_file.clone(),
                source,
            }
        })?;
        self.checkpointed = offsets;
        Ok(())
    }
}

/// Whether a consumer error only says the brokers are unreachable for now.
fn transient(error: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(
        error.rdkafka_error_code(),
        Some(
            Code::AllBrokersDown
                | Code::BrokerTransportFailure
                | Code::Resolve
                | Code::BrokerNotAvailable
                | Code::NetworkException
                | Code::RequestTimedOut
                | Code::OperationTimedOut
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_wakes_waiters() {
        let status = Arc::new(GlobalStatus::default());
        let waiter = {
            let status = Arc::clone(&status);
            std::thread::spawn(move || status.wait_past_restoring(None))
        };
        std::thread::sleep(Duration::from_millis(20));
        status.set(GlobalPhase::Running);
        assert_eq!(waiter.join().expect("no panic"), GlobalPhase::Running);
        assert!(!status.wait_ended(Instant::now() + Duration::from_millis(10)));
        status.set(GlobalPhase::Stopped);
        assert!(status.wait_ended(Instant::now()));
        let timed_out = GlobalStatus::default()
            .wait_past_restoring(Some(Instant::now() + Duration::from_millis(10)));
        assert_eq!(timed_out, GlobalPhase::Restoring);
    }
}
