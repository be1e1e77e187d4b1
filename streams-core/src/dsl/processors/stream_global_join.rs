//! `KStream::join_global` / `left_join_global` — Kafka Streams' `KStreamGlobalKTableJoin`: each
//! stream record is joined with the global table's current row for the key its selector
//! returns, and keeps its own key and timestamp; global table updates join nothing.

use std::sync::Arc;

use crate::codec::Codec;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::TimestampedKeyValueStore;

use super::Types;
use super::aggregate::{initialized, skip_null};
use super::stream_table_join::RowJoiner;

/// The key selector: the global table's key for a stream record.
pub(crate) type KeySelector<K, V, KG> = Arc<dyn Fn(&K, &V) -> KG + Send + Sync>;

pub(crate) struct StreamGlobalJoin<K, V, KG, VG, VR, VC, GKC> {
    /// The global table's store.
    pub(crate) store_name: Arc<str>,
    pub(crate) selector: KeySelector<K, V, KG>,
    pub(crate) joiner: RowJoiner<V, VG, VR>,
    /// A left join: records without a row, or whose selected key is null, are joined with
    /// `None`.
    pub(crate) left: bool,
    /// The stream's value codec (which values are null).
    pub(crate) value_codec: VC,
    /// The global table's key codec (which selected keys are null).
    pub(crate) table_key_codec: GKC,
    pub(crate) store: Option<TimestampedKeyValueStore<KG, VG>>,
    pub(crate) types: Types<(K, VR)>,
}

impl<K, V, KG, VG, VR, VC, GKC> Processor for StreamGlobalJoin<K, V, KG, VG, VR, VC, GKC>
where
    K: Clone + 'static,
    V: 'static,
    KG: 'static,
    VG: Clone + 'static,
    VR: Clone + 'static,
    VC: Codec<V>,
    GKC: Codec<KG>,
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
            skip_null(ctx, "null value at a stream-GlobalKTable join");
            return Ok(());
        }
        let table_key = (self.selector)(&r.key, &r.value);
        let row = if self.table_key_codec.is_null(&table_key) {
            if !self.left {
                skip_null(ctx, "null join key at a stream-GlobalKTable join");
                return Ok(());
            }
            None
        } else {
            initialized(&self.store)?
                .get(&table_key)?
                .map(|row| row.value)
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
