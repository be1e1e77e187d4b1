//! The nodes of an instantiated topology and how records flow between them.
//!
//! Each node is one concrete generic type (source, processor or sink), so decoding, processing
//! and encoding are static calls; the only dynamic dispatch is one virtual call per edge.
//! Records move to the last child and are cloned only for fan-out.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use tracing::warn;

use crate::codec::{Codec, CodecError};
use crate::error::{ProcessorError, RecordPart, StreamsError};
use crate::record::{Headers, Record, RecordMetadata};
use crate::timestamp::{InvalidTimestampPolicy, RecordTimestamp, TimestampExtractor};

use super::Processor;
use super::context::ProcessorContext;
use super::punctuation::Punctuation;
use super::task_state::{OutputRecord, TaskState};

/// What every node knows about itself.
#[derive(Debug, Clone)]
pub(crate) struct NodeInfo {
    pub(crate) name: Arc<str>,
    pub(crate) index: usize,
    pub(crate) stores: Vec<String>,
}

/// A node that accepts typed records.
pub(crate) trait NodeInput<K, V> {
    fn process(&mut self, record: Record<K, V>, task: &mut TaskState)
    -> Result<(), ProcessorError>;
}

/// An edge to a child node.
pub(crate) struct Child<K, V> {
    pub(crate) name: Arc<str>,
    pub(crate) node: Rc<RefCell<dyn NodeInput<K, V>>>,
}

impl<K, V> Clone for Child<K, V> {
    fn clone(&self) -> Self {
        Child {
            name: Arc::clone(&self.name),
            node: Rc::clone(&self.node),
        }
    }
}

/// Sends `record` to every child: clones for all but the last, which gets the original.
pub(crate) fn forward_all<K: Clone, V: Clone>(
    children: &[Child<K, V>],
    record: Record<K, V>,
    task: &mut TaskState,
) -> Result<(), ProcessorError> {
    let Some((last, rest)) = children.split_last() else {
        return Ok(());
    };
    for child in rest {
        child.node.borrow_mut().process(record.clone(), task)?;
    }
    last.node.borrow_mut().process(record, task)
}

/// Lifecycle calls on any node.
pub(crate) trait NodeLifecycle {
    fn init(&mut self, task: &mut TaskState) -> Result<(), StreamsError>;
    fn punctuate(
        &mut self,
        punctuation: Punctuation,
        task: &mut TaskState,
    ) -> Result<(), StreamsError>;
    fn close(&mut self);

    /// The task commits (its caches were just flushed): [`Processor::on_commit`].
    fn commit(&mut self, task: &mut TaskState) -> Result<(), StreamsError> {
        let _ = task;
        Ok(())
    }
}

/// A consumed record, still in bytes.
#[derive(Debug)]
pub(crate) struct RawRecord<'a> {
    pub(crate) topic: &'a Arc<str>,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) headers: Headers,
}

