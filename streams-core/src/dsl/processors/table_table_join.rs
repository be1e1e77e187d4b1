//! Joining two tables — Kafka Streams' `KTableKTableInnerJoin`, `KTableKTableLeftJoin`,
//! `KTableKTableRightJoin`, `KTableKTableOuterJoin` (one processor per side, each looking the
//! other side's row up in its store) and `KTableKTableJoinMerger` (where both sides' results
//! meet, and are kept when the join is materialized).

use std::sync::Arc;

use crate::codec::Codec;
use crate::dsl::Change;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;

use super::Types;
use super::aggregate::{initialized, skip_null};
use super::stream_table_join::TableRows;
use super::table::{
    Materialization, commit_materialization, init_materialization, put_and_forward,
};

/// Which join a side computes, seen from the side's own updates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SideKind {
    /// An inner join (either side): a result only while the other side has a row.
    Inner,
    /// The left side of a left join: a result for every row of its own.
    Left,
    /// The right side of a left join: results only while the left side has a row.
    Right,
    /// Either side of an outer join: a result while either side has a row.
    Outer,
}

/// A joiner seen from one side: (own value, other side's row) -> result, or `None` where the
/// join kind has no result for that pair.
pub(crate) type SideJoiner<VOwn, VOther, VR> =
    Arc<dyn Fn(Option<VOwn>, Option<VOther>) -> Option<VR> + Send + Sync>;

/// One side of a table-table join.
pub(crate) struct TableJoinSide<K, VOwn, VOther, VR, KC> {
    pub(crate) kind: SideKind,
    pub(crate) joiner: SideJoiner<VOwn, VOther, VR>,
    /// The other side's store, and whether it is versioned.
    pub(crate) other_store_name: Arc<str>,
    pub(crate) other_versioned: bool,
    pub(crate) other_store: Option<TableRows<K, VOther>>,
    /// Compute the old result too (a downstream operation needs old values).
    pub(crate) send_old_values: bool,
    pub(crate) key_codec: KC,
    pub(crate) types: Types<VOwn>,
}

impl<K, VOwn, VOther, VR, KC> Processor for TableJoinSide<K, VOwn, VOther, VR, KC>
where
    K: Clone + 'static,
    VOwn: 'static,
    VOther: Clone + 'static,
    VR: Clone + 'static,
    KC: Codec<K>,
{
    type KIn = K;
    type VIn = Change<VOwn>;
    type KOut = K;
    type VOut = Change<VR>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
    ) -> Result<(), ProcessorError> {
        self.other_store = Some(if self.other_versioned {
            TableRows::AsOf(ctx.versioned_key_value_store(&self.other_store_name)?)
        } else {
            TableRows::Current(ctx.timestamped_key_value_store(&self.other_store_name)?)
        });
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Change<VOwn>>,
        ctx: &mut ProcessorContext<'_, K, Change<VR>>,
    ) -> Result<(), ProcessorError> {
        if self.key_codec.is_null(&r.key) {
            skip_null(ctx, "null key at a table-table join");
            return Ok(());
        }
        let other = initialized(&self.other_store)?.current(&r.key)?;
        let Change {
            new_value,
            old_value,
            is_latest,
        } = r.value;
        if !is_latest {
            // Kafka Streams (KIP-914): an out-of-order update of a versioned table joins nothing.
            tracing::debug!(
                node = ctx.node_name(),
                "skipping an out-of-order update of a versioned table at a table-table join"
            );
            ctx.record_dropped();
            return Ok(());
        }
        let timestamp = match &other {
            Some(row) => r.timestamp.max(row.timestamp),
            None if matches!(self.kind, SideKind::Inner | SideKind::Right) => return Ok(()),
            None if new_value.is_none() && old_value.is_none() => return Ok(()),
            None => r.timestamp,
        };
        let other = other.map(|row| row.value);
        let join = |own: Option<VOwn>| -> Option<VR> {
            match self.kind {
                // Only the own side's rows join.
                SideKind::Inner | SideKind::Left => {
                    own.and_then(|v| (self.joiner)(Some(v), other.clone()))
                }
                // The other side (the left) has a row: it joins whatever this side has.
                SideKind::Right => (self.joiner)(own, other.clone()),
                SideKind::Outer if own.is_none() && other.is_none() => None,
                SideKind::Outer => (self.joiner)(own, other.clone()),
            }
        };
        let old = if self.send_old_values {
            join(old_value)
        } else {
            None
        };
        let new = join(new_value);
        ctx.forward(Record::new(r.key, Change::new(new, old), timestamp).with_headers(r.headers))
    }
}

/// Where both sides' results meet (`KTABLE-MERGE`): passed on, or kept in the join's store
/// and forwarded as that store's cache allows.
pub(crate) struct TableJoinMerge<K, V> {
    pub(crate) materialized: Option<Materialization<K, V>>,
    pub(crate) send_old_values: bool,
}

impl<K, V> Processor for TableJoinMerge<K, V>
where
    K: Clone + 'static,
    V: Clone + 'static,
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
        match &self.materialized {
            Some(m) => {
                let old = if self.send_old_values {
                    initialized(&m.forwarder)?
                        .store
                        .get(&r.key)?
                        .map(|o| o.value)
                } else {
                    None
                };
                let change = Change::new(r.value.new_value, old).with_latest(r.value.is_latest);
                let record = Record::new(r.key, change, r.timestamp).with_headers(r.headers);
                put_and_forward(m, record, ctx)
            }
            None => ctx.forward(r),
        }
    }

    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        commit_materialization(&self.materialized, ctx)
    }
}
