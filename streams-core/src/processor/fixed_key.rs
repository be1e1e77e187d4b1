//! Processors that cannot change the key — Kafka Streams' `FixedKeyProcessor`, run by the DSL's
//! `process_values`, so the stream needs no repartition after them.

use std::marker::PhantomData;
use std::time::Duration;

use crate::error::ProcessorError;
use crate::record::{Headers, Record, RecordMetadata};
use crate::state::{
    KeyValueStore, SessionStore, StoreError, TimestampedKeyValueStore, VersionedKeyValueStore,
    WindowStore,
};

use super::{Processor, ProcessorContext, Punctuation, PunctuationId, PunctuationType, TaskId};

/// A record whose key a processor can read but not replace — Kafka Streams' `FixedKeyRecord`.
/// Only the processor's input records are `FixedKeyRecord`s, so whatever it forwards keeps the
/// key it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedKeyRecord<K, V> {
    record: Record<K, V>,
}

impl<K, V> FixedKeyRecord<K, V> {
    /// The key.
    pub fn key(&self) -> &K {
        &self.record.key
    }

    /// The value.
    pub fn value(&self) -> &V {
        &self.record.value
    }

    /// Takes the value out, keeping the rest for [`with_value`](Self::with_value).
    pub fn into_value(self) -> (V, FixedKeyRecord<K, ()>) {
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = self.record;
        let rest = Record {
            key,
            value: (),
            timestamp,
            headers,
        };
        (value, FixedKeyRecord { record: rest })
    }

    /// The timestamp.
    pub fn timestamp(&self) -> i64 {
        self.record.timestamp
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.record.headers
    }

    /// The same record with another value.
    pub fn with_value<V2>(self, value: V2) -> FixedKeyRecord<K, V2> {
        FixedKeyRecord {
            record: self.record.with_value(value),
        }
    }

    /// The same record with another timestamp.
    pub fn with_timestamp(self, timestamp: i64) -> Self {
        FixedKeyRecord {
            record: self.record.with_timestamp(timestamp),
        }
    }

    /// The same record with other headers.
    pub fn with_headers(self, headers: Headers) -> Self {
        FixedKeyRecord {
            record: self.record.with_headers(headers),
        }
    }
}

/// A processor of values under a key it cannot change — Kafka Streams' `FixedKeyProcessor`.
///
/// ```
/// use streams_core::error::ProcessorError;
/// use streams_core::processor::{FixedKeyContext, FixedKeyProcessor, FixedKeyRecord};
///
/// /// Appends `!` to every value.
/// struct Shout;
///
/// impl FixedKeyProcessor for Shout {
///     type K = String;
///     type VIn = String;
///     type VOut = String;
///
///     fn process(
///         &mut self,
///         record: FixedKeyRecord<String, String>,
///         ctx: &mut FixedKeyContext<'_, '_, String, String>,
///     ) -> Result<(), ProcessorError> {
///         let shouted = format!("{}!", record.value());
///         ctx.forward(record.with_value(shouted))
///     }
/// }
/// ```
pub trait FixedKeyProcessor: 'static {
    /// The key type (in and out).
    type K: Clone + 'static;
    /// Input value type.
    type VIn: 'static;
    /// Output value type.
    type VOut: Clone + 'static;

    /// Called once before the first record.
    fn init(
        &mut self,
        ctx: &mut FixedKeyContext<'_, '_, Self::K, Self::VOut>,
    ) -> Result<(), ProcessorError> {
        let _ = ctx;
        Ok(())
    }

    /// Processes one record.
    fn process(
        &mut self,
        record: FixedKeyRecord<Self::K, Self::VIn>,
        ctx: &mut FixedKeyContext<'_, '_, Self::K, Self::VOut>,
    ) -> Result<(), ProcessorError>;

    /// Called when a punctuation this processor scheduled is due.
    fn punctuate(
        &mut self,
        punctuation: Punctuation,
        ctx: &mut FixedKeyContext<'_, '_, Self::K, Self::VOut>,
    ) -> Result<(), ProcessorError> {
        let _ = (punctuation, ctx);
        Ok(())
    }

    /// Called once when the task closes.
    fn close(&mut self) {}
}

/// Makes a fresh [`FixedKeyProcessor`] per task; any `Fn() -> P` closure is one.
pub trait FixedKeyProcessorSupplier: Send + Sync + 'static {
    /// The processor type supplied.
    type Processor: FixedKeyProcessor;

    /// A new processor instance.
    fn get(&self) -> Self::Processor;
}

impl<F, P> FixedKeyProcessorSupplier for F
where
    F: Fn() -> P + Send + Sync + 'static,
    P: FixedKeyProcessor,
{
    type Processor = P;

    fn get(&self) -> P {
        self()
    }
}

