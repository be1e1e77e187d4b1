use std::time::Duration;

use crate::error::ProcessorError;
use crate::record::{Record, RecordMetadata};
use crate::state::{
    KeyValueStore, SessionStore, StoreError, TimestampedKeyValueStore, VersionedKeyValueStore,
    WindowStore,
};

use super::node::{Child, NodeInfo, forward_all};
use super::punctuation::{PunctuationId, PunctuationType};
use super::task_state::TaskState;
use crate::task_id::TaskId;

/// What a processor can do besides computing: forward records downstream, schedule
/// punctuations, reach its state stores, and read the task's time and the current record's
/// metadata — Kafka Streams' `api.ProcessorContext<KForward, VForward>`.
///
/// `K` and `V` are the processor's output types: only records of that type can be forwarded.
pub struct ProcessorContext<'a, K, V> {
    info: &'a NodeInfo,
    children: &'a [Child<K, V>],
    task: &'a mut TaskState,
}

impl<'a, K, V> ProcessorContext<'a, K, V> {
    pub(crate) fn new(
        info: &'a NodeInfo,
        children: &'a [Child<K, V>],
        task: &'a mut TaskState,
    ) -> Self {
        ProcessorContext {
            info,
            children,
            task,
        }
    }

    /// Sends a record to every child of this node, in the order they were connected.
    ///
    /// The record is cloned for all children but the last, which receives it as is.
    pub fn forward(&mut self, record: Record<K, V>) -> Result<(), ProcessorError>
    where
        K: Clone,
        V: Clone,
    {
        forward_all(self.children, record, self.task)
    }

    /// Sends a record to one named child only.
    pub fn forward_to(&mut self, child: &str, record: Record<K, V>) -> Result<(), ProcessorError> {
        match self.children.iter().find(|c| &*c.name == child) {
            Some(c) => c.node.borrow_mut().process(record, self.task),
            None => Err(ProcessorError::msg(format!(
                "processor `{}` has no child named `{child}` (children: {:?})",
                self.info.name,
                self.child_names().collect::<Vec<_>>()
            ))),
        }
    }

