//! Restoration: before a task processes, each of its logged stores is brought up to the end of
//! its changelog partition — from the task's checkpoint (persistent stores) or from the start
//! (in-memory stores) — by the stream thread's restore consumer, in batches written below the
//! cache and logging layers (RocksDB: one write batch, write-ahead log off).
//!
//! The stream thread restores in slices between polls of its main consumer, so it stays in
//! its group while a large store comes back; the task's input partitions stay paused until it
//! is done. Progress goes to `tracing` and to the [`StateRestoreListener`], if one is set.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use tracing::{debug, info, warn};

use crate::processor::TaskId;
use crate::state::RestoreRecord;

use super::RuntimeError;
use super::partitions::partition_list;
use super::stream_task::StreamTask;

/// Told about restoration progress, per changelog partition: Kafka Streams'
/// `StateRestoreListener`. Set one with
/// [`KafkaStreams::set_global_state_restore_listener`](super::KafkaStreams::set_global_state_restore_listener);
/// stream threads call it, so it must be `Send + Sync` and quick.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use streams_core::runtime::StateRestoreListener;
///
/// #[derive(Default)]
/// struct Counter(AtomicU64);
///
/// impl StateRestoreListener for Counter {
///     fn on_restore_end(&self, topic: &str, partition: i32, store: &str, total_restored: u64) {
///         self.0.fetch_add(total_restored, Ordering::Relaxed);
///         println!("{store}: {total_restored} records restored from {topic}-{partition}");
///     }
/// }
/// ```
pub trait StateRestoreListener: Send + Sync {
    /// Restoration of `store` from changelog (`topic`, `partition`) begins, reading from
    /// `start_offset` up to (excluding) `end_offset`.
    fn on_restore_start(
        &self,
        topic: &str,
        partition: i32,
        store: &str,
        start_offset: i64,
        end_offset: i64,
    ) {
        let _ = (topic, partition, store, start_offset, end_offset);
    }

    /// A batch of `num_restored` records, the last at `batch_end_offset`, was written.
    fn on_batch_restored(
        &self,
        topic: &str,
        partition: i32,
        store: &str,
        batch_end_offset: i64,
        num_restored: u64,
    ) {
        let _ = (topic, partition, store, batch_end_offset, num_restored);
    }

    /// Restoration of `store` from (`topic`, `partition`) is complete.
    fn on_restore_end(&self, topic: &str, partition: i32, store: &str, total_restored: u64) {
        let _ = (topic, partition, store, total_restored);
    }
}

/// A thread's restore consumer.
pub(crate) type RestoreConsumer = BaseConsumer;

/// One changelog partition being restored.
struct Restoring {
    task: TaskId,
    store: String,
    topic: String,
    partition: i32,
    /// The next offset to read; `None` = from the beginning.
    next: Option<i64>,
    /// The end offset when restoration started; `None` until looked up.
    end: Option<i64>,
    restored: u64,
    started: Instant,
}

impl Restoring {
    fn done(&self) -> bool {
        matches!((self.next, self.end), (Some(next), Some(end)) if next >= end)
    }
}

/// The restorations of one stream thread.
pub(crate) struct Restorer {
    consumer: RestoreConsumer,
    /// Under exactly-once, a `read_uncommitted` client for the changelogs' end offsets.
    end_offsets: Option<RestoreConsumer>,
    listener: Option<Arc<dyn StateRestoreListener>>,
    timeout: Duration,
    pending: Vec<Restoring>,
    /// The restore consumer's assignment no longer matches `pending`.
    reassign: bool,
    last_progress: Instant,
}

/// What a restoration slice finished.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    /// (task, changelog topic, partition, end offset) of each partition now restored.
    pub(crate) partitions: Vec<(TaskId, String, i32, i64)>,
    /// The tasks with nothing left to restore.
    pub(crate) tasks: Vec<TaskId>,
}

/// A changelog record read, not yet written: key, value, timestamp, offset.
type Buffered = (Vec<u8>, Option<Vec<u8>>, i64, i64);

/// Whether a consumer error only says the brokers are unreachable for now (librdkafka retries).
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

/// How long one end-offset lookup may block the stream thread.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);

/// Records buffered per partition before they are written as one batch.
const BATCH: usize = 10_000;

impl Restorer {
    pub(crate) fn new(
        consumer: RestoreConsumer,
        end_offsets: Option<RestoreConsumer>,
        listener: Option<Arc<dyn StateRestoreListener>>,
        timeout: Duration,
    ) -> Self {
        Restorer {
            consumer,
            end_offsets,
            listener,
            timeout,
            pending: Vec::new(),
            reassign: false,
            last_progress: Instant::now(),
        }
    }

