//! Table operations — Kafka Streams' `KTableSource`, `KTableFilter`, `KTableMapValues` and
//! `KTableRepartitionMap` — on streams of [`Change`]s.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::codec::Codec;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::ValueAndTimestamp;

use super::Types;
use super::aggregate::{initialized, skip_null};
use super::forward::TableForwarder;
use crate::dsl::Change;

/// Where a table node keeps its rows, if it is materialized.
pub(crate) struct Materialization<K, V> {
    pub(crate) store: Arc<str>,
    pub(crate) forwarder: Option<TableForwarder<K, V>>,
}

impl<K: Clone + 'static, V: Clone + 'static> Materialization<K, V> {
    pub(crate) fn new(store: Option<Arc<str>>) -> Option<Self> {
        store.map(|store| Materialization {
            store,
            forwarder: None,
        })
    }

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        send_old_values: bool,
    ) -> Result<(), ProcessorError> {
        let store = ctx.timestamped_key_value_store(&self.store)?;
        self.forwarder = Some(TableForwarder::new(store, send_old_values));
        Ok(())
    }
}

pub(crate) fn init_materialization<K: Clone + 'static, V: Clone + 'static>(
    m: &mut Option<Materialization<K, V>>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
    send_old_values: bool,
) -> Result<(), ProcessorError> {
    match m {
        Some(m) => m.init(ctx, send_old_values),
        None => Ok(()),
    }
}

pub(crate) fn commit_materialization<K: Clone + 'static, V: Clone + 'static>(
    m: &Option<Materialization<K, V>>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
) -> Result<(), ProcessorError> {
    match m {
        Some(m) => initialized(&m.forwarder)?.commit(ctx),
        None => Ok(()),
    }
}

/// Writes `new` (a delete for `None`) and forwards the change the way the store's cache allows.
pub(crate) fn put_and_forward<K: Clone + 'static, V: Clone + 'static>(
    m: &Materialization<K, V>,
    record: Record<K, Change<V>>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
) -> Result<(), ProcessorError> {
    let forwarder = initialized(&m.forwarder)?;
    let timestamp = record.timestamp;
    let new = record
        .value
        .new_value
        .clone()
        .map(|v| ValueAndTimestamp::make(v, timestamp));
    forwarder
        .store
        .put_at(&record.key, new.as_ref(), timestamp)?;
    forwarder.maybe_forward(record, ctx)
}

/// `builder.table` and `KStream::to_table`: the rows of a changelog stream. A null value (as the
/// conversion sees it) deletes the key.
pub(crate) struct TableSource<K, V, VIn, KC, F> {
    pub(crate) to_row: Arc<F>,
    pub(crate) key_codec: KC,
    pub(crate) materialized: Option<Materialization<K, V>>,
    pub(crate) send_old_values: bool,
    pub(crate) types: PhantomData<fn() -> VIn>,
}

impl<K, V, VIn, KC, F> Processor for TableSource<K, V, VIn, KC, F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VIn: 'static,
    KC: Codec<K>,
    F: Fn(VIn) -> Option<V> + Send + Sync + 'static,
{
    type KIn = K;
    type VIn = VIn;
    type KOut = K;
    type VOut = Change<V>;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), ProcessorError> {
        init_materialization(&mut self.materialized, ctx, self.send_old_values)
    }

    fn process(
        &mut self,
        r: Record<K, VIn>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        if self.key_codec.is_null(&r.key) {
            skip_null(ctx, "null key");
            return Ok(());
        }
        let new = (self.to_row)(r.value);
        match &self.materialized {
            Some(m) => {
                let forwarder = initialized(&m.forwarder)?;
                let old = if self.send_old_values {
                    forwarder.store.get(&r.key)?.map(|o| o.value)
                } else {
                    None
                };
                let record =
                    Record::new(r.key, Change::new(new, old), r.timestamp).with_headers(r.headers);
                put_and_forward(m, record, ctx)
            }
            None => ctx.forward(
                Record::new(r.key, Change::new(new, None), r.timestamp).with_headers(r.headers),
            ),
        }
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        commit_materialization(&self.materialized, ctx)
    }
}

/// `KTable::filter` / `filter_not`: rows the predicate rejects become deletes.
pub(crate) struct TableFilter<K, V, F> {
    pub(crate) predicate: Arc<F>,
    pub(crate) not: bool,
    pub(crate) materialized: Option<Materialization<K, V>>,
    pub(crate) send_old_values: bool,
}

impl<K, V, F> TableFilter<K, V, F>
where
    F: Fn(&K, &V) -> bool,
{
    fn keep(&self, key: &K, value: Option<V>) -> Option<V> {
        value.filter(|v| (self.predicate)(key, v) != self.not)
    }
}

