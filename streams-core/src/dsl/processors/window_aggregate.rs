//! Windowed aggregations of grouped streams — Kafka Streams' `KStreamWindowAggregate` (time
//! windows) and `KStreamSlidingWindowAggregate` (sliding windows) — over a timestamped window
//! store, and what they share with session aggregations: the cache flush queue, the late-record
//! log and the emit-on-window-close bookkeeping.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use tracing::warn;

use crate::codec::Codec;
use crate::dsl::Change;
use crate::dsl::windows::{EmitStrategy, SlidingWindows, TimeWindows};
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Headers, Record};
use crate::state::{
    CacheFlush, StoreError, TimestampedWindowStore, ValueAndTimestamp, Window, Windowed,
};

use super::aggregate::{CountAggregator, InitAggregator, ReduceAggregator, initialized, skip_null};

/// Kafka Streams' `ConsumerRecord.NO_TIMESTAMP`: no time observed or emitted yet.
pub(crate) const NO_TIMESTAMP: i64 = -1;

/// How a windowed aggregation folds a value into a window's aggregate — Kafka Streams'
/// initializer and aggregator pair.
pub(crate) trait WindowAggregator<K, V, VA>: Send + Sync + 'static {
    /// The aggregate a new window starts from: `None` for `reduce` (whose first value is the
    /// aggregate), `Some(0)` for `count`, the initializer's value for `aggregate`. Kafka Streams
    /// forwards it as a new window's old value when old values are asked for.
    fn initial(&self) -> Option<VA>;

    /// The new aggregate.
    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA;
}

impl<K, V> WindowAggregator<K, V, i64> for CountAggregator {
    fn initial(&self) -> Option<i64> {
        Some(0)
    }

    fn apply(&self, _key: &K, _value: V, aggregate: Option<i64>) -> i64 {
        aggregate.unwrap_or(0) + 1
    }
}

impl<K, V, F> WindowAggregator<K, V, V> for ReduceAggregator<F>
where
    F: Fn(V, V) -> V + Send + Sync + 'static,
{
    fn initial(&self) -> Option<V> {
        None
    }

    fn apply(&self, _key: &K, value: V, aggregate: Option<V>) -> V {
        match aggregate {
            Some(aggregate) => (self.0)(aggregate, value),
            None => value,
        }
    }
}

impl<K, V, VA, I, F> WindowAggregator<K, V, VA> for InitAggregator<I, F>
where
    I: Fn() -> VA + Send + Sync + 'static,
    F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
{
    fn initial(&self) -> Option<VA> {
        Some((self.initializer)())
    }

    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA {
        let aggregate = aggregate.unwrap_or_else(&self.initializer);
        (self.aggregator)(key, value, aggregate)
    }
}

type Flushed<K, S> = Rc<RefCell<Vec<CacheFlush<Windowed<K>, S>>>>;

/// What a windowed store's record cache flushed and is not forwarded yet — Kafka Streams'
/// `TimestampedCacheFlushListener` / `SessionCacheFlushListener` buffer their forwards the same
/// way (here the flush listener queues, the processor forwards on commit or after a write that
/// evicted). `None` without a cache (or when the aggregation forwards only final results).
pub(crate) struct FlushQueue<K, S>(Option<Flushed<K, S>>);

impl<K: 'static, S: 'static> FlushQueue<K, S> {
    /// Registers a listener with `register` (the store's `set_cache_flush_listener`); without a
    /// cache the queue stays off.
    pub(crate) fn listen(
        register: impl FnOnce(
            Box<dyn FnMut(CacheFlush<Windowed<K>, S>) -> Result<(), StoreError>>,
        ) -> bool,
    ) -> Self {
        let flushed: Flushed<K, S> = Rc::default();
        let sink = Rc::clone(&flushed);
        let cached = register(Box::new(move |entry| {
            sink.borrow_mut().push(entry);
            Ok(())
        }));
        FlushQueue(cached.then_some(flushed))
    }

    /// Registers this queue's listener again (see
    /// [`TableForwarder::claim_listener`](super::forward::TableForwarder::claim_listener)), if
    /// the queue is on.
    pub(crate) fn claim(
        &self,
        register: impl FnOnce(
            Box<dyn FnMut(CacheFlush<Windowed<K>, S>) -> Result<(), StoreError>>,
        ) -> bool,
    ) {
        if let Some(flushed) = &self.0 {
            let sink = Rc::clone(flushed);
            register(Box::new(move |entry| {
                sink.borrow_mut().push(entry);
                Ok(())
            }));
        }
    }

