//! Joining two streams within a time window — Kafka Streams' `KStreamJoinWindow` (each side's
//! records kept in a window store) and `KStreamKStreamJoin` (each side's records joined with
//! the other side's store; for left and outer joins, records without a partner wait in a
//! shared store until their window closes and are then emitted joined with nothing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::codec::Codec;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext, TaskId};
use crate::record::Record;
use crate::state::{KeyValueStore, WindowStore};

use super::Types;
use super::aggregate::{initialized, skip_null};

/// `KStreamJoinWindow`: keeps each record (unless its key is null) in the side's window store,
/// for the other side to join, and passes it on.
pub(crate) struct JoinWindowed<K, V, KC> {
    pub(crate) store_name: Arc<str>,
    pub(crate) store: Option<WindowStore<K, V>>,
    pub(crate) key_codec: KC,
}

impl<K, V, KC> Processor for JoinWindowed<K, V, KC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
{
    type KIn = K;
    type VIn = V;
    type KOut = K;
    type VOut = V;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, V>) -> Result<(), ProcessorError> {
        self.store = Some(ctx.window_store(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, V>,
    ) -> Result<(), ProcessorError> {
        // Kept before it is passed on (Kafka Streams passes it on first): the same, since the
        // join downstream reads the other side's store only, and no copy of the record is made.
        if !self.key_codec.is_null(&r.key) {
            initialized(&self.store)?.put(&r.key, &r.value, r.timestamp)?;
        }
        ctx.forward(r)
    }
}

/// The time both sides of one join share in one task — Kafka Streams' `TimeTracker`.
#[derive(Debug)]
pub(crate) struct TimeTracker {
    /// The highest timestamp either side has seen.
    stream_time: i64,
    /// A lower bound of the timestamps waiting in the shared store.
    min_time: i64,
    /// The wall-clock time before which the shared store is not scanned again (the emit
    /// interval throttles the scans, as in Kafka Streams).
    next_time_to_emit: i64,
}

impl Default for TimeTracker {
    fn default() -> Self {
        TimeTracker {
            stream_time: -1,
            min_time: i64::MAX,
            next_time_to_emit: 0,
        }
    }
}

/// The time trackers of one join, one per task (both sides' processors of a task find theirs
/// by the task id).
pub(crate) type TimeTrackers = Arc<Mutex<HashMap<TaskId, Arc<Mutex<TimeTracker>>>>>;

/// A joiner seen from one side: (this side's value, the other side's), one of them missing
/// for a record without partner; `None` where the join has no result.
pub(crate) type StreamJoiner<VThis, VOther, VR> =
    Arc<dyn Fn(Option<VThis>, Option<VOther>) -> Option<VR> + Send + Sync>;

/// One side of a stream-stream join (`KSTREAM-JOINTHIS`, `KSTREAM-OUTEROTHER`, …).
pub(crate) struct StreamJoinSide<K, VThis, VOther, VR, KC, TC, OC> {
    pub(crate) joiner: StreamJoiner<VThis, VOther, VR>,
    /// This side is the join's left one.
    pub(crate) is_left: bool,
    /// This side's records without partner are results too (left join: the left side; outer
    /// join: both).
    pub(crate) outer: bool,
    /// How far back and ahead of a record of this side the other side's records join.
    pub(crate) join_before_ms: i64,
    pub(crate) join_after_ms: i64,
    /// The windows' own before and after (the left side's view) and grace period.
    pub(crate) windows_before_ms: i64,
    pub(crate) windows_after_ms: i64,
    pub(crate) grace_ms: i64,
    pub(crate) other_store_name: Arc<str>,
    pub(crate) other_store: Option<WindowStore<K, VOther>>,
    /// The shared store of records without partner yet (left and outer joins).
    pub(crate) outer_store_name: Option<Arc<str>>,
    pub(crate) outer_store: Option<KeyValueStore<Vec<u8>, Vec<u8>>>,
    pub(crate) trackers: TimeTrackers,
    pub(crate) tracker: Option<Arc<Mutex<TimeTracker>>>,
    pub(crate) key_codec: KC,
    pub(crate) this_codec: TC,
    pub(crate) other_codec: OC,
    pub(crate) types: Types<VR>,
    /// The other side's records a record joins, reused from record to record.
    pub(crate) partners: Vec<(i64, VOther)>,
}

/// A record in the shared store: `[timestamp][side: 1 left, 0 right][key]` (Kafka Streams'
/// `TimestampedKeyAndJoinSide`), so a scan goes by time.
fn outer_key(timestamp: i64, left: bool, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + key.len());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.push(u8::from(left));
    out.extend_from_slice(key);
    out
}