impl<K, V, F> Processor for TableFilter<K, V, F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    F: Fn(&K, &V) -> bool + Send + Sync + 'static,
{
    type KIn = K;
    type VIn = Change<V>;
    type KOut = K;
    type VOut = Change<V>;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), ProcessorError> {
        init_materialization(&mut self.materialized, ctx, self.send_old_values)
    }

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        let is_latest = r.value.is_latest;
        let new = self.keep(&r.key, r.value.new_value);
        let old = match (&self.materialized, self.send_old_values) {
            (_, false) => None,
            (Some(m), true) => initialized(&m.forwarder)?
                .store
                .get(&r.key)?
                .map(|o| o.value),
            (None, true) => self.keep(&r.key, r.value.old_value),
        };
        if self.send_old_values && old.is_none() && new.is_none() {
            return Ok(());
        }
        let change = Change::new(new, old).with_latest(is_latest);
        let record = Record::new(r.key, change, r.timestamp).with_headers(r.headers);
        match &self.materialized {
            Some(m) => put_and_forward(m, record, ctx),
            None => ctx.forward(record),
        }
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        commit_materialization(&self.materialized, ctx)
    }
}

/// `KTable::map_values`.
pub(crate) struct TableMapValues<K, V, VR, F> {
    pub(crate) mapper: Arc<F>,
    pub(crate) materialized: Option<Materialization<K, VR>>,
    pub(crate) send_old_values: bool,
    pub(crate) types: PhantomData<fn() -> V>,
}

impl<K, V, VR, F> Processor for TableMapValues<K, V, VR, F>
where
    K: Clone + 'static,
    V: 'static,
    VR: Clone + 'static,
    F: Fn(&K, V) -> VR + Send + Sync + 'static,
{
    type KIn = K;
    type VIn = Change<V>;
    type KOut = K;
    type VOut = Change<VR>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
    ) -> Result<(), ProcessorError> {
        init_materialization(&mut self.materialized, ctx, self.send_old_values)
    }

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
    ) -> Result<(), ProcessorError> {
        let is_latest = r.value.is_latest;
        let new = r.value.new_value.map(|v| (self.mapper)(&r.key, v));
        let old = match (&self.materialized, self.send_old_values) {
            (_, false) => None,
            (Some(m), true) => initialized(&m.forwarder)?
                .store
                .get(&r.key)?
                .map(|o| o.value),
            (None, true) => r.value.old_value.map(|v| (self.mapper)(&r.key, v)),
        };
        let change = Change::new(new, old).with_latest(is_latest);
        let record = Record::new(r.key, change, r.timestamp).with_headers(r.headers);
        match &self.materialized {
            Some(m) => put_and_forward(m, record, ctx),
            None => ctx.forward(record),
        }
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
    ) -> Result<(), ProcessorError> {
        commit_materialization(&self.materialized, ctx)
    }
}

/// `KTable::group_by`'s selection (`KTABLE-SELECT`): each change becomes a removal from the old
/// row's group and an addition to the new row's (one record when the group stays the same).
pub(crate) struct TableSelect<K, V, KR, VR, F, KC, VC> {
    pub(crate) selector: Arc<F>,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) types: Types<(K, V, KR, VR)>,
}

impl<K, V, KR, VR, F, KC, VC> Processor for TableSelect<K, V, KR, VR, F, KC, VC>
where
    K: 'static,
    V: 'static,
    KR: Clone + PartialEq + 'static,
    VR: Clone + 'static,
    F: Fn(&K, V) -> (KR, VR) + Send + Sync + 'static,
    KC: Codec<KR>,
    VC: Codec<VR>,
{
    type KIn = K;
    type VIn = Change<V>;
    type KOut = KR;
    type VOut = Change<VR>;

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, KR, Change<VR>>,
    ) -> Result<(), ProcessorError> {
        if !r.value.is_latest {
            // Kafka Streams (KIP-914): an aggregation of a versioned table counts its newest
            // rows only; an out-of-order update is not even repartitioned.
            return Ok(());
        }
        let valid = |pair: &(KR, VR)| {
            !self.key_codec.is_null(&pair.0) && !self.value_codec.is_null(&pair.1)
        };
        let new = r
            .value
            .new_value
            .map(|v| (self.selector)(&r.key, v))
            .filter(valid);
        let old = r
            .value
            .old_value
            .map(|v| (self.selector)(&r.key, v))
            .filter(valid);
        let (timestamp, headers) = (r.timestamp, r.headers);
        match (old, new) {
            (Some((old_key, old_value)), Some((new_key, new_value))) if old_key == new_key => ctx
                .forward(
                    Record::new(
                        new_key,
                        Change::new(Some(new_value), Some(old_value)),
                        timestamp,
                    )
                    .with_headers(headers),
                ),
            (old, new) => {
                if let Some((key, value)) = old {
                    ctx.forward(
                        Record::new(key, Change::new(None, Some(value)), timestamp)
                            .with_headers(headers.clone()),
                    )?;
                }
                if let Some((key, value)) = new {
                    ctx.forward(
                        Record::new(key, Change::new(Some(value), None), timestamp)
                            .with_headers(headers),
                    )?;
                }
                Ok(())
            }
        }
    }
}