/// A source node: the entry for raw records.
pub(crate) trait RawInput {
    fn process_raw(&mut self, raw: RawRecord<'_>, task: &mut TaskState)
    -> Result<(), StreamsError>;

    /// The timestamp the source's extractor gives a record of (`topic`, `partition`) — what a
    /// task with several inputs orders its buffered records by, as Kafka Streams' record
    /// queues do. Undecodable records and invalid timestamps keep the record's own timestamp
    /// (processing reports them).
    fn extract_timestamp(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> i64;
}

fn to_streams_error(error: ProcessorError, node: &str, task: &TaskState) -> StreamsError {
    error.into_streams_error(node, task.metadata())
}

fn to_processor_error(error: ProcessorError, node: &str, task: &TaskState) -> ProcessorError {
    ProcessorError::new(to_streams_error(error, node, task))
}

/// A source in a task's graph: decodes a consumed record's key and value with its codecs, gives
/// it its timestamp (the extractor, or the invalid-timestamp policy), and forwards it to its
/// children. It keeps each input partition's partition time.
pub(crate) struct SourceNode<K, V, KC, VC, TE> {
    pub(crate) info: NodeInfo,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) extractor: TE,
    pub(crate) policy: InvalidTimestampPolicy,
    /// Drop records whose null key or value the codecs reject, instead of failing.
    pub(crate) skip_nulls: bool,
    pub(crate) children: Vec<Child<K, V>>,
    /// Highest timestamp per (topic, partition) seen by this source.
    pub(crate) partition_time: Vec<(Arc<str>, i32, i64)>,
}

impl<K, V, KC, VC, TE> SourceNode<K, V, KC, VC, TE> {
    /// The index of (`topic`, `partition`) in `partition_time`, added if new.
    fn partition_time_slot(&mut self, topic: &Arc<str>, partition: i32) -> usize {
        // The topic is usually the very `Arc` stored here: compare pointers before bytes.
        match self
            .partition_time
            .iter()
            .position(|(t, p, _)| *p == partition && (Arc::ptr_eq(t, topic) || t == topic))
        {
            Some(i) => i,
            None => {
                self.partition_time.push((
                    Arc::clone(topic),
                    partition,
                    super::task_state::UNKNOWN_TIME,
                ));
                self.partition_time.len() - 1
            }
        }
    }
}

impl<K, V, KC, VC, TE> RawInput for SourceNode<K, V, KC, VC, TE>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
    TE: TimestampExtractor<K, V>,
{
    fn process_raw(
        &mut self,
        raw: RawRecord<'_>,
        task: &mut TaskState,
    ) -> Result<(), StreamsError> {
        let metadata = || RecordMetadata {
            topic: Arc::clone(raw.topic),
            partition: raw.partition,
            offset: raw.offset,
        };
        let deser_error = |part, source| StreamsError::Deserialization {
            node: self.info.name.to_string(),
            metadata: metadata(),
            part,
            source,
        };
        let decoded = match self.key_codec.decode_nullable(raw.key) {
            Ok(key) => self
                .value_codec
                .decode_nullable(raw.value)
                .map(|value| (key, value))
                .map_err(|e| (RecordPart::Value, e)),
            Err(e) => Err((RecordPart::Key, e)),
        };
        let (key, value) = match decoded {
            Ok(kv) => kv,
            Err((part, CodecError::Null { type_name })) if self.skip_nulls => {
                warn!(
                    node = %self.info.name,
                    record = %metadata(),
                    type_name,
                    "skipping a record with a null {part} that `{type_name}` cannot hold \
                     (declare the type as Option<_> to receive nulls)"
                );
                task.stream_time = task.stream_time.max(raw.timestamp);
                task.dropped_records += 1;
                return Ok(());
            }
            Err((part, e)) => return Err(deser_error(part, e)),
        };
        let slot = self.partition_time_slot(raw.topic, raw.partition);
        let partition_time = self.partition_time[slot].2;
        let mut timestamp = self
            .extractor
            .extract(&key, &value, raw.timestamp, partition_time);
        if timestamp < 0 {
            let invalid = || StreamsError::InvalidTimestamp {
                node: self.info.name.to_string(),
                metadata: metadata(),
                timestamp,
            };
            match self.policy {
                InvalidTimestampPolicy::LogAndSkip => {
                    warn!(
                        node = %self.info.name,
                        record = %metadata(),
                        timestamp,
                        "skipping a record with an invalid (negative) timestamp"
                    );
                    return Ok(());
                }
                InvalidTimestampPolicy::UsePartitionTime if partition_time >= 0 => {
                    timestamp = partition_time;
                }
                InvalidTimestampPolicy::Fail | InvalidTimestampPolicy::UsePartitionTime => {
                    return Err(invalid());
                }
            }
        }
        let time = &mut self.partition_time[slot].2;
        *time = (*time).max(timestamp);
        task.stream_time = task.stream_time.max(timestamp);
        task.set_metadata(raw.topic, raw.partition, raw.offset);
        let record = Record {
            key,
            value,
            timestamp,
            headers: raw.headers,
        };
        let result = forward_all(&self.children, record, task);
        result.map_err(|e| to_streams_error(e, &self.info.name, task))
    }

    fn extract_timestamp(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> i64 {
        // The default extractor returns the record's timestamp: no need to decode.
        if std::any::TypeId::of::<TE>() == std::any::TypeId::of::<RecordTimestamp>() {
            return timestamp;
        }
        let (Ok(key), Ok(value)) = (
            self.key_codec.decode_nullable(key),
            self.value_codec.decode_nullable(value),
        ) else {
            return timestamp;
        };
        let slot = self.partition_time_slot(topic, partition);
        let partition_time = self.partition_time[slot].2;
        let extracted = self
            .extractor
            .extract(&key, &value, timestamp, partition_time);
        if extracted < 0 { timestamp } else { extracted }
    }
}

impl<K, V, KC, VC, TE> NodeLifecycle for SourceNode<K, V, KC, VC, TE> {
    fn init(&mut self, _task: &mut TaskState) -> Result<(), StreamsError> {
        Ok(())
    }

    fn punctuate(&mut self, _p: Punctuation, _task: &mut TaskState) -> Result<(), StreamsError> {
        Ok(())
    }

    fn close(&mut self) {}
}

/// A processor in a task's graph: the user's [`Processor`], and the children it forwards to.
pub(crate) struct ProcessorNode<P: Processor> {
    pub(crate) info: NodeInfo,
    pub(crate) processor: P,
    pub(crate) children: Vec<Child<P::KOut, P::VOut>>,
}

impl<P: Processor> NodeInput<P::KIn, P::VIn> for ProcessorNode<P> {
    fn process(
        &mut self,
        record: Record<P::KIn, P::VIn>,
        task: &mut TaskState,
    ) -> Result<(), ProcessorError> {
        let mut ctx = ProcessorContext::new(&self.info, &self.children, task);
        self.processor
            .process(record, &mut ctx)
            .map_err(|e| to_processor_error(e, &self.info.name, task))
    }
}

impl<P: Processor> NodeLifecycle for ProcessorNode<P> {
    fn init(&mut self, task: &mut TaskState) -> Result<(), StreamsError> {
        let mut ctx = ProcessorContext::new(&self.info, &self.children, task);
        self.processor
            .init(&mut ctx)
            .map_err(|e| to_streams_error(e, &self.info.name, task))
    }

    fn punctuate(
        &mut self,
        punctuation: Punctuation,
        task: &mut TaskState,
    ) -> Result<(), StreamsError> {
        let mut ctx = ProcessorContext::new(&self.info, &self.children, task);
        self.processor
            .punctuate(punctuation, &mut ctx)
            .map_err(|e| to_streams_error(e, &self.info.name, task))
    }

    fn commit(&mut self, task: &mut TaskState) -> Result<(), StreamsError> {
        let mut ctx = ProcessorContext::new(&self.info, &self.children, task);
        self.processor
            .on_commit(&mut ctx)
            .map_err(|e| to_streams_error(e, &self.info.name, task))
    }

    fn close(&mut self) {
        self.processor.close();
    }
}

/// What a topic-name extractor sees besides the key and value.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'a> {
    /// The input record being processed, `None` in a punctuation.
    pub metadata: Option<&'a RecordMetadata>,
    /// The output record's timestamp.
    pub timestamp: i64,
    /// The output record's headers.
    pub headers: &'a Headers,
}

/// Chooses a sink's topic per record — Kafka Streams' `TopicNameExtractor`.
///
/// Any `Fn(&K, &V, &RecordContext<'_>) -> String` is one. Every topic it names must exist.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a topic-name extractor for keys `{K}` and values `{V}`",
    note = "use a closure `|key: &K, value: &V, ctx: &RecordContext<'_>| -> String`"
)]
pub trait TopicNameExtractor<K, V>: Send + Sync + 'static {
    /// The topic for this record.
    fn extract(&self, key: &K, value: &V, ctx: &RecordContext<'_>) -> String;
}