/// The values under one shared-store key, as Kafka Streams' `ListValueStore` keeps them (a
/// list serialized variable-size: strategy byte 1, count, then length and bytes of each),
/// each value `[side][bytes]` (`LeftOrRightValue`).
fn encode_list(values: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend_from_slice(&(values.len() as i32).to_be_bytes());
    for v in values {
        out.extend_from_slice(&(v.len() as i32).to_be_bytes());
        out.extend_from_slice(v);
    }
    out
}

fn decode_list(bytes: &[u8]) -> Result<Vec<Vec<u8>>, ProcessorError> {
    let corrupt = || ProcessorError::msg("corrupt value list in a stream-stream join store");
    let int = |at: usize| -> Result<usize, ProcessorError> {
        let raw: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(corrupt)?;
        usize::try_from(i32::from_be_bytes(raw)).map_err(|_| corrupt())
    };
    let count = int(1)?;
    let mut at = 5;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let len = int(at)?;
        at += 4;
        out.push(bytes.get(at..at + len).ok_or_else(corrupt)?.to_vec());
        at += len;
    }
    Ok(out)
}

impl<K, VThis, VOther, VR, KC, TC, OC> StreamJoinSide<K, VThis, VOther, VR, KC, TC, OC>
where
    K: Clone + 'static,
    VThis: Clone + 'static,
    VOther: Clone + 'static,
    VR: Clone + 'static,
    KC: Codec<K>,
    TC: Codec<VThis>,
    OC: Codec<VOther>,
{
    fn tracker(&self) -> Result<std::sync::MutexGuard<'_, TimeTracker>, ProcessorError> {
        Ok(initialized(&self.tracker)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }

    /// Emits the waiting records whose window has closed — Kafka Streams'
    /// `emitNonJoinedOuterRecords`, scanning the shared store in time order.
    fn emit_non_joined(
        &self,
        store: &KeyValueStore<Vec<u8>, Vec<u8>>,
        trigger: &Record<K, VThis>,
        ctx: &mut ProcessorContext<'_, K, VR>,
    ) -> Result<(), ProcessorError> {
        let stream_time = {
            let mut tracker = self.tracker()?;
            if tracker
                .min_time
                .saturating_add(self.join_after_ms + self.grace_ms)
                >= tracker.stream_time
            {
                return Ok(());
            }
            // The clock is read only when a waiting record's window may have closed.
            let now = ctx.current_system_time_ms();
            if now < tracker.next_time_to_emit {
                return Ok(());
            }
            tracker.next_time_to_emit = now.saturating_add(ctx.outer_join_emit_interval_ms());
            tracker.min_time = i64::MAX;
            tracker.stream_time
        };
        let entries: Vec<(Vec<u8>, Vec<u8>)> = store.all().collect::<Result<_, _>>()?;
        let (mut left_open, mut right_open) = (false, false);
        let mut emitted: Vec<Vec<u8>> = Vec::new();
        let mut min_time = i64::MAX;
        'scan: for (key, list) in entries {
            let Some((time, rest)) = key.split_first_chunk::<8>() else {
                return Err(ProcessorError::msg(
                    "corrupt key in a stream-stream join store",
                ));
            };
            let time = i64::from_be_bytes(*time);
            let Some((&side, key_bytes)) = rest.split_first() else {
                return Err(ProcessorError::msg(
                    "corrupt key in a stream-stream join store",
                ));
            };
            let left = side == 1;
            for value in decode_list(&list)? {
                min_time = time;
                if left_open && right_open {
                    break 'scan;
                }
                let look_ahead = if left {
                    self.windows_after_ms
                } else {
                    self.windows_before_ms
                };
                if time.saturating_add(look_ahead + self.grace_ms) >= stream_time {
                    if left {
                        left_open = true;
                    } else {
                        right_open = true;
                    }
                    continue;
                }
                let Some((_, value)) = value.split_first() else {
                    return Err(ProcessorError::msg(
                        "corrupt value in a stream-stream join store",
                    ));
                };
                let record_key = self.key_codec.decode(key_bytes)?;
                let joined = if left == self.is_left {
                    (self.joiner)(Some(self.this_codec.decode(value)?), None)
                } else {
                    (self.joiner)(None, Some(self.other_codec.decode(value)?))
                };
                if let Some(joined) = joined {
                    ctx.forward(
                        Record::new(record_key, joined, time).with_headers(trigger.headers.clone()),
                    )?;
                }
                if emitted.last() != Some(&key) {
                    emitted.push(key.clone());
                }
            }
        }
        self.tracker()?.min_time = min_time;
        for key in emitted {
            store.delete(&key)?;
        }
        Ok(())
    }
}

