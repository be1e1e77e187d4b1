//! `KStream::join` / `left_join` with a table — Kafka Streams' `KStreamKTableJoin`: each stream
//! record is joined with the table's row for its key and keeps its own timestamp; table updates
//! join nothing. A versioned table is looked up as of the stream record's timestamp; with a grace
//! period (KIP-923), stream records wait in a time-ordered buffer first.

use std::sync::Arc;

use crate::codec::Codec;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::{TimestampedKeyValueStore, ValueAndTimestamp, VersionedKeyValueStore};

use super::Types;
use super::aggregate::{initialized, skip_null};
use super::join_buffer::JoinBuffer;
use super::suppress::BufferedContext;

/// A joiner of a stream value with the table's row (`None`: no row); `None` means no result
/// (an inner join without a row).
pub(crate) type RowJoiner<V, VT, VR> = Arc<dyn Fn(V, Option<VT>) -> Option<VR> + Send + Sync>;

/// Where a table's rows are looked up.
pub(crate) enum TableRows<K, VT> {
    /// The current row (a timestamped store).
    Current(TimestampedKeyValueStore<K, VT>),
    /// The row as of the stream record's timestamp (a versioned store).
    AsOf(VersionedKeyValueStore<K, VT>),
}

impl<K: 'static, VT: 'static> TableRows<K, VT> {
    /// The row for a stream record at `timestamp`: the current one, or a versioned table's
    /// as of `timestamp`.
    fn row(&self, key: &K, timestamp: i64) -> Result<Option<VT>, ProcessorError> {
        Ok(match self {
            TableRows::Current(store) => store.get(key)?.map(|row| row.value),
            TableRows::AsOf(store) => store.get_as_of(key, timestamp)?.map(|row| row.value),
        })
    }

    /// The current row with its timestamp (a versioned table's newest version), as a
    /// table-table join looks the other side up.
    pub(crate) fn current(&self, key: &K) -> Result<Option<ValueAndTimestamp<VT>>, ProcessorError> {
        Ok(match self {
            TableRows::Current(store) => store.get(key)?,
            TableRows::AsOf(store) => store
                .get(key)?
                .map(|row| ValueAndTimestamp::make(row.value, row.timestamp)),
        })
    }
}

/// The grace period of a join with a versioned table, and its buffer store.
#[derive(Clone)]
pub(crate) struct Grace {
    pub(crate) grace_ms: i64,
    pub(crate) store: Arc<str>,
}

pub(crate) struct StreamTableJoin<K, V, VT, VR, KC, VC> {
    /// The table's store.
    pub(crate) store_name: Arc<str>,
    /// The table's store is versioned.
    pub(crate) versioned: bool,
    pub(crate) joiner: RowJoiner<V, VT, VR>,
    /// A left join: records without a row, and with a null key, are joined with `None`.
    pub(crate) left: bool,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) grace: Option<Grace>,
    pub(crate) rows: Option<TableRows<K, VT>>,
    pub(crate) buffer: Option<JoinBuffer>,
    pub(crate) types: Types<(V, VR)>,
}

impl<K, V, VT, VR, KC, VC> StreamTableJoin<K, V, VT, VR, KC, VC>
where
    K: Clone + 'static,
    V: 'static,
    VT: Clone + 'static,
    VR: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    /// Joins a record with the table's row (none for a null key) and forwards the result.
    fn join(
        &self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, VR>,
    ) -> Result<(), ProcessorError> {
        let row = if self.key_codec.is_null(&r.key) {
            None
        } else {
            initialized(&self.rows)?.row(&r.key, r.timestamp)?
        };
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = r;
        match (self.joiner)(value, row) {
            Some(joined) => ctx.forward(Record::new(key, joined, timestamp).with_headers(headers)),
            None => Ok(()),
        }
    }

    /// Buffers a record (or joins it at once if it is already past the grace period), then
    /// joins every buffered record whose time has come, in timestamp order.
    fn buffer_and_join(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, VR>,
    ) -> Result<(), ProcessorError> {
        let buffer = self
            .buffer
            .as_mut()
            .ok_or_else(|| ProcessorError::msg("a DSL processor was called before init"))?;
        if !buffer.accepts(r.timestamp) {
            return self.join(r, ctx);
        }
        let (mut key, mut value) = (Vec::new(), Vec::new());
        self.key_codec.encode(&r.key, &mut key)?;
        self.value_codec.encode(&r.value, &mut value)?;
        let context = BufferedContext::of(ctx.record_metadata(), r.timestamp, r.headers);
        buffer.put(&key, value, context)?;
        for evicted in buffer.evict_due()? {
            let record = Record::new(
                self.key_codec.decode(&evicted.key)?,
                self.value_codec.decode(&evicted.value)?,
                evicted.context.timestamp,
            )
            .with_headers(evicted.context.headers);
            self.join(record, ctx)?;
        }
        Ok(())
    }
}

impl<K, V, VT, VR, KC, VC> Processor for StreamTableJoin<K, V, VT, VR, KC, VC>
where
    K: Clone + 'static,
    V: 'static,
    VT: Clone + 'static,
    VR: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    type KIn = K;
    type VIn = V;
    type KOut = K;
    type VOut = VR;

    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<(), ProcessorError> {
        self.rows = Some(if self.versioned {
            TableRows::AsOf(ctx.versioned_key_value_store(&self.store_name)?)
        } else {
            TableRows::Current(ctx.timestamped_key_value_store(&self.store_name)?)
        });
        if let Some(grace) = &self.grace {
            let store = ctx.key_value_store(&grace.store)?;
            self.buffer = Some(JoinBuffer::open(store, grace.grace_ms)?);
        }
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, VR>,
    ) -> Result<(), ProcessorError> {
        if self.value_codec.is_null(&r.value) {
            skip_null(ctx, "null value at a stream-table join");
            return Ok(());
        }
        if self.key_codec.is_null(&r.key) {
            if !self.left {
                skip_null(ctx, "null key at a stream-table join");
                return Ok(());
            }
            // A left join's null key joins with no row at once, also with a grace period (where
            // Kafka Streams' buffer fails with "key cannot be null").
            return self.join(r, ctx);
        }
        if self.grace.is_some() {
            self.buffer_and_join(r, ctx)
        } else {
            self.join(r, ctx)
        }
    }
}