    /// No cache flushes to forward: every update is forwarded as it happens.
    pub(crate) fn off() -> Self {
        FlushQueue(None)
    }

    pub(crate) fn is_cached(&self) -> bool {
        self.0.is_some()
    }

    /// Forwards what was queued (including what forwarding flushes in turn), each entry made
    /// into a record by `to_record` (`None` skips it).
    pub(crate) fn forward<VA, F>(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        mut to_record: F,
    ) -> Result<(), ProcessorError>
    where
        K: Clone,
        VA: Clone,
        F: FnMut(
            CacheFlush<Windowed<K>, S>,
            &ProcessorContext<'_, Windowed<K>, Change<VA>>,
        ) -> Option<Record<Windowed<K>, Change<VA>>>,
    {
        let Some(flushed) = &self.0 else {
            return Ok(());
        };
        loop {
            let entries = std::mem::take(&mut *flushed.borrow_mut());
            if entries.is_empty() {
                return Ok(());
            }
            for entry in entries {
                if let Some(record) = to_record(entry, ctx) {
                    ctx.forward(record)?;
                }
            }
        }
    }
}

/// Logs and counts a record that arrived after its window closed, as Kafka Streams'
/// `logSkippedRecordForExpiredWindow`.
pub(crate) fn skip_expired<K, V>(
    ctx: &mut ProcessorContext<'_, K, V>,
    timestamp: i64,
    expiration: i64,
    stream_time: i64,
    window: &str,
) {
    match ctx.record_metadata() {
        Some(m) => warn!(
            node = ctx.node_name(),
            topic = %m.topic,
            partition = m.partition,
            offset = m.offset,
            timestamp,
            window,
            expiration,
            stream_time,
            "skipping a record for an expired window"
        ),
        None => warn!(
            node = ctx.node_name(),
            timestamp, window, expiration, stream_time, "skipping a record for an expired window"
        ),
    }
    ctx.record_dropped();
}

/// Encoded key bytes as Kafka Streams' time-ordered stores order keys of one timestamp: the key
/// bytes followed by the 4-byte sequence number 0.
pub(crate) fn time_ordered_key<K, KC: Codec<K>>(
    codec: &KC,
    key: &K,
) -> Result<Vec<u8>, ProcessorError> {
    let mut bytes = Vec::new();
    codec.encode(key, &mut bytes)?;
    bytes.extend_from_slice(&[0; 4]);
    Ok(bytes)
}

/// A closed window to emit: its start and ordering key bytes, its key and aggregate.
type ClosedWindow<K, VA> = (i64, Vec<u8>, Windowed<K>, ValueAndTimestamp<VA>);

/// What the time-window and sliding-window aggregations share: their store, forwarding (cached
/// or not; every update or final results only) and stream time.
pub(crate) struct WindowedCore<K, VA, KC> {
    pub(crate) store_name: Arc<str>,
    pub(crate) key_codec: KC,
    pub(crate) emit: EmitStrategy,
    pub(crate) send_old_values: bool,
    pub(crate) store: Option<TimestampedWindowStore<K, VA>>,
    pub(crate) queue: FlushQueue<K, ValueAndTimestamp<VA>>,
    /// The highest record timestamp seen (Kafka Streams' `observedStreamTime`).
    pub(crate) observed: i64,
    /// The window close time of the last final-result emission.
    pub(crate) last_emit: i64,
    /// Whether other processors write the store too (a cogroup's inputs): this one then claims
    /// the store's cache flush listener before it writes.
    pub(crate) shared_store: bool,
}

