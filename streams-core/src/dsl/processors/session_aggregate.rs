//! Session-windowed aggregations of grouped streams — Kafka Streams'
//! `KStreamSessionWindowAggregate` — over a session store.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::codec::Codec;
use crate::dsl::Change;
use crate::dsl::windows::{EmitStrategy, SessionWindows};
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Headers, Record};
use crate::state::{SessionStore, Window, Windowed};

use super::aggregate::{CountAggregator, InitAggregator, ReduceAggregator, initialized, skip_null};
use super::window_aggregate::{FlushQueue, NO_TIMESTAMP, skip_expired, time_ordered_key};

/// How a session aggregation folds values into a session and merges sessions — Kafka Streams'
/// initializer, aggregator and session merger.
pub(crate) trait SessionAggregator<K, V, VA>: Send + Sync + 'static {
    /// The aggregate a new session starts from (`None` for `reduce`).
    fn initial(&self) -> Option<VA>;

    /// Adds a value.
    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA;

    /// Merges an existing session's aggregate into the one being built.
    fn merge(&self, key: &K, aggregate: Option<VA>, session: VA) -> VA;
}

impl<K, V> SessionAggregator<K, V, i64> for CountAggregator {
    fn initial(&self) -> Option<i64> {
        Some(0)
    }

    fn apply(&self, _key: &K, _value: V, aggregate: Option<i64>) -> i64 {
        aggregate.unwrap_or(0) + 1
    }

    fn merge(&self, _key: &K, aggregate: Option<i64>, session: i64) -> i64 {
        aggregate.unwrap_or(0) + session
    }
}

impl<K, V, F> SessionAggregator<K, V, V> for ReduceAggregator<F>
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

    /// Kafka Streams' `mergerForAggregator`: the reducer applied to both aggregates.
    fn merge(&self, _key: &K, aggregate: Option<V>, session: V) -> V {
        match aggregate {
            Some(aggregate) => (self.0)(aggregate, session),
            None => session,
        }
    }
}

/// `aggregate(initializer, aggregator, merger)` of a session-windowed stream.
pub(crate) struct SessionFns<I, F, M> {
    pub(crate) fold: InitAggregator<I, F>,
    pub(crate) merger: M,
}

impl<K, V, VA, I, F, M> SessionAggregator<K, V, VA> for SessionFns<I, F, M>
where
    I: Fn() -> VA + Send + Sync + 'static,
    F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    M: Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
{
    fn initial(&self) -> Option<VA> {
        Some((self.fold.initializer)())
    }

    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA {
        let aggregate = aggregate.unwrap_or_else(&self.fold.initializer);
        (self.fold.aggregator)(key, value, aggregate)
    }

    fn merge(&self, key: &K, aggregate: Option<VA>, session: VA) -> VA {
        let aggregate = aggregate.unwrap_or_else(&self.fold.initializer);
        (self.merger)(key, aggregate, session)
    }
}

/// The aggregation node of a session-windowed grouped stream.
pub(crate) struct SessionWindowAggregate<K, V, VA, A, KC> {
    pub(crate) windows: SessionWindows,
    pub(crate) aggregator: Arc<A>,
    pub(crate) store_name: Arc<str>,
    pub(crate) key_codec: KC,
    pub(crate) emit: EmitStrategy,
    pub(crate) send_old_values: bool,
    pub(crate) store: Option<SessionStore<K, VA>>,
    pub(crate) queue: FlushQueue<K, VA>,
    pub(crate) observed: i64,
    pub(crate) last_emit: i64,
    /// Whether other processors write the store too (a cogroup's inputs): this one then claims
    /// the store's cache flush listener before it writes.
    pub(crate) shared_store: bool,
    pub(crate) types: PhantomData<fn() -> V>,
}

