//! `KTable::suppress` — Kafka Streams' `KTableSuppressProcessor` and the in-memory buffer it
//! keeps its updates in (`InMemoryTimeOrderedKeyValueChangeBuffer`), with the buffer's changelog
//! in Kafka Streams' byte layout.
//!
//! The buffer holds one entry per key, in bytes (as the table's codecs write them), ordered by
//! *buffer time* — the window end for final results, the time of the key's first buffered update
//! for a time limit — and then key bytes. A key's later updates replace its entry in place
//! (Kafka Streams' "non-resetting" semantics: the buffer time stays that of the first update).
//! Entries leave the buffer, oldest buffer time first, when stream time has passed their buffer
//! time by the suppression's duration, or early when the buffer is over its limits and the
//! configuration says to emit rather than fail.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::Codec;
use crate::dsl::Change;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Header, Headers, Record, RecordMetadata};
use crate::state::{
    BuiltStore, ChangelogRecord, ChangelogSink, RestoreRecord, StateStore, StoreBuilder,
    StoreContext, StoreError, StoreKind,
};

use super::aggregate::initialized;

/// Kafka Streams' `BufferValue` sentinels for the old value's length.
const NULL_VALUE: i32 = -1;
const OLD_IS_PRIOR: i32 = -2;

/// How a suppression buffers and when it emits, resolved from `Suppressed` and the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SuppressSpec {
    /// How long after its buffer time an entry is emitted (the grace period for final results).
    pub(crate) duration_ms: i64,
    pub(crate) max_records: u64,
    pub(crate) max_bytes: u64,
    /// Over the limits: fail (`true`) or emit the oldest entries early (`false`).
    pub(crate) shut_down_when_full: bool,
    /// Final results drop deletes (a window never deletes); a time limit forwards them.
    pub(crate) safe_to_drop_tombstones: bool,
    pub(crate) logging: bool,
}

/// The record context Kafka Streams keeps with each buffered update (`ProcessorRecordContext`):
/// the update is emitted with its timestamp and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BufferedContext {
    pub(crate) timestamp: i64,
    pub(crate) offset: i64,
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) headers: Headers,
}

impl BufferedContext {
    /// The context of the record being processed (offset -1, no topic, partition -1 when it
    /// has no metadata, e.g. from a punctuation).
    pub(crate) fn of(metadata: Option<&RecordMetadata>, timestamp: i64, headers: Headers) -> Self {
        match metadata {
            Some(m) => BufferedContext {
                timestamp,
                offset: m.offset,
                topic: m.topic.to_string(),
                partition: m.partition,
                headers,
            },
            None => BufferedContext {
                timestamp,
                offset: -1,
                topic: String::new(),
                partition: -1,
                headers,
            },
        }
    }

    /// Kafka Streams' `ProcessorRecordContext.residentMemorySizeEstimate` (Java chars for
    /// strings).
    fn size_estimate(&self) -> u64 {
        let mut size = 8 + 8 + java_chars(&self.topic) + 4;
        for header in &self.headers {
            size += java_chars(&header.key) + header.value.as_ref().map_or(0, |v| v.len() as u64);
        }
        size
    }

    /// Kafka Streams' `ProcessorRecordContext.serialize`.
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.offset.to_be_bytes());
        put_bytes(out, Some(self.topic.as_bytes()));
        out.extend_from_slice(&self.partition.to_be_bytes());
        out.extend_from_slice(&(self.headers.len() as i32).to_be_bytes());
        for header in &self.headers {
            put_bytes(out, Some(header.key.as_bytes()));
            put_bytes(out, header.value.as_deref());
        }
    }

    fn deserialize(input: &mut Reader<'_>) -> Option<Self> {
        let timestamp = input.i64()?;
        let offset = input.i64()?;
        let topic = String::from_utf8(input.bytes()?.unwrap_or_default()).ok()?;
        let partition = input.i32()?;
        let count = input.i32()?;
        let mut headers = Vec::new();
        for _ in 0..count.max(0) {
            let key = String::from_utf8(input.bytes()?.unwrap_or_default()).ok()?;
            let value = input.bytes()?;
            headers.push(Header { key, value });
        }
        Some(BufferedContext {
            timestamp,
            offset,
            topic,
            partition,
            headers: headers.into_iter().collect(),
        })
    }
}

