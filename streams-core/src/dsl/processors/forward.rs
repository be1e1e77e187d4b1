//! How a DSL processor with a materialized, possibly cached, store forwards its updates —
//! Kafka Streams' `TimestampedTupleForwarder` and `TimestampedCacheFlushListener`: without a
//! cache each update is forwarded at once; with one, what the cache flushes (on commit or
//! eviction) is forwarded instead, once per key.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::ProcessorError;
use crate::processor::ProcessorContext;
use crate::record::Record;
use crate::state::{CacheFlush, TimestampedKeyValueStore, ValueAndTimestamp};

use crate::dsl::Change;

type Flushed<K, V> = Rc<RefCell<Vec<CacheFlush<K, ValueAndTimestamp<V>>>>>;

pub(crate) struct TableForwarder<K, V> {
    pub(crate) store: TimestampedKeyValueStore<K, V>,
    /// What the cache flushed and is not forwarded yet; `None` without a cache.
    flushed: Option<Flushed<K, V>>,
    send_old_values: bool,
}

impl<K: Clone + 'static, V: Clone + 'static> TableForwarder<K, V> {
    pub(crate) fn new(store: TimestampedKeyValueStore<K, V>, send_old_values: bool) -> Self {
        let flushed: Flushed<K, V> = Rc::new(RefCell::new(Vec::new()));
        let cached = listen(&store, &flushed);
        TableForwarder {
            store,
            flushed: cached.then_some(flushed),
            send_old_values,
        }
    }

    /// Makes the store's cache flush to this forwarder again. A store's cache flushes to one
    /// listener, the last one set (Kafka Streams' `setFlushListener` too); when several
    /// processors write one store (the inputs of a cogroup), each claims the listener before it
    /// writes, so what its write evicts is forwarded at once, as Kafka Streams forwards it.
    pub(crate) fn claim_listener(&self) {
        if let Some(flushed) = &self.flushed {
            listen(&self.store, flushed);
        }
    }

    /// Forwards `record` unless the store is cached (its flush will).
    pub(crate) fn maybe_forward<'a>(
        &self,
        record: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'a, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        match self.flushed {
            None => ctx.forward(record),
            Some(_) => self.forward_flushed(ctx),
        }
    }

    /// Forwards what the cache flushed (evictions during processing).
    pub(crate) fn forward_flushed<'a>(
        &self,
        ctx: &mut ProcessorContext<'a, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        let Some(flushed) = &self.flushed else {
            return Ok(());
        };
        loop {
            let entries = std::mem::take(&mut *flushed.borrow_mut());
            if entries.is_empty() {
                return Ok(());
            }
            for entry in entries {
                if entry.new_value.is_none() && entry.old_value.is_none() {
                    continue;
                }
                let timestamp = match (&entry.new_value, &entry.old_value) {
                    (Some(new), _) => new.timestamp,
                    _ => entry.timestamp.unwrap_or_else(|| ctx.current_stream_time()),
                };
                let old = if self.send_old_values {
                    entry.old_value.map(|v| v.value)
                } else {
                    None
                };
                let change = Change::new(entry.new_value.map(|v| v.value), old);
                ctx.forward(Record::new(entry.key, change, timestamp))?;
            }
        }
    }

    /// On commit: flushes this store's cache and forwards what it held.
    pub(crate) fn commit<'a>(
        &self,
        ctx: &mut ProcessorContext<'a, K, Change<V>>,
    ) -> Result<(), ProcessorError> {
        if self.flushed.is_some() {
            self.store.flush_cache()?;
        }
        self.forward_flushed(ctx)
    }
}

/// Sets a cache flush listener on `store` that queues into `flushed`; false without a cache.
fn listen<K: 'static, V: 'static>(
    store: &TimestampedKeyValueStore<K, V>,
    flushed: &Flushed<K, V>,
) -> bool {
    let sink = Rc::clone(flushed);
    store.set_cache_flush_listener(move |entry| {
        sink.borrow_mut().push(entry);
        Ok(())
    })
}
