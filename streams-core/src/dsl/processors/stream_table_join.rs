//! `KStream::join` / `left_join` with a table — Kafka Streams' `KStreamKTableJoin`: each stream
//! record is joined with the table's current row for its key and keeps its own timestamp;
//! table updates join nothing.

use std::sync::Arc;

use crate::codec::Codec;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::TimestampedKeyValueStore;

use super::Types;
use super::aggregate::{initialized, skip_null};

/// A joiner of a stream value with the table's row (`None`: no row); `None` means no result
/// (an inner join without a row).
pub(crate) type RowJoiner<V, VT, VR> = Arc<dyn Fn(V, Option<VT>) -> Option<VR> + Send + Sync>;

pub(crate) struct StreamTableJoin<K, V, VT, VR, KC, VC> {
    /// The table's store.
    pub(crate) store_name: Arc<str>,
    pub(crate) joiner: RowJoiner<V, VT, VR>,
    /// A left join: records without a row, and with a null key, are joined with `None`.
    pub(crate) left: bool,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) store: Option<TimestampedKeyValueStore<K, VT>>,
    pub(crate) types: Types<(V, VR)>,
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
        self.store = Some(ctx.timestamped_key_value_store(&self.store_name)?);
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
        let row = if self.key_codec.is_null(&r.key) {
            if !self.left {
                skip_null(ctx, "null key at a stream-table join");
                return Ok(());
            }
            None
        } else {
            initialized(&self.store)?.get(&r.key)?.map(|row| row.value)
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
}
