//! What a task's processors share: stream time, the current record's metadata, punctuation
//! schedules, the output collector, the wall clock and the state stores.

use std::rc::Rc;
use std::sync::Arc;

use crate::error::StreamsError;
use crate::record::{Headers, RecordMetadata};
use crate::state::StoreRegistry;
use crate::task_id::TaskId;

use super::punctuation::PunctuationQueue;

/// A serialized record leaving a sink.
#[derive(Debug)]
pub(crate) struct OutputRecord<'a> {
    pub(crate) topic: &'a str,
    /// The partition a `StreamPartitioner` chose; `None` for the producer's partitioner (the
    /// test driver's topics have one partition).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) timestamp: i64,
    pub(crate) headers: &'a Headers,
}

/// Where sinks send serialized records: the producer in a running application, a buffer in the
/// test driver.
pub(crate) trait RecordCollector {
    fn send(&mut self, record: OutputRecord<'_>) -> Result<(), StreamsError>;

    /// How many partitions `topic` has (asked by sinks with a `StreamPartitioner`).
    fn partition_count(&mut self, topic: &str) -> Result<i32, StreamsError>;
}

/// The collector of the global stores' task: their processors have nothing downstream (the
/// topology is checked for it), so nothing is ever sent.
pub(crate) struct NoSinks;

impl RecordCollector for NoSinks {
    fn send(&mut self, record: OutputRecord<'_>) -> Result<(), StreamsError> {
        Err(StreamsError::UnknownTopic {
            topic: record.topic.to_string(),
            reason: "the processors of global stores write no topics",
        })
    }

    fn partition_count(&mut self, _topic: &str) -> Result<i32, StreamsError> {
        Ok(1)
    }
}

/// The wall clock a task reads: the system clock, or the test driver's mock clock.
pub(crate) trait WallClock {
    fn now_ms(&self) -> i64;
}

/// Stream time before the task has seen any record.
pub(crate) const UNKNOWN_TIME: i64 = -1;

/// The state a task's processors share through their contexts: the task's id, stream time, the
/// current record's metadata, scheduled punctuations, a commit request, the wall clock, the
/// record collector sinks write to, and the task's stores.
pub(crate) struct TaskState {
    pub(crate) id: TaskId,
    pub(crate) application_id: Arc<str>,
    pub(crate) stream_time: i64,
    /// The current record's metadata, valid while `has_metadata`: kept between records so the
    /// topic's `Arc` is not cloned and dropped for every record of the same topic.
    metadata: Option<RecordMetadata>,
    has_metadata: bool,
    pub(crate) punctuations: PunctuationQueue,
    pub(crate) commit_requested: bool,
    pub(crate) clock: Box<dyn WallClock>,
    pub(crate) collector: Box<dyn RecordCollector>,
    pub(crate) stores: StoreRegistry,
    /// The instance's global stores, read-only, shared by the tasks of a thread: every
    /// processor reads them without being connected to them.
    pub(crate) globals: Option<Rc<StoreRegistry>>,
    /// Records dropped on purpose (null keys at an aggregation, nulls at a DSL source, late
    /// records): Kafka Streams' `dropped-records` metric.
    pub(crate) dropped_records: u64,
    /// How often (wall-clock ms) a left or outer stream-stream join emits records whose window
    /// closed (`__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`).
    pub(crate) outer_join_emit_interval_ms: i64,
}

impl TaskState {
    pub(crate) fn new(
        id: TaskId,
        application_id: Arc<str>,
        clock: Box<dyn WallClock>,
        collector: Box<dyn RecordCollector>,
        stores: StoreRegistry,
    ) -> Self {
        TaskState {
            id,
            application_id,
            stream_time: UNKNOWN_TIME,
            metadata: None,
            has_metadata: false,
            punctuations: PunctuationQueue::default(),
            commit_requested: false,
            clock,
            collector,
            stores,
            globals: None,
            dropped_records: 0,
            // The test driver's (as Kafka Streams' driver); the runtime sets the config's.
            outer_join_emit_interval_ms: 0,
        }
    }

    /// The record being processed, `None` in punctuations and commits.
    pub(crate) fn metadata(&self) -> Option<&RecordMetadata> {
        self.metadata.as_ref().filter(|_| self.has_metadata)
    }

    /// Sets the record being processed.
    pub(crate) fn set_metadata(&mut self, topic: &Arc<str>, partition: i32, offset: i64) {
        match &mut self.metadata {
            Some(m) if Arc::ptr_eq(&m.topic, topic) => {
                m.partition = partition;
                m.offset = offset;
            }
            slot => {
                *slot = Some(RecordMetadata {
                    topic: Arc::clone(topic),
                    partition,
                    offset,
                });
            }
        }
        self.has_metadata = true;
    }

    /// No record is being processed.
    pub(crate) fn clear_metadata(&mut self) {
        self.has_metadata = false;
    }
}
