//! `builder.table` / `KStream::to_table` kept in a versioned store — Kafka Streams'
//! `KTableSource` over a `VersionedKeyValueStore` (KIP-914): every update goes into the store's
//! history at its own timestamp, and is forwarded unless the store refused it as older than its
//! history retention — marked as not the latest if it went into the history (table-table joins
//! and `group_by` skip those).

use std::marker::PhantomData;
use std::sync::Arc;

use crate::codec::Codec;
use crate::dsl::Change;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::{PutOutcome, VersionedKeyValueStore};

use super::aggregate::{initialized, skip_null};

pub(crate) struct VersionedTableSource<K, V, VIn, KC, F> {
    pub(crate) to_row: Arc<F>,
    pub(crate) key_codec: KC,
    pub(crate) store_name: Arc<str>,
    pub(crate) store: Option<VersionedKeyValueStore<K, V>>,
    pub(crate) send_old_values: bool,
    pub(crate) types: PhantomData<fn() -> VIn>,
}

impl<K, V, VIn, KC, F> Processor for VersionedTableSource<K, V, VIn, KC, F>
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
        self.store = Some(ctx.versioned_key_value_store(&self.store_name)?);
        Ok(())
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
        let store = initialized(&self.store)?;
        let new = (self.to_row)(r.value);
        // The old value is the newest version, as Kafka Streams' versioned table source reads it.
        let old = if self.send_old_values {
            store.get(&r.key)?.map(|o| o.value)
        } else {
            None
        };
        let is_latest = match store.put_row(&r.key, new.as_ref(), r.timestamp)? {
            PutOutcome::Expired => {
                tracing::debug!(
                    node = ctx.node_name(),
                    timestamp = r.timestamp,
                    "skipping a table update older than the versioned store's history retention"
                );
                ctx.record_dropped();
                return Ok(());
            }
            outcome => outcome == PutOutcome::Latest,
        };
        let change = Change::new(new, old).with_latest(is_latest);
        ctx.forward(Record::new(r.key, change, r.timestamp).with_headers(r.headers))
    }
}