    /// Whether any changelog partition is being restored.
    pub(crate) fn is_active(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Queues the restoration of `store` of `task` from (`topic`, `partition`), reading from
    /// the offset after `checkpoint` (from the beginning if `None`).
    pub(crate) fn add(
        &mut self,
        task: TaskId,
        store: &str,
        topic: &str,
        partition: i32,
        checkpoint: Option<i64>,
    ) {
        self.pending.push(Restoring {
            task,
            store: store.to_string(),
            topic: topic.to_string(),
            partition,
            next: checkpoint.map(|c| c + 1),
            end: None,
            restored: 0,
            started: Instant::now(),
        });
        self.reassign = true;
    }

    /// Drops the restorations of `task` (revoked or closed while restoring).
    pub(crate) fn remove_task(&mut self, task: TaskId) {
        let before = self.pending.len();
        self.pending.retain(|r| r.task != task);
        self.reassign |= self.pending.len() != before;
    }

    /// Whether `task` still has changelog partitions to restore.
    pub(crate) fn is_restoring(&self, task: TaskId) -> bool {
        self.pending.iter().any(|r| r.task == task)
    }

    /// Restores for about `budget`; returns the tasks whose restoration is now complete.
    pub(crate) fn restore(
        &mut self,
        tasks: &[StreamTask],
        budget: Duration,
    ) -> Result<Restored, RuntimeError> {
        let deadline = Instant::now() + budget;
        self.look_up_ends()?;
        let mut restored = Restored::default();
        self.finish_done(&mut restored);
        if self.reassign {
            self.assign()?;
        }
        let mut batches: Vec<Vec<Buffered>> = self.pending.iter().map(|_| Vec::new()).collect();
        while self.pending.iter().any(|r| r.end.is_some()) && Instant::now() < deadline {
            match self.consumer.poll(Duration::from_millis(10)) {
                Some(Ok(m)) => {
                    let Some(i) = self
                        .pending
                        .iter()
                        .position(|r| r.partition == m.partition() && r.topic == m.topic())
                    else {
                        continue;
                    };
                    let Some(key) = m.key() else {
                        warn!(
                            topic = m.topic(),
                            partition = m.partition(),
                            offset = m.offset(),
                            "skipping a changelog record without a key"
                        );
                        self.pending[i].next = Some(m.offset() + 1);
                        continue;
                    };
                    batches[i].push((
                        key.to_vec(),
                        m.payload().map(<[u8]>::to_vec),
                        m.timestamp().to_millis().unwrap_or(0),
                        m.offset(),
                    ));
                    self.pending[i].next = Some(m.offset() + 1);
                    if batches[i].len() >= BATCH {
                        self.write(i, &mut batches[i], tasks)?;
                    }
                    if self.pending[i].done() {
                        self.write(i, &mut batches[i], tasks)?;
                    }
                }
                Some(Err(source)) if transient(&source) => {
                    // The brokers are unreachable for now (restarting, a network blip):
                    // librdkafka reconnects; restoration waits, as the main consumer does.
                    warn!(error = %source, "changelog reads paused: brokers unreachable; will retry");
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
                Some(Err(source)) => {
                    return Err(RuntimeError::Restore {
                        operation: "reading changelogs",
                        source,
                    });
                }
                None => {
                    // Caught up for now: positions can be past the last record (compacted
                    // gaps), so ask where the consumer is.
                    self.catch_up_positions();
                }
            }
            if self.pending.iter().any(Restoring::done) {
                break;
            }
        }
        for (i, batch) in batches.iter_mut().enumerate() {
            self.write(i, batch, tasks)?;
        }
        if self.last_progress.elapsed() >= Duration::from_secs(5) {
            self.last_progress = Instant::now();
            for r in &self.pending {
                let rate = r.restored as f64 / r.started.elapsed().as_secs_f64().max(1e-3);
                info!(store = %r.store, topic = %r.topic, partition = r.partition,
                    restored = r.restored, next = ?r.next, end = ?r.end,
                    rate = format!("{rate:.0} rec/s"), "restoring");
            }
        }
        self.finish_done(&mut restored);
        Ok(restored)
    }

    /// Looks up the end offset of partitions queued since the last call. Each lookup waits
    /// briefly: a changelog just created may not be known to the restore consumer yet, and
    /// the stream thread must go back to its consumer; a partition whose end stays unknown
    /// for `default.api.timeout.ms` fails the restoration.
    fn look_up_ends(&mut self) -> Result<(), RuntimeError> {
        for r in self.pending.iter_mut().filter(|r| r.end.is_none()) {
            let (low, high) = match self
                .end_offsets
                .as_ref()
                .unwrap_or(&self.consumer)
                .fetch_watermarks(&r.topic, r.partition, LOOKUP_TIMEOUT)
            {
                Ok(offsets) => offsets,
                Err(e) if r.started.elapsed() < self.timeout => {
                    debug!(topic = %r.topic, partition = r.partition, error = %e,
                        "changelog end offset not known yet; will retry");
                    continue;
                }
                Err(source) => {
                    return Err(RuntimeError::ChangelogEnd {
                        topic: r.topic.clone(),
                        partition: r.partition,
                        source,
                    });
                }
            };
            let start = match r.next {
                Some(next) if next > high => {
                    warn!(store = %r.store, topic = %r.topic, partition = r.partition,
                        checkpoint = next - 1, end = high,
                        "the checkpoint is past the changelog's end; restoring it all");
                    low
                }
                Some(next) => next.max(low),
                None => low,
            };
            r.next = Some(start);
            r.end = Some(high);
            self.reassign = true;
            info!(store = %r.store, topic = %r.topic, partition = r.partition,
                from = start, to = high, records = high - start, "restoring store");
            if let Some(l) = &self.listener {
                l.on_restore_start(&r.topic, r.partition, &r.store, start, high);
            }
        }
        Ok(())
    }

    /// Reads the consumer's positions into the partitions' next offsets.
    fn catch_up_positions(&mut self) {
        let Ok(positions) = self.consumer.position() else {
            return;
        };
        for r in &mut self.pending {
            if let Some(Offset::Offset(p)) = positions
                .find_partition(&r.topic, r.partition)
                .map(|e| e.offset())
                && r.next.is_none_or(|n| p > n)
            {
                r.next = Some(p);
            }
        }
    }

    /// Writes a partition's buffered records into its store.
    fn write(
        &mut self,
        i: usize,
        batch: &mut Vec<Buffered>,
        tasks: &[StreamTask],
    ) -> Result<(), RuntimeError> {
        let Some(last) = batch.last().map(|r| r.3) else {
            return Ok(());
        };
        let r = &mut self.pending[i];
        let Some(task) = tasks.iter().find(|t| t.id == r.task) else {
            batch.clear();
            return Ok(());
        };
        let records: Vec<RestoreRecord<'_>> = batch
            .iter()
            .map(|(key, value, timestamp, _)| RestoreRecord {
                key,
                value: value.as_deref(),
                timestamp: *timestamp,
            })
            .collect();
        task.stores()
            .restore_batch(&r.store, &records)
            .map_err(|source| RuntimeError::RestoreWrite {
                task: r.task,
                store: r.store.clone(),
                source,
            })?;
        let n = records.len() as u64;
        drop(records);
        batch.clear();
        r.restored += n;
        debug!(store = %r.store, partition = r.partition, batch = n, last, "restored a batch");
        if let Some(l) = &self.listener {
            l.on_batch_restored(&r.topic, r.partition, &r.store, last, n);
        }
        Ok(())
    }

    /// Removes the finished partitions into `restored`, with the tasks now fully restored.
    fn finish_done(&mut self, restored: &mut Restored) {
        let mut i = 0;
        while i < self.pending.len() {
            if !self.pending[i].done() {
                i += 1;
                continue;
            }
            let r = self.pending.swap_remove(i);
            self.reassign = true;
            let secs = r.started.elapsed().as_secs_f64();
            info!(store = %r.store, topic = %r.topic, partition = r.partition,
                restored = r.restored, seconds = format!("{secs:.3}"),
                rate = format!("{:.0} rec/s", r.restored as f64 / secs.max(1e-3)),
                "store restored");
            if let Some(l) = &self.listener {
                l.on_restore_end(&r.topic, r.partition, &r.store, r.restored);
            }
            restored
                .partitions
                .push((r.task, r.topic, r.partition, r.end.unwrap_or(0)));
            if !self.is_restoring(r.task) && !restored.tasks.contains(&r.task) {
                restored.tasks.push(r.task);
            }
        }
    }

    /// Assigns the pending partitions to the restore consumer at their next offsets.
    fn assign(&mut self) -> Result<(), RuntimeError> {
        let tpl = partition_list(self.pending.iter().filter(|r| r.end.is_some()).map(|r| {
            let offset = r.next.map_or(Offset::Beginning, Offset::Offset);
            (r.topic.as_str(), r.partition, offset)
        }));
        self.consumer
            .assign(&tpl)
            .map_err(|source| RuntimeError::Restore {
                operation: "assigning changelog partitions",
                source,
            })?;
        self.reassign = false;
        Ok(())
    }
}