impl<K, VA, KC> WindowedCore<K, VA, KC>
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    pub(crate) fn new(
        store_name: Arc<str>,
        key_codec: KC,
        emit: EmitStrategy,
        send_old_values: bool,
    ) -> Self {
        WindowedCore {
            store_name,
            key_codec,
            emit,
            send_old_values,
            store: None,
            queue: FlushQueue::off(),
            observed: NO_TIMESTAMP,
            last_emit: NO_TIMESTAMP,
            shared_store: false,
        }
    }

    /// For a store other processors write too: see [`claim_listener`](Self::claim_listener).
    pub(crate) fn sharing_its_store(mut self) -> Self {
        self.shared_store = true;
        self
    }

    /// Makes the store's cache flush to this processor's queue again, if the store is shared
    /// (see [`TableForwarder::claim_listener`](super::forward::TableForwarder::claim_listener)).
    pub(crate) fn claim_listener(&self) -> Result<(), ProcessorError> {
        if self.shared_store && self.queue.is_cached() {
            let store = self.store()?;
            self.queue.claim(|l| store.set_cache_flush_listener(l));
        }
        Ok(())
    }

    pub(crate) fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let store: TimestampedWindowStore<K, VA> = ctx.window_store(&self.store_name)?;
        // Final results are forwarded as they are found, not through the cache.
        if self.emit == EmitStrategy::OnWindowUpdate {
            self.queue = FlushQueue::listen(|l| store.set_cache_flush_listener(l));
        }
        self.store = Some(store);
        Ok(())
    }

    pub(crate) fn store(&self) -> Result<&TimestampedWindowStore<K, VA>, ProcessorError> {
        initialized(&self.store)
    }

    /// Forwards one window's update (unless only final results are emitted), or, with a cache,
    /// what the cache flushed.
    pub(crate) fn maybe_forward_update(
        &self,
        key: Windowed<K>,
        old: Option<VA>,
        new: VA,
        timestamp: i64,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if self.emit == EmitStrategy::OnWindowClose {
            return Ok(());
        }
        if self.queue.is_cached() {
            return self.forward_flushed(ctx);
        }
        let old = if self.send_old_values { old } else { None };
        let record =
            Record::new(key, Change::new(Some(new), old), timestamp).with_headers(headers.clone());
        ctx.forward(record)
    }

    /// Forwards what the cache flushed: Kafka Streams' `TimestampedCacheFlushListener`.
    pub(crate) fn forward_flushed(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let send_old_values = self.send_old_values;
        self.queue.forward(ctx, |entry, ctx| {
            if entry.new_value.is_none() && entry.old_value.is_none() {
                return None;
            }
            let timestamp = match (&entry.new_value, entry.timestamp) {
                (Some(new), _) => new.timestamp,
                (None, Some(t)) => t,
                (None, None) => ctx.current_stream_time(),
            };
            let old = if send_old_values {
                entry.old_value.map(|v| v.value)
            } else {
                None
            };
            let change = Change::new(entry.new_value.map(|v| v.value), old);
            Some(Record::new(entry.key, change, timestamp))
        })
    }

    /// On commit: flushes the store's cache and forwards what it held.
    pub(crate) fn commit(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        self.claim_listener()?;
        if self.queue.is_cached() {
            self.store()?.flush_cache()?;
        }
        self.forward_flushed(ctx)
    }

    /// Whether final results are due: only on window close, and only when the close time moved
    /// (Kafka Streams' `shouldEmitFinal`, without its wall-clock throttle).
    pub(crate) fn should_emit_final(&self, close: i64) -> bool {
        self.emit == EmitStrategy::OnWindowClose
            && (self.last_emit == NO_TIMESTAMP || self.last_emit < close)
    }

    /// Forwards the final result of every window starting in `[lower, upper]`, ordered by
    /// window start, then key, as Kafka Streams' time-ordered store of emit-on-close
    /// aggregations lists them; windows end `size` after they start.
    pub(crate) fn emit_finals(
        &mut self,
        lower: i64,
        upper: i64,
        size: i64,
        close: i64,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let mut closed: Vec<ClosedWindow<K, VA>> = Vec::new();
        for entry in self.store()?.fetch_all(lower, upper) {
            let (mut key, value) = entry?;
            key.window.end_ms = key.window.start_ms.saturating_add(size);
            let order = time_ordered_key(&self.key_codec, &key.key)?;
            closed.push((key.window.start_ms, order, key, value));
        }
        closed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (_, _, key, value) in closed {
            let record = Record::new(key, Change::new(Some(value.value), None), value.timestamp)
                .with_headers(headers.clone());
            ctx.forward(record)?;
        }
        self.last_emit = close;
        Ok(())
    }
}

/// The aggregation node of a time-windowed (tumbling or hopping) grouped stream.
pub(crate) struct TimeWindowAggregate<K, V, VA, A, KC> {
    pub(crate) windows: TimeWindows,
    pub(crate) aggregator: Arc<A>,
    pub(crate) core: WindowedCore<K, VA, KC>,
    pub(crate) types: PhantomData<fn() -> V>,
}