fn java_chars(s: &str) -> u64 {
    s.encode_utf16().count() as u64
}

fn put_bytes(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(&NULL_VALUE.to_be_bytes()),
    }
}

/// A cursor over a changelog value.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A length-prefixed byte array; a negative length is null.
    fn bytes(&mut self) -> Option<Option<Vec<u8>>> {
        let len = self.i32()?;
        match usize::try_from(len) {
            Ok(len) => Some(Some(self.take(len)?.to_vec())),
            Err(_) => Some(None),
        }
    }
}

/// One buffered update — Kafka Streams' `BufferValue`: the value before the key was first
/// buffered (`prior`), the update's old and new values, and its record context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BufferValue {
    prior: Option<Vec<u8>>,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
    context: BufferedContext,
}

impl BufferValue {
    /// A buffered stream record (a stream-table join's grace period): its value only.
    pub(crate) fn record(value: Vec<u8>, context: BufferedContext) -> Self {
        BufferValue {
            prior: None,
            old: None,
            new: Some(value),
            context,
        }
    }

    /// The new value and the record context.
    pub(crate) fn into_record(self) -> (Option<Vec<u8>>, BufferedContext) {
        (self.new, self.context)
    }

    /// The changelog value of a buffered entry: Kafka Streams' buffer value (format 3), then the
    /// buffer time.
    pub(crate) fn encode_with_time(&self, time: i64) -> Vec<u8> {
        let mut out = Vec::new();
        self.serialize(&mut out);
        out.extend_from_slice(&time.to_be_bytes());
        out
    }

    /// Reads [`encode_with_time`](Self::encode_with_time)'s layout; `None` if the bytes are not
    /// in it.
    pub(crate) fn decode_with_time(bytes: &[u8]) -> Option<(Self, i64)> {
        let mut input = Reader(bytes);
        let value = BufferValue::deserialize(&mut input)?;
        let time = input.i64()?;
        input.0.is_empty().then_some((value, time))
    }

    /// Whether the old value is the prior one (stored once, as Kafka Streams shares the array).
    fn old_is_prior(&self) -> bool {
        self.old == self.prior
    }

    fn size_estimate(&self) -> u64 {
        let len = |v: &Option<Vec<u8>>| v.as_ref().map_or(0, |v| v.len() as u64);
        let old = if self.old_is_prior() {
            0
        } else {
            len(&self.old)
        };
        len(&self.prior) + old + len(&self.new) + self.context.size_estimate()
    }

    /// Kafka Streams' `BufferValue.serialize`.
    fn serialize(&self, out: &mut Vec<u8>) {
        self.context.serialize(out);
        put_bytes(out, self.prior.as_deref());
        match &self.old {
            None => out.extend_from_slice(&NULL_VALUE.to_be_bytes()),
            Some(_) if self.old_is_prior() => out.extend_from_slice(&OLD_IS_PRIOR.to_be_bytes()),
            Some(old) => put_bytes(out, Some(old)),
        }
        put_bytes(out, self.new.as_deref());
    }

    fn deserialize(input: &mut Reader<'_>) -> Option<Self> {
        let context = BufferedContext::deserialize(input)?;
        let prior = input.bytes()?;
        let old = match input.i32()? {
            OLD_IS_PRIOR => prior.clone(),
            len => match usize::try_from(len) {
                Ok(len) => Some(input.take(len)?.to_vec()),
                Err(_) => None,
            },
        };
        let new = input.bytes()?;
        Some(BufferValue {
            prior,
            old,
            new,
            context,
        })
    }
}

/// An entry leaving the buffer.
pub(crate) struct Eviction {
    pub(crate) key: Vec<u8>,
    pub(crate) value: BufferValue,
}

