//! Aggregations of grouped streams and grouped tables — Kafka Streams' `KStreamAggregate`,
//! `KStreamReduce`, `KTableAggregate` and `KTableReduce` — over a timestamped key-value store.

use std::marker::PhantomData;
use std::sync::Arc;

use tracing::warn;

use crate::codec::Codec;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::ValueAndTimestamp;

use super::forward::TableForwarder;
use crate::dsl::Change;

/// How a grouped stream folds a value into its key's aggregate.
pub(crate) trait StreamAggregator<K, V, VA>: Send + Sync + 'static {
    /// The new aggregate from the old one (`None` for the key's first value).
    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA;
}

/// `count`: the number of values.
pub(crate) struct CountAggregator;

impl<K, V> StreamAggregator<K, V, i64> for CountAggregator {
    fn apply(&self, _key: &K, _value: V, aggregate: Option<i64>) -> i64 {
        aggregate.unwrap_or(0) + 1
    }
}

/// `reduce`: the first value, then `reducer(aggregate, value)`.
pub(crate) struct ReduceAggregator<F>(pub(crate) F);

impl<K, V, F> StreamAggregator<K, V, V> for ReduceAggregator<F>
where
    F: Fn(V, V) -> V + Send + Sync + 'static,
{
    fn apply(&self, _key: &K, value: V, aggregate: Option<V>) -> V {
        match aggregate {
            Some(aggregate) => (self.0)(aggregate, value),
            None => value,
        }
    }
}

/// `aggregate`: `aggregator(key, value, aggregate)` from `initializer()`.
pub(crate) struct InitAggregator<I, F> {
    pub(crate) initializer: I,
    pub(crate) aggregator: F,
}

impl<K, V, VA, I, F> StreamAggregator<K, V, VA> for InitAggregator<I, F>
where
    I: Fn() -> VA + Send + Sync + 'static,
    F: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
{
    fn apply(&self, key: &K, value: V, aggregate: Option<VA>) -> VA {
        let aggregate = aggregate.unwrap_or_else(&self.initializer);
        (self.aggregator)(key, value, aggregate)
    }
}

/// The aggregation node of a grouped stream.
pub(crate) struct StreamAggregate<K, V, VA, S, KC, VC> {
    pub(crate) store: Arc<str>,
    pub(crate) aggregator: Arc<S>,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) send_old_values: bool,
    /// Whether other processors write the store too (a cogroup's inputs): this one then claims
    /// the store's cache flush listener before it writes.
    pub(crate) shared_store: bool,
    pub(crate) forwarder: Option<TableForwarder<K, VA>>,
    pub(crate) types: PhantomData<fn() -> V>,
}

impl<K, V, VA, S, KC, VC> Processor for StreamAggregate<K, V, VA, S, KC, VC>
where
    K: Clone + 'static,
    V: 'static,
    VA: Clone + 'static,
    S: StreamAggregator<K, V, VA>,
    KC: Codec<K>,
    VC: Codec<V>,
{
    type KIn = K;
    type VIn = V;
    type KOut = K;
    type VOut = Change<VA>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let store = ctx.timestamped_key_value_store(&self.store)?;
        self.forwarder = Some(TableForwarder::new(store, self.send_old_values));
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        if self.key_codec.is_null(&r.key) || self.value_codec.is_null(&r.value) {
            skip_null(ctx, "null key or value");
            return Ok(());
        }
        let forwarder = initialized(&self.forwarder)?;
        if self.shared_store {
            forwarder.claim_listener();
        }
        let (old, timestamp) = match forwarder.store.get(&r.key)? {
            Some(old) => (Some(old.value), r.timestamp.max(old.timestamp)),
            None => (None, r.timestamp),
        };
        let old_value = if self.send_old_values {
            old.clone()
        } else {
            None
        };
        let new = ValueAndTimestamp::make(self.aggregator.apply(&r.key, r.value, old), timestamp);
        forwarder.store.put_at(&r.key, Some(&new), timestamp)?;
        let change = Change::new(Some(new.value), old_value);
        forwarder.maybe_forward(
            Record::new(r.key, change, timestamp).with_headers(r.headers),
            ctx,
        )
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let forwarder = initialized(&self.forwarder)?;
        if self.shared_store {
            forwarder.claim_listener();
        }
        forwarder.commit(ctx)
    }
}

/// How a grouped table adds a row's value to its group's aggregate and removes it again.
pub(crate) trait TableAggregator<K, V, VA>: Send + Sync + 'static {
    fn add(&self, key: &K, value: V, aggregate: Option<VA>) -> VA;
    fn remove(&self, key: &K, value: V, aggregate: VA) -> VA;
}

/// `count` of a grouped table.
pub(crate) struct TableCount;

impl<K, V> TableAggregator<K, V, i64> for TableCount {
    fn add(&self, _key: &K, _value: V, aggregate: Option<i64>) -> i64 {
        aggregate.unwrap_or(0) + 1
    }
    fn remove(&self, _key: &K, _value: V, aggregate: i64) -> i64 {
        aggregate - 1
    }
}