impl<K, V, VA, A, KC> TimeWindowAggregate<K, V, VA, A, KC>
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    /// Kafka Streams' emit range of `KStreamWindowAggregate`: the windows that closed since the
    /// last emission.
    fn maybe_forward_final(
        &mut self,
        close: i64,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if !self.core.should_emit_final(close) {
            return Ok(());
        }
        let size = self.windows.size_ms();
        let upper = close.saturating_sub(size);
        if upper < 0 {
            return Ok(());
        }
        let last = self.core.last_emit;
        let lower = if last == NO_TIMESTAMP {
            0
        } else {
            last.saturating_sub(size).max(0) + 1
        };
        // No new window closed: the windows of both bounds are the same ones.
        if last != NO_TIMESTAMP
            && self.windows.windows_for(upper) == self.windows.windows_for(lower - 1)
        {
            return Ok(());
        }
        self.core
            .emit_finals(lower, upper, size, close, headers, ctx)
    }
}

impl<K, V, VA, A, KC> Processor for TimeWindowAggregate<K, V, VA, A, KC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VA: Clone + 'static,
    A: WindowAggregator<K, V, VA>,
    KC: Codec<K>,
{
    type KIn = K;
    type VIn = V;
    type KOut = Windowed<K>;
    type VOut = Change<VA>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        self.core.init(ctx)
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if self.core.key_codec.is_null(&r.key) {
            skip_null(ctx, "null key");
            return Ok(());
        }
        self.core.claim_listener()?;
        let timestamp = r.timestamp;
        self.core.observed = self.core.observed.max(timestamp);
        let close = self.core.observed.saturating_sub(self.windows.grace_ms());
        for window in self.windows.windows_for(timestamp) {
            if window.end_ms <= close {
                let name = format!("[{},{})", window.start_ms, window.end_ms);
                skip_expired(ctx, timestamp, close, self.core.observed, &name);
                continue;
            }
            let store = self.core.store()?;
            let (old, new_timestamp) = match store.fetch_one(&r.key, window.start_ms)? {
                Some(old) => (Some(old.value), timestamp.max(old.timestamp)),
                None => (self.aggregator.initial(), timestamp),
            };
            let forwarded_old = if self.core.send_old_values {
                old.clone()
            } else {
                None
            };
            let new = self.aggregator.apply(&r.key, r.value.clone(), old);
            let stored = ValueAndTimestamp::make(new.clone(), new_timestamp);
            store.put_at(&r.key, Some(&stored), window.start_ms, new_timestamp)?;
            let key = Windowed {
                key: r.key.clone(),
                window,
            };
            self.core.maybe_forward_update(
                key,
                forwarded_old,
                new,
                new_timestamp,
                &r.headers,
                ctx,
            )?;
        }
        self.maybe_forward_final(close, &r.headers, ctx)
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        self.core.commit(ctx)
    }
}

/// The aggregation node of a sliding-windowed grouped stream: Kafka Streams'
/// `KStreamSlidingWindowAggregate` with its reverse-iterator path (every store here iterates
/// backwards).
pub(crate) struct SlidingWindowAggregate<K, V, VA, A, KC, VC> {
    pub(crate) windows: SlidingWindows,
    pub(crate) aggregator: Arc<A>,
    pub(crate) value_codec: VC,
    pub(crate) core: WindowedCore<K, VA, KC>,
    pub(crate) types: PhantomData<fn() -> V>,
}

/// A window of the store and its aggregate.
type Stored<VA> = ValueAndTimestamp<VA>;