#[derive(Default)]
struct BufferState {
    /// Key bytes → buffer time.
    index: HashMap<Vec<u8>, i64>,
    sorted: BTreeMap<(i64, Vec<u8>), BufferValue>,
    bytes: u64,
    /// Keys changed since the last changelog flush.
    dirty: BTreeSet<Vec<u8>>,
}

impl BufferState {
    fn entry_size(key: &[u8], value: &BufferValue) -> u64 {
        key.len() as u64 + value.size_estimate()
    }

    /// Kafka Streams' `cleanPut`: a key already buffered keeps its place (buffer time).
    fn clean_put(&mut self, time: i64, key: Vec<u8>, value: BufferValue) {
        let added = Self::entry_size(&key, &value);
        match self.index.get(&key) {
            Some(&existing) => {
                let removed = self
                    .sorted
                    .insert((existing, key.clone()), value)
                    .map_or(0, |old| Self::entry_size(&key, &old));
                self.bytes = (self.bytes + added).saturating_sub(removed);
            }
            None => {
                self.index.insert(key.clone(), time);
                self.sorted.insert((time, key), value);
                self.bytes += added;
            }
        }
    }

    fn remove(&mut self, key: &[u8]) {
        if let Some(time) = self.index.remove(key)
            && let Some(old) = self.sorted.remove(&(time, key.to_vec()))
        {
            self.bytes = self.bytes.saturating_sub(Self::entry_size(key, &old));
        }
    }
}

/// A suppression's buffer, one per task: the handle its processor uses and the store the
/// runtime flushes (writing the changelog) and restores.
#[derive(Clone)]
pub(crate) struct SuppressBuffer {
    name: Rc<str>,
    state: Rc<RefCell<BufferState>>,
    changelog: Option<Rc<dyn ChangelogSink>>,
}

impl SuppressBuffer {
    fn new(name: &str, changelog: Option<Rc<dyn ChangelogSink>>) -> Self {
        SuppressBuffer {
            name: Rc::from(name),
            state: Rc::default(),
            changelog,
        }
    }

    fn state(&self) -> Result<std::cell::RefMut<'_, BufferState>, StoreError> {
        self.state
            .try_borrow_mut()
            .map_err(|_| StoreError::reentrant(&self.name))
    }

    /// Buffers an update of `key` (Kafka Streams' `put`): the prior value is the old value of
    /// the key's first buffered update.
    pub(crate) fn put(
        &self,
        time: i64,
        key: Vec<u8>,
        old: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        context: BufferedContext,
    ) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let prior = match state.index.get(&key) {
            Some(&t) => state
                .sorted
                .get(&(t, key.clone()))
                .and_then(|v| v.prior.clone()),
            None => old.clone(),
        };
        if self.changelog.is_some() {
            state.dirty.insert(key.clone());
        }
        state.clean_put(
            time,
            key,
            BufferValue {
                prior,
                old,
                new,
                context,
            },
        );
        Ok(())
    }

    /// The smallest buffer time (`i64::MAX` when empty).
    #[cfg(test)]
    fn min_timestamp(&self) -> Result<i64, StoreError> {
        Ok(self
            .state()?
            .sorted
            .first_key_value()
            .map_or(i64::MAX, |((t, _), _)| *t))
    }

    /// (records, bytes) buffered.
    pub(crate) fn size(&self) -> Result<(u64, u64), StoreError> {
        let state = self.state()?;
        Ok((state.sorted.len() as u64, state.bytes))
    }

    /// Removes and returns the entry with the smallest buffer time, if `should_evict` says so
    /// (given the buffer's smallest time, records and bytes).
    pub(crate) fn evict_if(
        &self,
        should_evict: impl Fn(i64, u64, u64) -> bool,
    ) -> Result<Option<Eviction>, StoreError> {
        let mut state = self.state()?;
        let Some(((time, _), _)) = state.sorted.first_key_value() else {
            return Ok(None);
        };
        if !should_evict(*time, state.sorted.len() as u64, state.bytes) {
            return Ok(None);
        }
        let Some(((_, key), value)) = state.sorted.pop_first() else {
            return Ok(None);
        };
        state.index.remove(&key);
        state.bytes = state
            .bytes
            .saturating_sub(BufferState::entry_size(&key, &value));
        if self.changelog.is_some() {
            state.dirty.insert(key.clone());
        }
        Ok(Some(Eviction { key, value }))
    }
}