    /// The names of this node's children, in connection order.
    pub fn child_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.children.iter().map(|c| &*c.name)
    }

    /// Schedules [`Processor::punctuate`](super::Processor::punctuate) on this processor every
    /// `interval` (at least 1 ms), by stream time or wall-clock time.
    ///
    /// Stream-time punctuations are due at 0, then every `interval`; one fires when stream time
    /// reaches its due time, with the stream time as its timestamp. Intervals skipped by a jump
    /// in time fire once, not once each. Wall-clock punctuations are first due one interval from
    /// now.
    pub fn schedule(
        &mut self,
        interval: Duration,
        kind: PunctuationType,
    ) -> Result<PunctuationId, ProcessorError> {
        let now = self.task.clock.now_ms();
        self.task
            .punctuations
            .schedule(self.info.index, interval, kind, now)
            .ok_or_else(|| {
                ProcessorError::msg(format!(
                    "cannot schedule a punctuation every {interval:?}: the interval must be at least 1 ms"
                ))
            })
    }

    /// Cancels a scheduled punctuation. Cancelling one that already ended does nothing.
    pub fn cancel(&mut self, id: PunctuationId) {
        self.task.punctuations.cancel(id);
    }

    /// Where the record being processed came from; `None` in a punctuation.
    pub fn record_metadata(&self) -> Option<&RecordMetadata> {
        self.task.metadata()
    }

    /// The task's stream time: the highest record timestamp it has seen, or -1 before any.
    pub fn current_stream_time(&self) -> i64 {
        self.task.stream_time
    }

    /// The wall-clock time in ms (the test driver's mock clock under test).
    pub fn current_system_time_ms(&self) -> i64 {
        self.task.clock.now_ms()
    }

    /// How often (wall-clock ms) a left or outer stream-stream join emits records whose window
    /// closed.
    pub(crate) fn outer_join_emit_interval_ms(&self) -> i64 {
        self.task.outer_join_emit_interval_ms
    }

    /// Asks for a commit as soon as possible, instead of waiting for `commit.interval.ms`.
    pub fn commit(&mut self) {
        self.task.commit_requested = true;
    }

    /// The task running this processor.
    pub fn task_id(&self) -> TaskId {
        self.task.id
    }

    /// The application id (`application.id`).
    pub fn application_id(&self) -> &str {
        &self.task.application_id
    }

    /// The name of this processor's node.
    pub fn node_name(&self) -> &str {
        &self.info.name
    }

    /// Counts a record this processor dropped on purpose (a null key at an aggregation, a late
    /// record) in the task's `dropped-records` metric — log why, too.
    pub fn record_dropped(&mut self) {
        self.task.dropped_records += 1;
    }

    /// A key-value store connected to this processor, or a global store, typed as declared.
    pub fn key_value_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<KeyValueStore<SK, SV>, StoreError> {
        self.store_handle(name)
    }

    /// A timestamped key-value store connected to this processor, or a global store (values
    /// with the timestamp of the record that wrote them, as KTables keep them).
    pub fn timestamped_key_value_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<TimestampedKeyValueStore<SK, SV>, StoreError> {
        self.store_handle(name)
    }

    /// A window store connected to this processor, typed as declared.
    pub fn window_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<WindowStore<SK, SV>, StoreError> {
        self.store_handle(name)
    }

    /// A session store connected to this processor, typed as declared.
    pub fn session_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<SessionStore<SK, SV>, StoreError> {
        self.store_handle(name)
    }

    /// A versioned key-value store connected to this processor, typed as declared: every
    /// version of each key, queryable as of a time
    /// ([`VersionedKeyValueStore::get_as_of`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::Utf8;
    /// use streams_core::error::ProcessorError;
    /// use streams_core::processor::{Processor, ProcessorContext};
    /// use streams_core::record::Record;
    /// use streams_core::state::{Stores, VersionedKeyValueStore};
    /// use streams_core::testing::TopologyTestDriver;
    /// use streams_core::topology::TopologyBuilder;
    ///
    /// /// Keeps every price of a product, and answers each order with the price at its time.
    /// struct PriceAt(Option<VersionedKeyValueStore<String, String>>);
    ///
    /// impl Processor for PriceAt {
    ///     type KIn = String;
    ///     type VIn = String;
    ///     type KOut = String;
    ///     type VOut = String;
    ///
    ///     fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), ProcessorError> {
    ///         self.0 = Some(ctx.versioned_key_value_store("prices")?);
    ///         Ok(())
    ///     }
    ///
    ///     fn process(&mut self, r: Record<String, String>, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), ProcessorError> {
    ///         let prices = self.0.as_ref().ok_or_else(|| ProcessorError::msg("not initialized"))?;
    ///         match r.value.strip_prefix("price=") {
    ///             Some(price) => {
    ///                 prices.put(&r.key, &price.to_string(), r.timestamp)?;
    ///                 Ok(())
    ///             }
    ///             None => {
    ///                 let price = prices.get_as_of(&r.key, r.timestamp)?.map(|p| p.value);
    ///                 let answer = price.unwrap_or_else(|| "?".to_string());
    ///                 ctx.forward(Record::new(r.key, answer, r.timestamp))
    ///             }
    ///         }
    ///     }
    /// }
    ///
    /// let mut b = TopologyBuilder::new();
    /// b.add_source("in", ["events"], Utf8, Utf8)
    ///     .add_processor("price-at", || PriceAt(None), ["in"])
    ///     .add_state_store(
    ///         Stores::in_memory_versioned_key_value_store("prices", Duration::from_secs(60), Utf8, Utf8),
    ///         ["price-at"],
    ///     )
    ///     .add_sink("out", "prices-at", Utf8, Utf8, ["price-at"]);
    /// let driver = TopologyTestDriver::new(b.build().unwrap()).unwrap();
    /// let events = driver.create_input_topic("events", Utf8, Utf8);
    /// let pen = || "pen".to_string();
    /// events.pipe_input_at(pen(), "price=2".to_string(), 1_000).unwrap();
    /// events.pipe_input_at(pen(), "price=3".to_string(), 5_000).unwrap();
    /// events.pipe_input_at(pen(), "order".to_string(), 4_000).unwrap(); // late: the price then
    /// let out = driver.create_output_topic("prices-at", Utf8, Utf8);
    /// assert_eq!(out.read_values_to_list().unwrap(), ["2"]);
    /// ```
    pub fn versioned_key_value_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<VersionedKeyValueStore<SK, SV>, StoreError> {
        self.store_handle(name)
    }

    /// A store handle of type `H`, if the store is connected to this processor, or is a global
    /// store (every processor reads those, read-only), and is of that type.
    pub(crate) fn store_handle<H: Clone + 'static>(&self, name: &str) -> Result<H, StoreError> {
        let store = if self.info.stores.iter().any(|s| s == name) {
            self.task.stores.get(name)
        } else {
            match self.task.globals.as_deref().and_then(|g| g.get(name)) {
                Some(global) => Some(global),
                None => {
                    return Err(StoreError::NotConnected {
                        processor: self.info.name.to_string(),
                        store: name.to_string(),
                        connected: self.info.stores.clone(),
                    });
                }
            }
        };
        store
            .and_then(|store| store.downcast_ref::<H>())
            .cloned()
            .ok_or_else(|| StoreError::WrongType {
                store: name.to_string(),
                requested: std::any::type_name::<H>().to_string(),
            })
    }
}