impl<K, V, VA, A, KC> SessionWindowAggregate<K, V, VA, A, KC>
where
    K: Clone + 'static,
    VA: Clone + 'static,
    KC: Codec<K>,
{
    pub(crate) fn new(
        windows: SessionWindows,
        aggregator: Arc<A>,
        store_name: Arc<str>,
        key_codec: KC,
        emit: EmitStrategy,
        send_old_values: bool,
    ) -> Self {
        SessionWindowAggregate {
            windows,
            aggregator,
            store_name,
            key_codec,
            emit,
            send_old_values,
            store: None,
            queue: FlushQueue::off(),
            observed: NO_TIMESTAMP,
            last_emit: NO_TIMESTAMP,
            shared_store: false,
            types: PhantomData,
        }
    }

    /// For a store other processors write too: see [`claim_listener`](Self::claim_listener).
    pub(crate) fn sharing_its_store(mut self) -> Self {
        self.shared_store = true;
        self
    }

    /// Makes the store's cache flush to this processor's queue again, if the store is shared
    /// (see [`TableForwarder::claim_listener`](super::forward::TableForwarder::claim_listener)).
    fn claim_listener(&self) -> Result<(), ProcessorError> {
        if self.shared_store && self.queue.is_cached() {
            let store = initialized(&self.store)?;
            self.queue.claim(|l| store.set_cache_flush_listener(l));
        }
        Ok(())
    }

    /// Forwards a session's update (a removed session has no new value), stamped with the
    /// session's end, or with a cache what the cache flushed.
    fn maybe_forward_update(
        &self,
        key: Windowed<K>,
        old: Option<VA>,
        new: Option<VA>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if self.emit == EmitStrategy::OnWindowClose {
            return Ok(());
        }
        if self.queue.is_cached() {
            return self.forward_flushed(ctx);
        }
        let old = if self.send_old_values { old } else { None };
        let timestamp = key.window.end_ms;
        ctx.forward(Record::new(key, Change::new(new, old), timestamp))
    }

    /// Forwards what the cache flushed: Kafka Streams' `SessionCacheFlushListener`, which stamps
    /// each update with the session's end.
    fn forward_flushed(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let send_old_values = self.send_old_values;
        self.queue.forward(ctx, |entry, _| {
            if entry.new_value.is_none() && entry.old_value.is_none() {
                return None;
            }
            let old = if send_old_values {
                entry.old_value
            } else {
                None
            };
            let timestamp = entry.key.window.end_ms;
            Some(Record::new(
                entry.key,
                Change::new(entry.new_value, old),
                timestamp,
            ))
        })
    }

    /// Kafka Streams' emit-on-window-close of sessions: every session that ended since the last
    /// emission and before the close time, by end time, then key, then start.
    fn maybe_forward_final(
        &mut self,
        close: i64,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if self.emit != EmitStrategy::OnWindowClose
            || (self.last_emit != NO_TIMESTAMP && self.last_emit >= close)
        {
            return Ok(());
        }
        // Session ends are inclusive: a session closed when its end is before the close time.
        let upper = close.saturating_sub(1);
        let lower = self.last_emit.max(0);
        if upper < 0 || upper < lower {
            return Ok(());
        }
        let store = initialized(&self.store)?;
        let mut closed = Vec::new();
        for entry in store.find_sessions_ending(lower, upper) {
            let (key, value) = entry?;
            let order = time_ordered_key(&self.key_codec, &key.key)?;
            closed.push((key.window.end_ms, order, key.window.start_ms, key, value));
        }
        closed.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
        for (end, _, _, key, value) in closed {
            let record =
                Record::new(key, Change::new(Some(value), None), end).with_headers(headers.clone());
            ctx.forward(record)?;
        }
        self.last_emit = close;
        Ok(())
    }
}

impl<K, V, VA, A, KC> Processor for SessionWindowAggregate<K, V, VA, A, KC>
where
    K: Clone + 'static,
    V: 'static,
    VA: Clone + 'static,
    A: SessionAggregator<K, V, VA>,
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
        let store: SessionStore<K, VA> = ctx.session_store(&self.store_name)?;
        if self.emit == EmitStrategy::OnWindowUpdate {
            self.queue = FlushQueue::listen(|l| store.set_cache_flush_listener(l));
        }
        self.store = Some(store);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if self.key_codec.is_null(&r.key) {
            skip_null(ctx, "null key");
            return Ok(());
        }
        self.claim_listener()?;
        let t = r.timestamp;
        self.observed = self.observed.max(t);
        let gap = self.windows.inactivity_gap_ms();
        let close = self
            .observed
            .saturating_sub(self.windows.grace_ms())
            .saturating_sub(gap);

        // The sessions this record touches (within the gap on either side) merge with it.
        let store = initialized(&self.store)?;
        let new_window = Window {
            start_ms: t,
            end_ms: t,
        };
        let mut merged_window = new_window;
        let mut aggregate = self.aggregator.initial();
        let mut merged = Vec::new();
        for entry in store.find_sessions(&r.key, t.saturating_sub(gap), t.saturating_add(gap))? {
            let (session, value) = entry?;
            aggregate = Some(self.aggregator.merge(&r.key, aggregate, value.clone()));
            merged_window = Window {
                start_ms: merged_window.start_ms.min(session.window.start_ms),
                end_ms: merged_window.end_ms.max(session.window.end_ms),
            };
            merged.push((session, value));
        }

        if merged_window.end_ms < close {
            let name = format!("[{},{}]", merged_window.start_ms, merged_window.end_ms);
            skip_expired(ctx, t, close, self.observed, &name);
        } else {
            if merged_window != new_window {
                for (session, value) in merged {
                    store.put_at(&session, None, t)?;
                    self.maybe_forward_update(session, Some(value), None, ctx)?;
                }
            }
            let aggregate = self.aggregator.apply(&r.key, r.value, aggregate);
            let session = Windowed {
                key: r.key,
                window: merged_window,
            };
            store.put_at(&session, Some(&aggregate), t)?;
            self.maybe_forward_update(session, None, Some(aggregate), ctx)?;
        }
        self.maybe_forward_final(close, &r.headers, ctx)
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        self.claim_listener()?;
        if self.queue.is_cached() {
            initialized(&self.store)?.flush_cache()?;
        }
        self.forward_flushed(ctx)
    }
}