/// A [`ProcessorContext`] that forwards [`FixedKeyRecord`]s only.
pub struct FixedKeyContext<'c, 'a, K, V> {
    inner: &'c mut ProcessorContext<'a, K, V>,
}

impl<K: Clone, V: Clone> FixedKeyContext<'_, '_, K, V> {
    /// Sends a record to every child.
    pub fn forward(&mut self, record: FixedKeyRecord<K, V>) -> Result<(), ProcessorError> {
        self.inner.forward(record.record)
    }

    /// Sends a record to one named child.
    pub fn forward_to(
        &mut self,
        child: &str,
        record: FixedKeyRecord<K, V>,
    ) -> Result<(), ProcessorError> {
        self.inner.forward_to(child, record.record)
    }
}

impl<K, V> FixedKeyContext<'_, '_, K, V> {
    /// See [`ProcessorContext::schedule`].
    pub fn schedule(
        &mut self,
        interval: Duration,
        kind: PunctuationType,
    ) -> Result<PunctuationId, ProcessorError> {
        self.inner.schedule(interval, kind)
    }

    /// See [`ProcessorContext::cancel`].
    pub fn cancel(&mut self, id: PunctuationId) {
        self.inner.cancel(id);
    }

    /// See [`ProcessorContext::record_metadata`].
    pub fn record_metadata(&self) -> Option<&RecordMetadata> {
        self.inner.record_metadata()
    }

    /// See [`ProcessorContext::current_stream_time`].
    pub fn current_stream_time(&self) -> i64 {
        self.inner.current_stream_time()
    }

    /// See [`ProcessorContext::current_system_time_ms`].
    pub fn current_system_time_ms(&self) -> i64 {
        self.inner.current_system_time_ms()
    }

    /// See [`ProcessorContext::commit`].
    pub fn commit(&mut self) {
        self.inner.commit();
    }

    /// See [`ProcessorContext::task_id`].
    pub fn task_id(&self) -> TaskId {
        self.inner.task_id()
    }

    /// See [`ProcessorContext::application_id`].
    pub fn application_id(&self) -> &str {
        self.inner.application_id()
    }

    /// See [`ProcessorContext::node_name`].
    pub fn node_name(&self) -> &str {
        self.inner.node_name()
    }

    /// See [`ProcessorContext::record_dropped`].
    pub fn record_dropped(&mut self) {
        self.inner.record_dropped();
    }

    /// See [`ProcessorContext::key_value_store`].
    pub fn key_value_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<KeyValueStore<SK, SV>, StoreError> {
        self.inner.key_value_store(name)
    }

    /// See [`ProcessorContext::timestamped_key_value_store`].
    pub fn timestamped_key_value_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<TimestampedKeyValueStore<SK, SV>, StoreError> {
        self.inner.timestamped_key_value_store(name)
    }

    /// See [`ProcessorContext::window_store`].
    pub fn window_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<WindowStore<SK, SV>, StoreError> {
        self.inner.window_store(name)
    }

    /// See [`ProcessorContext::session_store`].
    pub fn session_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<SessionStore<SK, SV>, StoreError> {
        self.inner.session_store(name)
    }

    /// See [`ProcessorContext::versioned_key_value_store`].
    pub fn versioned_key_value_store<SK: 'static, SV: 'static>(
        &self,
        name: &str,
    ) -> Result<VersionedKeyValueStore<SK, SV>, StoreError> {
        self.inner.versioned_key_value_store(name)
    }
}

/// Runs a [`FixedKeyProcessor`] as a [`Processor`].
pub(crate) struct FixedKeyAdapter<P>(pub(crate) P, PhantomData<fn()>);

impl<P> FixedKeyAdapter<P> {
    pub(crate) fn new(processor: P) -> Self {
        FixedKeyAdapter(processor, PhantomData)
    }
}

impl<P: FixedKeyProcessor> Processor for FixedKeyAdapter<P> {
    type KIn = P::K;
    type VIn = P::VIn;
    type KOut = P::K;
    type VOut = P::VOut;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, P::K, P::VOut>,
    ) -> Result<(), ProcessorError> {
        self.0.init(&mut FixedKeyContext { inner: ctx })
    }

    fn process(
        &mut self,
        record: Record<P::K, P::VIn>,
        ctx: &mut ProcessorContext<'_, P::K, P::VOut>,
    ) -> Result<(), ProcessorError> {
        self.0.process(
            FixedKeyRecord { record },
            &mut FixedKeyContext { inner: ctx },
        )
    }

    fn punctuate(
        &mut self,
        punctuation: Punctuation,
        ctx: &mut ProcessorContext<'_, P::K, P::VOut>,
    ) -> Result<(), ProcessorError> {
        self.0
            .punctuate(punctuation, &mut FixedKeyContext { inner: ctx })
    }

    fn close(&mut self) {
        self.0.close();
    }
}