impl<K, V, F> TopicNameExtractor<K, V> for F
where
    F: Fn(&K, &V, &RecordContext<'_>) -> String + Send + Sync + 'static,
{
    fn extract(&self, key: &K, value: &V, ctx: &RecordContext<'_>) -> String {
        self(key, value, ctx)
    }
}

/// Chooses the partition a sink writes each record to — Kafka Streams' `StreamPartitioner`.
/// `None` leaves the choice to the producer's partitioner (`murmur2_random` over the key's
/// bytes, as Java producers).
///
/// Any `Fn(&str, &K, &V, i32) -> Option<i32>` (topic, key, value, partition count) is one.
///
/// ```
/// use streams_core::topology::StreamPartitioner;
/// /// Orders of one region go to one partition.
/// let by_region = |_topic: &str, _order: &String, region: &u32, partitions: i32| {
///     Some((*region as i32).rem_euclid(partitions))
/// };
/// assert_eq!(by_region.partition("orders", &"o-1".to_string(), &7, 4), Some(3));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a stream partitioner for keys `{K}` and values `{V}`",
    note = "use a closure `|topic: &str, key: &K, value: &V, partitions: i32| -> Option<i32>`"
)]
pub trait StreamPartitioner<K, V>: Send + Sync + 'static {
    /// The partition for this record, in `0..partitions`; `None` for the producer's choice.
    fn partition(&self, topic: &str, key: &K, value: &V, partitions: i32) -> Option<i32>;
}