impl<K, V, VA, A, KC, VC> SlidingWindowAggregate<K, V, VA, A, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VA: Clone + 'static,
    A: WindowAggregator<K, V, VA>,
    KC: Codec<K>,
{
    fn td(&self) -> i64 {
        self.windows.time_difference_ms()
    }

    fn window(&self, start_ms: i64) -> Window {
        Window {
            start_ms,
            end_ms: start_ms.saturating_add(self.td()),
        }
    }

    /// A new window's starting aggregate, stamped with the record's time.
    fn initial_at(&self, timestamp: i64) -> Option<Stored<VA>> {
        self.aggregator
            .initial()
            .map(|v| ValueAndTimestamp::make(v, timestamp))
    }

    /// Adds the record to `window` (whose aggregate so far is `current`) if the window is still
    /// open, and forwards the update — Kafka Streams' `updateWindowAndForward`.
    fn update_window_and_forward(
        &self,
        window: Window,
        current: Option<Stored<VA>>,
        r: &Record<K, V>,
        close: i64,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if window.end_ms < close {
            let name = format!("[{},{}]", window.start_ms, window.end_ms);
            skip_expired(ctx, r.timestamp, close, self.core.observed, &name);
            return Ok(());
        }
        let (old, new_timestamp) = match current {
            Some(current) => (Some(current.value), r.timestamp.max(current.timestamp)),
            None => (None, r.timestamp),
        };
        let forwarded_old = if self.core.send_old_values {
            old.clone()
        } else {
            None
        };
        let new = self.aggregator.apply(&r.key, r.value.clone(), old);
        let stored = ValueAndTimestamp::make(new.clone(), new_timestamp);
        self.core
            .store()?
            .put_at(&r.key, Some(&stored), window.start_ms, new_timestamp)?;
        let key = Windowed {
            key: r.key.clone(),
            window,
        };
        self.core
            .maybe_forward_update(key, forwarded_old, new, new_timestamp, &r.headers, ctx)
    }

    /// The record's right window `[t + 1, t + 1 + difference]`, holding what its aggregate
    /// holds (the records after this one) — Kafka Streams' `createCurrentRecordRightWindow`.
    fn create_current_record_right_window(
        &self,
        aggregate: Stored<VA>,
        r: &Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let window = self.window(r.timestamp.saturating_add(1));
        self.core.store()?.put_at(
            &r.key,
            Some(&aggregate),
            window.start_ms,
            aggregate.timestamp,
        )?;
        let key = Windowed {
            key: r.key.clone(),
            window,
        };
        self.core.maybe_forward_update(
            key,
            None,
            aggregate.value,
            aggregate.timestamp,
            &r.headers,
            ctx,
        )
    }

    /// Kafka Streams' `createWindows`: the previous record's right window, this record's left
    /// window and its right window, where they are missing.
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors Kafka Streams' createWindows"
    )]
    fn create_windows(
        &self,
        r: &Record<K, V>,
        close: i64,
        starts: &BTreeSet<i64>,
        right: Option<Stored<VA>>,
        left: Option<Stored<VA>>,
        left_created: bool,
        right_created: bool,
        previous: Option<i64>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let t = r.timestamp;
        let td = self.td();
        if let Some(previous) = previous {
            let start = previous.saturating_add(1);
            if !starts.contains(&start) && start.saturating_add(td) >= t {
                let initial = self.initial_at(t);
                self.update_window_and_forward(self.window(start), initial, r, close, ctx)?;
            }
        }
        if !left_created {
            let left_not_empty = previous.is_some_and(|p| t.saturating_sub(td) <= p);
            let current = match left {
                Some(left) if left_not_empty => Some(ValueAndTimestamp::make(left.value, t)),
                _ => self.initial_at(t),
            };
            let window = Window {
                start_ms: t.saturating_sub(td),
                end_ms: t,
            };
            self.update_window_and_forward(window, current, r, close, ctx)?;
        }
        if !right_created && let Some(right) = right.filter(|a| a.timestamp > t) {
            self.create_current_record_right_window(right, r, ctx)?;
        }
        Ok(())
    }

    /// Kafka Streams' `processReverse`: the windows from `t − 2·difference` to `t + 1`, newest
    /// first.
    fn process_reverse(
        &self,
        r: &Record<K, V>,
        close: i64,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let t = r.timestamp;
        let td = self.td();
        let from = t.saturating_sub(td.saturating_mul(2)).max(0);
        let windows: Vec<(i64, Stored<VA>)> = self
            .core
            .store()?
            .backward_fetch(&r.key, from, t.saturating_add(1))?
            .collect::<Result<_, _>>()?;
        let mut starts = BTreeSet::new();
        let (mut left, mut right) = (None, None);
        let (mut left_created, mut right_created) = (false, false);
        let mut previous = None;
        for (start, aggregate) in windows {
            starts.insert(start);
            let end = start.saturating_add(td);
            let max_record_time = aggregate.timestamp;
            if start == t.saturating_add(1) {
                right_created = true;
            } else if end > t {
                if right.is_none() {
                    right = Some(aggregate.clone());
                }
                self.update_window_and_forward(self.window(start), Some(aggregate), r, close, ctx)?;
            } else if end == t {
                left_created = true;
                self.update_window_and_forward(self.window(start), Some(aggregate), r, close, ctx)?;
                if max_record_time < t {
                    previous = Some(max_record_time);
                } else {
                    // The record's windows all exist already.
                    return Ok(());
                }
            } else {
                left = Some(aggregate);
                previous = Some(max_record_time);
                break;
            }
        }
        self.create_windows(
            r,
            close,
            &starts,
            right,
            left,
            left_created,
            right_created,
            previous,
            ctx,
        )
    }

    /// Kafka Streams' `processEarly`: a record before the first time difference has no room for
    /// its left window; the window `[0, difference]` holds every such record instead.
    fn process_early(
        &self,
        r: &Record<K, V>,
        close: i64,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let t = r.timestamp;
        let windows: Vec<(i64, Stored<VA>)> = self
            .core
            .store()?
            .fetch(&r.key, 0, t.saturating_add(1))?
            .collect::<Result<_, _>>()?;
        let mut combined: Option<Stored<VA>> = None;
        let mut right: Option<Stored<VA>> = None;
        let mut right_created = false;
        let mut starts = BTreeSet::new();
        let mut previous = None;
        for (start, aggregate) in windows {
            starts.insert(start);
            if start == 0 {
                if aggregate.timestamp < t {
                    previous = Some(aggregate.timestamp);
                }
                combined = Some(aggregate);
            } else if start <= t {
                right = Some(aggregate.clone());
                self.update_window_and_forward(self.window(start), Some(aggregate), r, close, ctx)?;
            } else {
                right_created = true;
            }
        }
        // Without a right window found, the combined window holds only later records when its
        // latest record is after this one.
        if right.is_none()
            && let Some(c) = combined.as_ref().filter(|c| c.timestamp > t)
        {
            right = Some(c.clone());
        }
        if !right_created && let Some(right) = right.filter(|a| a.timestamp > t) {
            self.create_current_record_right_window(right, r, ctx)?;
        }
        if let Some(previous) = previous {
            let start = previous.saturating_add(1);
            if !starts.contains(&start) {
                let initial = self.initial_at(t);
                self.update_window_and_forward(self.window(start), initial, r, close, ctx)?;
            }
        }
        let combined = match combined {
            Some(c) => Some(c),
            None => self.initial_at(t),
        };
        self.update_window_and_forward(self.window(0), combined, r, close, ctx)
    }

    /// Kafka Streams' emit range of `KStreamSlidingWindowAggregate`.
    fn maybe_forward_final(
        &mut self,
        close: i64,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if !self.core.should_emit_final(close) {
            return Ok(());
        }
        let td = self.td();
        // Both window ends are inclusive: a window closed when its end is before the close time.
        let upper = close.saturating_sub(td).saturating_sub(1);
        if upper < 0 {
            return Ok(());
        }
        let last = self.core.last_emit;
        let lower = if last == NO_TIMESTAMP {
            0
        } else {
            last.saturating_sub(td).max(0)
        };
        self.core.emit_finals(lower, upper, td, close, headers, ctx)
    }
}

impl<K, V, VA, A, KC, VC> Processor for SlidingWindowAggregate<K, V, VA, A, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VA: Clone + 'static,
    A: WindowAggregator<K, V, VA>,
    KC: Codec<K>,
    VC: Codec<V>,
{
    type KIn = K;
    type VIn = V;
    type KOut = Windowed<K>;
    type VOut = Change<VA>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        self.core.init(ctx)
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if self.core.key_codec.is_null(&r.key) || self.value_codec.is_null(&r.value) {
            skip_null(ctx, "null key or value");
            return Ok(());
        }
        self.core.claim_listener()?;
        let t = r.timestamp;
        self.core.observed = self.core.observed.max(t);
        let close = self.core.observed.saturating_sub(self.windows.grace_ms());
        let end = t.saturating_add(self.td());
        if end < close {
            let name = format!("[{t},{end}]");
            skip_expired(ctx, t, close, self.core.observed, &name);
            return Ok(());
        }
        if t < self.td() {
            // Kafka Streams emits no final results after an early record.
            return self.process_early(&r, close, ctx);
        }
        self.process_reverse(&r, close, ctx)?;
        self.maybe_forward_final(close, &r.headers, ctx)
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        self.core.commit(ctx)
    }
}