/// `reduce(adder, subtractor)` of a grouped table.
pub(crate) struct TableReduce<A, S> {
    pub(crate) adder: A,
    pub(crate) subtractor: S,
}

impl<K, V, A, S> TableAggregator<K, V, V> for TableReduce<A, S>
where
    A: Fn(V, V) -> V + Send + Sync + 'static,
    S: Fn(V, V) -> V + Send + Sync + 'static,
{
    fn add(&self, _key: &K, value: V, aggregate: Option<V>) -> V {
        match aggregate {
            Some(aggregate) => (self.adder)(aggregate, value),
            None => value,
        }
    }
    fn remove(&self, _key: &K, value: V, aggregate: V) -> V {
        (self.subtractor)(aggregate, value)
    }
}

/// `aggregate(initializer, adder, subtractor)` of a grouped table.
pub(crate) struct TableAggregateFns<I, A, S> {
    pub(crate) initializer: I,
    pub(crate) adder: A,
    pub(crate) subtractor: S,
}

impl<K, V, VA, I, A, S> TableAggregator<K, V, VA> for TableAggregateFns<I, A, S>
where
    I: Fn() -> VA + Send + Sync + 'static,
    A: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    S: Fn(&K, V, VA) -> VA + Send + Sync + 'static,
{
    fn add(&self, key: &K, value: V, aggregate: Option<VA>) -> VA {
        let aggregate = aggregate.unwrap_or_else(&self.initializer);
        (self.adder)(key, value, aggregate)
    }
    fn remove(&self, key: &K, value: V, aggregate: VA) -> VA {
        (self.subtractor)(key, value, aggregate)
    }
}

/// The aggregation node of a grouped table: each change removes the old value from its group and
/// adds the new one.
pub(crate) struct TableAggregate<K, V, VA, S> {
    pub(crate) store: Arc<str>,
    pub(crate) aggregator: Arc<S>,
    pub(crate) send_old_values: bool,
    pub(crate) forwarder: Option<TableForwarder<K, VA>>,
    pub(crate) types: PhantomData<fn() -> V>,
}

impl<K, V, VA, S> Processor for TableAggregate<K, V, VA, S>
where
    K: Clone + 'static,
    V: 'static,
    VA: Clone + 'static,
    S: TableAggregator<K, V, VA>,
{
    type KIn = K;
    type VIn = Change<V>;
    type KOut = K;
    type VOut = Change<VA>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let store = ctx.timestamped_key_value_store(&self.store)?;
        self.forwarder = Some(TableForwarder::new(store, self.send_old_values));
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        let forwarder = initialized(&self.forwarder)?;
        let old = forwarder.store.get(&r.key)?;
        let old_timestamp = old.as_ref().map(|o| o.timestamp);
        let old_value = old.map(|o| o.value);
        let mut timestamp = r.timestamp;
        let change = r.value;
        let intermediate = match (change.old_value, old_value.clone()) {
            (Some(removed), Some(aggregate)) => {
                timestamp = timestamp.max(old_timestamp.unwrap_or(timestamp));
                Some(self.aggregator.remove(&r.key, removed, aggregate))
            }
            (_, aggregate) => aggregate,
        };
        let new = match change.new_value {
            Some(added) => {
                if let Some(old_ts) = old_timestamp {
                    timestamp = timestamp.max(old_ts);
                }
                Some(self.aggregator.add(&r.key, added, intermediate))
            }
            None => intermediate,
        };
        let new = new.map(|v| ValueAndTimestamp::make(v, timestamp));
        forwarder.store.put_at(&r.key, new.as_ref(), timestamp)?;
        let old_value = if self.send_old_values {
            old_value
        } else {
            None
        };
        let change = Change::new(new.map(|n| n.value), old_value);
        forwarder.maybe_forward(
            Record::new(r.key, change, timestamp).with_headers(r.headers),
            ctx,
        )
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<(), ProcessorError> {
        initialized(&self.forwarder)?.commit(ctx)
    }
}

pub(crate) fn initialized<T>(forwarder: &Option<T>) -> Result<&T, ProcessorError> {
    forwarder
        .as_ref()
        .ok_or_else(|| ProcessorError::msg("a DSL processor was called before init"))
}

/// Logs and counts a record an operation drops, as Kafka Streams' `dropped-records` sensor does.
pub(crate) fn skip_null<K, V>(ctx: &mut ProcessorContext<'_, K, V>, what: &str) {
    match ctx.record_metadata() {
        Some(m) => warn!(
            node = ctx.node_name(),
            topic = %m.topic,
            partition = m.partition,
            offset = m.offset,
            "skipping a record with a {what}"
        ),
        None => warn!(node = ctx.node_name(), "skipping a record with a {what}"),
    }
    ctx.record_dropped();
}