impl<K, V, F> StreamPartitioner<K, V> for F
where
    F: Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync + 'static,
{
    fn partition(&self, topic: &str, key: &K, value: &V, partitions: i32) -> Option<i32> {
        self(topic, key, value, partitions)
    }
}

/// Where a sink writes: one topic, or the topic an extractor picks per record.
pub(crate) enum SinkTopic<K, V> {
    Fixed(Arc<str>),
    Extractor(Arc<dyn TopicNameExtractor<K, V>>),
}

impl<K, V> Clone for SinkTopic<K, V> {
    fn clone(&self) -> Self {
        match self {
            SinkTopic::Fixed(t) => SinkTopic::Fixed(Arc::clone(t)),
            SinkTopic::Extractor(e) => SinkTopic::Extractor(Arc::clone(e)),
        }
    }
}

/// A sink in a task's graph: encodes a record's key and value into reused buffers and hands
/// them to the task's record collector (the producer, or the test driver's capture).
pub(crate) struct SinkNode<K, V, KC, VC> {
    pub(crate) info: NodeInfo,
    pub(crate) topic: SinkTopic<K, V>,
    pub(crate) partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) key_buf: Vec<u8>,
    pub(crate) value_buf: Vec<u8>,
}

impl<K: 'static, V: 'static, KC, VC> SinkNode<K, V, KC, VC>
where
    KC: Codec<K>,
    VC: Codec<V>,
{
    fn write(&mut self, record: &Record<K, V>, task: &mut TaskState) -> Result<(), StreamsError> {
        let extracted;
        let topic: &str = match &self.topic {
            SinkTopic::Fixed(topic) => topic,
            SinkTopic::Extractor(extractor) => {
                let ctx = RecordContext {
                    metadata: task.metadata(),
                    timestamp: record.timestamp,
                    headers: &record.headers,
                };
                extracted = extractor.extract(&record.key, &record.value, &ctx);
                &extracted
            }
        };
        if record.timestamp < 0 {
            return Err(StreamsError::NegativeOutputTimestamp {
                node: self.info.name.to_string(),
                topic: topic.to_string(),
                timestamp: record.timestamp,
            });
        }
        let ser_error = |part, source| StreamsError::Serialization {
            node: self.info.name.to_string(),
            topic: topic.to_string(),
            part,
            source,
        };
        let key = self
            .key_codec
            .encode_nullable(&record.key, &mut self.key_buf)
            .map_err(|e| ser_error(RecordPart::Key, e))?;
        let value = self
            .value_codec
            .encode_nullable(&record.value, &mut self.value_buf)
            .map_err(|e| ser_error(RecordPart::Value, e))?;
        let partition = match &self.partitioner {
            None => None,
            Some(partitioner) => {
                let partitions = task.collector.partition_count(topic)?;
                match partitioner.partition(topic, &record.key, &record.value, partitions) {
                    Some(p) if !(0..partitions).contains(&p) => {
                        return Err(StreamsError::PartitionOutOfRange {
                            node: self.info.name.to_string(),
                            topic: topic.to_string(),
                            partition: p,
                            partitions,
                        });
                    }
                    chosen => chosen,
                }
            }
        };
        task.collector.send(OutputRecord {
            topic,
            partition,
            key,
            value,
            timestamp: record.timestamp,
            headers: &record.headers,
        })
    }
}

impl<K: 'static, V: 'static, KC, VC> NodeInput<K, V> for SinkNode<K, V, KC, VC>
where
    KC: Codec<K>,
    VC: Codec<V>,
{
    fn process(
        &mut self,
        record: Record<K, V>,
        task: &mut TaskState,
    ) -> Result<(), ProcessorError> {
        self.write(&record, task).map_err(ProcessorError::new)
    }
}

impl<K, V, KC, VC> NodeLifecycle for SinkNode<K, V, KC, VC> {
    fn init(&mut self, _task: &mut TaskState) -> Result<(), StreamsError> {
        Ok(())
    }

    fn punctuate(&mut self, _p: Punctuation, _task: &mut TaskState) -> Result<(), StreamsError> {
        Ok(())
    }

    fn close(&mut self) {}
}
