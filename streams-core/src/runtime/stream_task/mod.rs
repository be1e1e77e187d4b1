//! A stream task: one sub-topology instantiated for one partition number, its input
//! partitions (a [`PartitionGroup`]), their offsets, its state stores and their changelogs, and
//! the error handlers applied to what it processes.

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tracing::warn;

use crate::error::StreamsError;
use crate::processor::PunctuationType;
use crate::processor::TaskId;
use crate::processor::node::RawRecord;
use crate::processor::task_state::{RecordCollector, TaskState, WallClock};
use crate::record::Headers;
use crate::topology::Topology;
use crate::topology::instance::TaskGraph;

mod handlers;
mod stores;

use handlers::FailedRecord;
pub(crate) use handlers::Handlers;
pub(crate) use stores::{Changelog, TaskStores};

use super::RuntimeError;
use super::checkpoint::{self, Offsets};
use super::consumer::Fetched;
use super::metrics::{PartitionMetrics, RateMeter, TaskMetrics};
use super::partition_group::{Fetch, InputPartition, OwnedRecord, PartitionGroup};

/// The system clock, for wall-clock punctuations.
pub(crate) struct SystemClock;

impl WallClock for SystemClock {
    fn now_ms(&self) -> i64 {
        system_time_ms()
    }
}

/// Wall-clock time in ms since the epoch.
pub(crate) fn system_time_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One consumed record, borrowed or buffered.
pub(crate) struct Input<'a> {
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) headers: Headers,
}

/// How a task buffers its inputs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InputLimits {
    /// `max.task.idle.ms`.
    pub(crate) max_idle_ms: i64,
    /// `buffered.records.per.partition`.
    pub(crate) buffered_max: usize,
    /// How often a left or outer stream-stream join emits records whose window closed.
    pub(crate) outer_join_emit_interval_ms: i64,
}

/// One task: Kafka Streams' `StreamTask`. It processes the records of its input partitions
/// through its instance of the sub-topology, lowest timestamp first, and knows which offsets it
/// processed, which it committed, and which changelog offsets its stores hold.
pub(crate) struct StreamTask {
    pub(crate) id: TaskId,
    graph: TaskGraph,
    state: TaskState,
    pub(crate) inputs: PartitionGroup,
    pub(crate) processed: u64,
    pub(crate) skipped: u64,
    rate: RateMeter,
    /// Restoring its stores: not processing yet.
    restoring: bool,
    now: Rc<Cell<i64>>,
    pub(crate) changelogs: Vec<Changelog>,
    task_dir: PathBuf,
    /// Offsets of the last changelog records the stores are known to hold (from the
    /// checkpoint or restoration; updated from delivery reports at checkpoints).
    pub(crate) changelog_offsets: Offsets,
    /// What the last checkpoint written holds.
    checkpointed: Offsets,
    persistent: bool,
    /// `exactly_once_v2`: no checkpoints while processing.
    exactly_once: bool,
}

impl StreamTask {
    /// Records this task's operators dropped on purpose (`dropped-records`).
    pub(crate) fn dropped_records(&self) -> u64 {
        self.state.dropped_records
    }