impl<K, VThis, VOther, VR, KC, TC, OC> Processor
    for StreamJoinSide<K, VThis, VOther, VR, KC, TC, OC>
where
    K: Clone + 'static,
    VThis: Clone + 'static,
    VOther: Clone + 'static,
    VR: Clone + 'static,
    KC: Codec<K>,
    TC: Codec<VThis>,
    OC: Codec<VOther>,
{
    type KIn = K;
    type VIn = VThis;
    type KOut = K;
    type VOut = VR;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<(), ProcessorError> {
        self.other_store = Some(ctx.window_store(&self.other_store_name)?);
        if let Some(name) = &self.outer_store_name {
            self.outer_store = Some(ctx.key_value_store(name)?);
        }
        let tracker = self
            .trackers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(ctx.task_id())
            .or_default()
            .clone();
        self.tracker = Some(tracker);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, VThis>,
        ctx: &mut ProcessorContext<'_, K, VR>,
    ) -> Result<(), ProcessorError> {
        let timestamp = r.timestamp;
        let stream_time = {
            let mut tracker = self.tracker()?;
            tracker.stream_time = tracker.stream_time.max(timestamp);
            tracker.stream_time
        };
        let null_key = self.key_codec.is_null(&r.key);
        let null_value = self.this_codec.is_null(&r.value);
        if self.outer && null_key && !null_value {
            if let Some(joined) = (self.joiner)(Some(r.value.clone()), None) {
                ctx.forward(r.with_value(joined))?;
            }
            return Ok(());
        }
        if null_key || null_value {
            skip_null(ctx, "null key or value at a stream-stream join");
            return Ok(());
        }
        if timestamp == stream_time
            && let Some(store) = &self.outer_store
        {
            self.emit_non_joined(store, &r, ctx)?;
        }
        let from = timestamp.saturating_sub(self.join_before_ms).max(0);
        let to = timestamp.saturating_add(self.join_after_ms).max(0);
        let mut partners = std::mem::take(&mut self.partners);
        initialized(&self.other_store)?.fetch_into(&r.key, from, to, &mut partners)?;
        let partnered = !partners.is_empty();
        let mut key_bytes = Vec::new();
        if self.outer_store.is_some() {
            self.key_codec.encode(&r.key, &mut key_bytes)?;
        }
        for (other_time, other) in partners.drain(..) {
            if let Some(store) = &self.outer_store {
                // The partner is joined now: it no longer waits.
                let other_key = outer_key(other_time, !self.is_left, &key_bytes);
                if store.get(&other_key)?.is_some() {
                    store.delete(&other_key)?;
                }
            }
            if let Some(joined) = (self.joiner)(Some(r.value.clone()), Some(other)) {
                ctx.forward(
                    Record::new(r.key.clone(), joined, timestamp.max(other_time))
                        .with_headers(r.headers.clone()),
                )?;
            }
        }
        self.partners = partners;
        if self.outer && !partnered {
            match &self.outer_store {
                // Too late to wait for a partner (or nowhere to wait): emitted at once.
                Some(store) if to >= stream_time => {
                    {
                        let mut tracker = self.tracker()?;
                        tracker.min_time = tracker.min_time.min(timestamp);
                    }
                    let key = outer_key(timestamp, self.is_left, &key_bytes);
                    let mut value = vec![u8::from(self.is_left)];
                    self.this_codec.encode(&r.value, &mut value)?;
                    let mut list = match store.get(&key)? {
                        Some(existing) => decode_list(&existing)?,
                        None => Vec::new(),
                    };
                    list.push(value);
                    store.put(&key, &encode_list(&list))?;
                }
                _ => {
                    if let Some(joined) = (self.joiner)(Some(r.value.clone()), None) {
                        ctx.forward(r.with_value(joined))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        // The other side's processor may still hold it; the map drops it with the last one.
        self.tracker = None;
    }
}