impl StateStore for SuppressBuffer {
    fn name(&self) -> &str {
        &self.name
    }

    /// Writes the changed keys to the changelog: each buffered entry as Kafka Streams' buffer
    /// changelog value (format version 3: record context, prior, old and new values, then the
    /// buffer time), an evicted one as a tombstone.
    fn flush(&self) -> Result<(), StoreError> {
        let Some(sink) = &self.changelog else {
            return Ok(());
        };
        let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = {
            let mut state = self.state()?;
            let dirty = std::mem::take(&mut state.dirty);
            dirty
                .into_iter()
                .map(|key| {
                    let value = state.index.get(&key).and_then(|&time| {
                        let value = state.sorted.get(&(time, key.clone()))?;
                        Some(value.encode_with_time(time))
                    });
                    (key, value)
                })
                .collect()
        };
        for (key, value) in &records {
            sink.send(ChangelogRecord {
                store: &self.name,
                key,
                value: value.as_deref(),
                timestamp: None,
            })?;
        }
        Ok(())
    }

    fn flush_cache(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn restore_batch(&self, records: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        let mut state = self.state()?;
        for record in records {
            match record.value {
                None => state.remove(record.key),
                Some(bytes) => {
                    let Some((value, time)) = BufferValue::decode_with_time(bytes) else {
                        return Err(StoreError::corrupt(
                            &self.name,
                            "a suppression buffer changelog value not in Kafka Streams' format 3",
                        ));
                    };
                    state.clean_put(time, record.key.to_vec(), value);
                }
            }
        }
        Ok(())
    }

    fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Declares a suppression's buffer: an in-memory store whose changelog (compacted, like a
/// key-value store's) restores it.
pub(crate) struct SuppressBufferBuilder {
    pub(crate) name: String,
    pub(crate) logging: bool,
}

impl StoreBuilder for SuppressBufferBuilder {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> StoreKind {
        StoreKind::KeyValue
    }

    fn persistent(&self) -> bool {
        false
    }

    fn logging(&self) -> bool {
        self.logging
    }

    fn caching(&self) -> bool {
        false
    }

    fn retention(&self) -> Option<std::time::Duration> {
        None
    }

    fn build(&self, ctx: &StoreContext) -> Result<BuiltStore, StoreError> {
        let changelog = if self.logging {
            ctx.changelog().cloned()
        } else {
            None
        };
        let buffer = SuppressBuffer::new(&self.name, changelog);
        let store: Rc<dyn StateStore> = Rc::new(buffer.clone());
        Ok(BuiltStore::new(buffer, store))
    }
}

/// The suppression node.
pub(crate) struct Suppress<K, V, KC, VC> {
    pub(crate) store: Arc<str>,
    pub(crate) spec: SuppressSpec,
    /// The buffer time of an update: the window end, or the record time.
    pub(crate) buffer_time: fn(&K, i64) -> i64,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) buffer: Option<SuppressBuffer>,
    pub(crate) observed: i64,
    pub(crate) types: PhantomData<fn() -> V>,
}

impl<K, V, KC, VC> Suppress<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    fn encode_value(&self, value: Option<&V>) -> Result<Option<Vec<u8>>, ProcessorError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        Ok(self
            .value_codec
            .encode_nullable(value, &mut buf)?
            .map(<[u8]>::to_vec))
    }

    fn decode_value(&self, bytes: Option<Vec<u8>>) -> Result<Option<V>, ProcessorError> {
        match bytes {
            Some(bytes) => Ok(Some(self.value_codec.decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Emits one evicted entry downstream with its own timestamp and headers (a delete only if
    /// deletes are not safe to drop).
    fn emit(
        &self,
        eviction: Eviction,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        let value = eviction.value;
        if value.new.is_none() && self.spec.safe_to_drop_tombstones {
            return Ok(());
        }
        let key = self.key_codec.decode(&eviction.key)?;
        let change = Change::new(self.decode_value(value.new)?, self.decode_value(value.old)?);
        ctx.forward(
            Record::new(key, change, value.context.timestamp).with_headers(value.context.headers),
        )
    }

    /// Kafka Streams' `enforceConstraints`: emits what is due, then what is over the limits (or
    /// fails).
    fn enforce_constraints(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        let buffer = initialized(&self.buffer)?;
        let expiry = self.observed.saturating_sub(self.spec.duration_ms);
        while let Some(eviction) = buffer.evict_if(|min, _, _| min <= expiry)? {
            self.emit(eviction, ctx)?;
        }
        let (max_records, max_bytes) = (self.spec.max_records, self.spec.max_bytes);
        let over = move |records: u64, bytes: u64| records > max_records || bytes > max_bytes;
        let (records, bytes) = buffer.size()?;
        if !over(records, bytes) {
            return Ok(());
        }
        if self.spec.shut_down_when_full {
            return Err(ProcessorError::msg(format!(
                "{} buffer exceeded its max capacity. Currently [{records}/{max_records}] records and [{bytes}/{max_bytes}] bytes.",
                ctx.node_name()
            )));
        }
        while let Some(eviction) = buffer.evict_if(|_, records, bytes| over(records, bytes))? {
            self.emit(eviction, ctx)?;
        }
        Ok(())
    }
}

impl<K, V, KC, VC> Processor for Suppress<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    type KIn = K;
    type VIn = Change<V>;
    type KOut = K;
    type VOut = Change<V>;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), ProcessorError> {
        self.buffer = Some(ctx.store_handle::<SuppressBuffer>(&self.store)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        self.observed = self.observed.max(r.timestamp);
        let time = (self.buffer_time)(&r.key, r.timestamp);
        let mut key = Vec::new();
        self.key_codec.encode(&r.key, &mut key)?;
        let new = self.encode_value(r.value.new_value.as_ref())?;
        let old = self.encode_value(r.value.old_value.as_ref())?;
        let context = BufferedContext::of(ctx.record_metadata(), r.timestamp, r.headers);
        initialized(&self.buffer)?.put(time, key, old, new, context)?;
        self.enforce_constraints(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(timestamp: i64) -> BufferedContext {
        BufferedContext {
            timestamp,
            offset: 0,
            topic: "input".to_string(),
            partition: 0,
            headers: Headers::new(),
        }
    }

    fn long(n: i64) -> Option<Vec<u8>> {
        Some(n.to_be_bytes().to_vec())
    }

    fn key(k: &str, start: i64) -> Vec<u8> {
        [k.as_bytes(), &start.to_be_bytes()].concat()
    }

    type Logged = (Vec<u8>, Option<Vec<u8>>);

    #[derive(Default)]
    struct Recorder(RefCell<Vec<Logged>>);

    impl ChangelogSink for Recorder {
        fn send(&self, record: ChangelogRecord<'_>) -> Result<(), StoreError> {
            self.0
                .borrow_mut()
                .push((record.key.to_vec(), record.value.map(<[u8]>::to_vec)));
            Ok(())
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Two updates of one window, as Kafka Streams 4.4 logs them (captured from its
    /// `TopologyTestDriver`): count 1 (old: the initializer's 0) then count 2, buffered until
    /// the window end 10000.
    #[test]
    fn changelog_values_are_kafka_streams_format_3() {
        let sink = Rc::new(Recorder::default());
        let buffer = SuppressBuffer::new("buf", Some(sink.clone()));
        buffer
            .put(10_000, key("A", 0), long(0), long(1), context(1_000))
            .unwrap();
        buffer.flush().unwrap();
        let mut ctx = context(3_000);
        ctx.offset = 1;
        buffer
            .put(10_000, key("A", 0), long(1), long(2), ctx)
            .unwrap();
        buffer.flush().unwrap();
        let logged = sink.0.borrow().clone();
        assert_eq!(hex(&logged[0].0), "410000000000000000");
        assert_eq!(
            hex(logged[0].1.as_deref().unwrap()),
            "00000000000003e8000000000000000000000005696e7075740000000000000000\
             000000080000000000000000fffffffe0000000800000000000000010000000000002710"
        );
        assert_eq!(
            hex(logged[1].1.as_deref().unwrap()),
            "0000000000000bb8000000000000000100000005696e7075740000000000000000\
             0000000800000000000000000000000800000000000000010000000800000000000000020000000000002710"
        );

        // Restoring the changelog gives back the same buffer.
        let restored = SuppressBuffer::new("buf", None);
        let records: Vec<RestoreRecord<'_>> = logged
            .iter()
            .map(|(k, v)| RestoreRecord {
                key: k,
                value: v.as_deref(),
                timestamp: 0,
            })
            .collect();
        restored.restore_batch(&records).unwrap();
        assert_eq!(restored.size().unwrap(), buffer.size().unwrap());
        let a = restored.evict_if(|_, _, _| true).unwrap().unwrap();
        let b = buffer.evict_if(|_, _, _| true).unwrap().unwrap();
        assert_eq!(a.value, b.value);
        assert_eq!(
            a.value.prior,
            long(0),
            "the prior value is the first update's old value"
        );

        // An evicted key is logged as a tombstone.
        buffer.flush().unwrap();
        assert_eq!(sink.0.borrow().last().unwrap().1, None);
        assert!(
            restored
                .restore_batch(&[RestoreRecord {
                    key: b"x",
                    value: Some(b"bad"),
                    timestamp: 0
                }])
                .is_err()
        );
    }

    #[test]
    fn entries_keep_the_buffer_time_of_their_first_update_and_leave_oldest_first() {
        let buffer = SuppressBuffer::new("buf", None);
        buffer
            .put(5, b"b".to_vec(), None, long(1), context(5))
            .unwrap();
        buffer
            .put(3, b"c".to_vec(), None, long(1), context(3))
            .unwrap();
        buffer
            .put(3, b"a".to_vec(), None, long(1), context(3))
            .unwrap();
        // A later update of `c` keeps its place (time 3) and replaces its value.
        buffer
            .put(9, b"c".to_vec(), long(1), long(2), context(9))
            .unwrap();
        assert_eq!(buffer.min_timestamp().unwrap(), 3);
        let mut order = Vec::new();
        while let Some(e) = buffer.evict_if(|min, _, _| min <= 4).unwrap() {
            order.push((e.key, e.value.new, e.value.context.timestamp));
        }
        assert_eq!(
            order,
            [(b"a".to_vec(), long(1), 3), (b"c".to_vec(), long(2), 9)],
            "by buffer time, then key bytes; emitted with the latest update's context"
        );
        assert_eq!(buffer.size().unwrap().0, 1);
        assert_eq!(buffer.min_timestamp().unwrap(), 5);
    }

    #[test]
    fn sizes_count_the_prior_value_once_when_it_is_the_old_value() {
        let buffer = SuppressBuffer::new("buf", None);
        // key 1 + prior 8 (old is the prior: not counted again) + new 8 + context 8+8+5+4.
        buffer
            .put(0, b"k".to_vec(), long(0), long(1), context(0))
            .unwrap();
        assert_eq!(buffer.size().unwrap(), (1, 1 + 8 + 8 + 25));
        // Now prior 0, old 1, new 2: all three count.
        buffer
            .put(0, b"k".to_vec(), long(1), long(2), context(0))
            .unwrap();
        assert_eq!(buffer.size().unwrap(), (1, 1 + 24 + 25));
        let evicted = buffer.evict_if(|_, records, _| records > 0).unwrap();
        assert!(evicted.is_some());
        assert_eq!(buffer.size().unwrap(), (0, 0));
    }
}