    /// Instantiates the sub-topology `nodes` for task `id` and calls every `init`.
    pub(crate) fn new(
        id: TaskId,
        topology: &Topology,
        nodes: &[usize],
        partitions: &[(Arc<str>, i32)],
        collector: Box<dyn RecordCollector>,
        limits: InputLimits,
        stores: TaskStores,
    ) -> Result<Self, RuntimeError> {
        let instantiate = |reason: String| RuntimeError::Task {
            task: id,
            source: StreamsError::Instantiate { task: id, reason },
        };
        let task_dir = stores.context.task_dir();
        let logged_persistent = stores.changelogs.iter().any(|c| c.persistent);
        let checkpoint_path = checkpoint::path(&task_dir);
        if stores.exactly_once && logged_persistent && !checkpoint_path.exists() {
            // Exactly-once: logged state without a checkpoint may hold writes of a transaction
            // that was aborted; it is wiped and restored from the changelog. Unlogged stores
            // cannot be restored, so a task without logged ones keeps its state.
            match std::fs::remove_dir_all(&task_dir) {
                Ok(()) => warn!(task = %id, "no checkpoint: wiping the task's state to restore it"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(instantiate(format!(
                        "cannot wipe the state of {id} in {}: {e}",
                        task_dir.display()
                    )));
                }
            }
        }
        let checkpointed = if logged_persistent {
            checkpoint::read(&checkpoint_path).unwrap_or_else(|e| {
                warn!(task = %id, error = %e, "ignoring the checkpoint: restoring everything");
                Offsets::new()
            })
        } else {
            Offsets::new()
        };
        if stores.exactly_once && logged_persistent {
            // Read once: a crash from now on must not find it (the stores will hold writes of
            // transactions that may abort).
            let _ = std::fs::remove_file(&checkpoint_path);
        }
        let changelog_offsets: Offsets = stores
            .changelogs
            .iter()
            .filter(|c| c.persistent)
            .filter_map(|c| {
                let key = (c.topic.clone(), c.partition);
                checkpointed.get(&key).map(|&o| (key, o))
            })
            .collect();
        let (graph, registry) =
            TaskGraph::with_stores(topology, nodes, &stores.context).map_err(instantiate)?;
        let application_id: Arc<str> = Arc::from(stores.context.application_id());
        let persistent = stores.persistent;
        let exactly_once = stores.exactly_once;
        let stores_now = stores.now;
        let changelogs = stores.changelogs;
        let globals = stores.globals;
        let stores = registry;
        let inputs = partitions
            .iter()
            .map(|(topic, partition)| {
                graph
                    .source_index(topic)
                    .map(|source| InputPartition::new(Arc::clone(topic), *partition, source))
                    .ok_or_else(|| {
                        instantiate(format!("no source of the task reads topic `{topic}`"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut state =
            TaskState::new(id, application_id, Box::new(SystemClock), collector, stores);
        state.globals = globals;
        state.outer_join_emit_interval_ms = limits.outer_join_emit_interval_ms;
        graph
            .init(&mut state)
            .map_err(|source| RuntimeError::Task { task: id, source })?;
        Ok(StreamTask {
            id,
            graph,
            state,
            inputs: PartitionGroup::new(inputs, limits.max_idle_ms, limits.buffered_max),
            processed: 0,
            skipped: 0,
            rate: RateMeter::new(Instant::now()),
            restoring: !changelogs.is_empty(),
            now: stores_now,
            changelogs,
            task_dir,
            changelog_offsets,
            checkpointed,
            persistent,
            exactly_once,
        })
    }

    /// The input index of (topic, partition), if the task reads it.
    pub(crate) fn input_index(&self, topic: &str, partition: i32) -> Option<usize> {
        self.inputs
            .partitions
            .iter()
            .position(|p| p.partition == partition && *p.topic == *topic)
    }

    /// Whether a record of input `input` can be processed right away, unbuffered: the task
    /// has one input and nothing buffered.
    pub(crate) fn can_process_directly(&self) -> bool {
        !self.restoring && self.inputs.partitions.len() == 1 && self.inputs.buffered() == 0
    }

    /// Processes one record of input `input`, then fires due stream-time punctuations.
    pub(crate) fn process(
        &mut self,
        input: usize,
        record: Input<'_>,
        handlers: &Handlers,
    ) -> Result<(), RuntimeError> {
        let StreamTask {
            id,
            graph,
            state,
            inputs,
            ..
        } = self;
        let Some(partition) = inputs.partitions.get_mut(input) else {
            return Ok(());
        };
        self.now.set(record.timestamp);
        // The dead-letter queue gets the record's headers as read.
        let dead_letter_headers = handlers
            .dead_letter_queue
            .is_some()
            .then(|| record.headers.clone());
        let raw = RawRecord {
            topic: &partition.topic,
            partition: partition.partition,
            offset: record.offset,
            timestamp: record.timestamp,
            key: record.key,
            value: record.value,
            headers: record.headers,
        };
        let result = graph.process(partition.source, raw, state);
        // Processed or skipped, the record is done: its offset may be committed.
        partition.position = Some(record.offset + 1);
        self.processed += 1;
        self.rate.record(1);
        if let Err(e) = result {
            if let Some(headers) = dead_letter_headers {
                let failed = FailedRecord {
                    topic: &partition.topic,
                    partition: partition.partition,
                    offset: record.offset,
                    timestamp: record.timestamp,
                    key: record.key,
                    value: record.value,
                    headers,
                };
                handlers.dead_letter(failed, &e, &mut *state.collector)?;
            }
            handlers.handle(*id, e)?;
            self.skipped += 1;
        }
        let stream_time = state.stream_time;
        if let Err(e) = graph.punctuate(PunctuationType::StreamTime, stream_time, state) {
            handlers.handle(*id, e)?;
        }
        Ok(())
    }

    /// Buffers a consumed record of input `input` until the task processes it (the partition
    /// is paused once its buffer is full).
    pub(crate) fn buffer(&mut self, input: usize, record: Input<'_>, fetch: &impl Fetch) {
        let extracted = self.ordering_timestamp(input, record.key, record.value, record.timestamp);
        let owned = OwnedRecord {
            offset: record.offset,
            timestamp: record.timestamp,
            extracted,
            key: record.key.map(<[u8]>::to_vec),
            value: record.value.map(<[u8]>::to_vec),
            headers: record.headers,
        };
        self.inputs.buffer(input, owned, fetch);
    }

    /// Records buffered, not processed yet.
    pub(crate) fn buffered(&self) -> usize {
        self.inputs.buffered()
    }

    /// Fetches again the partitions paused for a full buffer that processing drained.
    pub(crate) fn resume_drained(&mut self, fetch: &impl Fetch) {
        self.inputs.resume_drained(fetch);
    }

    /// Processes up to `limit` buffered records, lowest timestamp first; returns how many.
    pub(crate) fn process_buffered(
        &mut self,
        now: Instant,
        fetched: &impl Fn(&str, i32) -> Fetched,
        limit: usize,
        handlers: &Handlers,
    ) -> Result<usize, RuntimeError> {
        let mut done = 0;
        while done < limit && !self.restoring {
            let Some((i, r)) = self.inputs.next_record(now, fetched) else {
                break;
            };
            let input = Input {
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key.as_deref(),
                value: r.value.as_deref(),
                headers: r.headers,
            };
            self.process(i, input, handlers)?;
            done += 1;
        }
        Ok(done)
    }

    /// Fires due wall-clock punctuations.
    pub(crate) fn punctuate_wall_clock(
        &mut self,
        now_ms: i64,
        handlers: &Handlers,
    ) -> Result<(), RuntimeError> {
        if self.restoring {
            return Ok(());
        }
        match self
            .graph
            .punctuate(PunctuationType::WallClockTime, now_ms, &mut self.state)
        {
            Ok(_) => Ok(()),
            Err(e) => handlers.handle(self.id, e),
        }
    }

    /// Whether a processor asked for a commit; clears the request.
    pub(crate) fn take_commit_request(&mut self) -> bool {
        std::mem::take(&mut self.state.commit_requested)
    }

    /// (topic, partition, offset to commit) for inputs processed past their last commit.
    pub(crate) fn uncommitted(&self) -> impl Iterator<Item = (&str, i32, i64)> + '_ {
        self.inputs
            .partitions
            .iter()
            .filter_map(|p| match p.position {
                Some(pos) if p.committed.is_none_or(|c| c < pos) => {
                    Some((&*p.topic, p.partition, pos))
                }
                _ => None,
            })
    }

    /// Records that (topic, partition) is committed up to `offset`.
    pub(crate) fn committed_at(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self
            .inputs
            .partitions
            .iter_mut()
            .find(|p| p.partition == partition && &*p.topic == topic)
        {
            p.committed = Some(p.committed.map_or(offset, |c| c.max(offset)));
        }
    }

    /// Records that everything processed is committed.
    pub(crate) fn mark_committed(&mut self) {
        for p in &mut self.inputs.partitions {
            if p.position.is_some() {
                p.committed = p.position;
            }
        }
    }

    /// The task leaves its thread's consumer (revoked, closed): its partitions are resumed
    /// (librdkafka would keep them paused for their next owner here) and the buffered records
    /// dropped (fetched again wherever the partitions go).
    pub(crate) fn leave(&mut self, fetch: &impl Fetch) {
        self.inputs.release(fetch);
        self.inputs.clear();
    }

    /// Where to resume (topic, partition) if the task processed past its last commit: the
    /// task's state reflects every record before that offset.
    pub(crate) fn resume_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        let p = &self.inputs.partitions[self.input_index(topic, partition)?];
        match (p.position, p.committed) {
            (Some(pos), committed) if committed != Some(pos) => Some(pos),
            _ => None,
        }
    }

    /// The timestamp to order a buffered record of input `input` by: the source's extracted
    /// timestamp when the task has several inputs (the order between them depends on it),
    /// else the record's own.
    fn ordering_timestamp(
        &self,
        input: usize,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> i64 {
        if self.inputs.partitions.len() < 2 {
            return timestamp;
        }
        let p = &self.inputs.partitions[input];
        self.graph
            .extract_timestamp(p.source, p.partition, key, value, timestamp)
    }

    pub(crate) fn close(&mut self) {
        self.graph.close(&mut self.state);
    }

    pub(crate) fn metrics(
        &mut self,
        now: Instant,
        fetched: &impl Fn(&str, i32) -> Fetched,
    ) -> TaskMetrics {
        TaskMetrics {
            id: self.id,
            records_processed: self.processed,
            process_rate: self.rate.rate(now),
            partitions: self
                .inputs
                .partitions
                .iter()
                .map(|p| {
                    let from = p.position.or(p.committed);
                    PartitionMetrics {
                        topic: p.topic.to_string(),
                        partition: p.partition,
                        position: p.position,
                        committed: p.committed,
                        lag: fetched(&p.topic, p.partition)
                            .end
                            .zip(from)
                            .map(|(end, pos)| (end - pos).max(0)),
                    }
                })
                .collect(),
        }
    }
}
