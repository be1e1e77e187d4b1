//! The Processor API: plain Rust types that receive records one at a time and forward results.
//!
//! A [`Processor`] has one required method, [`Processor::process`]; `init`, `punctuate` and
//! `close` have empty defaults. The [`ProcessorContext`] it gets forwards records to the
//! node's children, schedules punctuations, gives access to connected state stores, and tells
//! the current stream time and record metadata.
//!
//! ```
//! use streams_core::error::ProcessorError;
//! use streams_core::processor::{Processor, ProcessorContext};
//! use streams_core::record::Record;
//!
//! /// Upper-cases values and drops empty ones.
//! struct Shout;
//!
//! impl Processor for Shout {
//!     type KIn = String;
//!     type VIn = String;
//!     type KOut = String;
//!     type VOut = String;
//!
//!     fn process(
//!         &mut self,
//!         record: Record<String, String>,
//!         ctx: &mut ProcessorContext<'_, String, String>,
//!     ) -> Result<(), ProcessorError> {
//!         if record.value.is_empty() {
//!             return Ok(());
//!         }
//!         ctx.forward(record.map_value(|v| v.to_uppercase()))
//!     }
//! }
//! ```

mod context;
mod fixed_key;
pub(crate) mod node;
mod punctuation;
pub(crate) mod task_state;

pub use crate::task_id::TaskId;
pub use context::ProcessorContext;
pub(crate) use fixed_key::FixedKeyAdapter;
pub use fixed_key::{
    FixedKeyContext, FixedKeyProcessor, FixedKeyProcessorSupplier, FixedKeyRecord,
};
pub use punctuation::{Punctuation, PunctuationId, PunctuationType};

use crate::error::ProcessorError;
use crate::record::Record;

/// A stage of a topology: takes records of `(KIn, VIn)` and forwards records of
/// `(KOut, VOut)` to its children — Kafka Streams' `api.Processor`.
///
/// One instance exists per task, created by a [`ProcessorSupplier`]; it is only ever called from
/// its task's thread, so it needs no locking.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a processor",
    label = "does not implement `Processor`",
    note = "implement `streams::processor::Processor` for it, or mark a function with `#[processor]`"
)]
pub trait Processor: 'static {
    /// Input key type.
    type KIn: 'static;
    /// Input value type.
    type VIn: 'static;
    /// Output key type.
    type KOut: 'static;
    /// Output value type.
    type VOut: 'static;

    /// Called once before the first record, e.g. to schedule punctuations or fetch stores.
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Self::KOut, Self::VOut>,
    ) -> Result<(), ProcessorError> {
        let _ = ctx;
        Ok(())
    }

    /// Processes one record.
    fn process(
        &mut self,
        record: Record<Self::KIn, Self::VIn>,
        ctx: &mut ProcessorContext<'_, Self::KOut, Self::VOut>,
    ) -> Result<(), ProcessorError>;

    /// Called when a punctuation this processor scheduled with
    /// [`ProcessorContext::schedule`] is due.
    fn punctuate(
        &mut self,
        punctuation: Punctuation,
        ctx: &mut ProcessorContext<'_, Self::KOut, Self::VOut>,
    ) -> Result<(), ProcessorError> {
        let _ = (punctuation, ctx);
        Ok(())
    }

    /// Called on every commit, after the task's record caches were flushed (the
    /// [`TopologyTestDriver`](crate::testing::TopologyTestDriver) commits after each record):
    /// the place to forward what a cache flush listener
    /// ([`KeyValueStore::set_cache_flush_listener`](crate::state::KeyValueStore::set_cache_flush_listener))
    /// collected. With caching on, an aggregate that forwards here emits at most once per key
    /// per commit, as Kafka Streams' cached aggregates do.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use streams_core::error::ProcessorError;
    /// use streams_core::processor::{Processor, ProcessorContext};
    /// use streams_core::record::Record;
    /// use streams_core::state::KeyValueStore;
    ///
    /// /// Counts per key; emits each key's latest count once per commit.
    /// #[derive(Default)]
    /// struct CachedCount {
    ///     counts: Option<KeyValueStore<String, i64>>,
    ///     flushed: Rc<RefCell<Vec<(String, i64)>>>,
    /// }
    ///
    /// impl Processor for CachedCount {
    ///     type KIn = String;
    ///     type VIn = String;
    ///     type KOut = String;
    ///     type VOut = i64;
    ///
    ///     fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
    ///         let counts: KeyValueStore<String, i64> = ctx.key_value_store("counts")?;
    ///         let flushed = Rc::clone(&self.flushed);
    ///         counts.set_cache_flush_listener(move |entry| {
    ///             if let Some(count) = entry.new_value {
    ///                 flushed.borrow_mut().push((entry.key, count));
    ///             }
    ///             Ok(())
    ///         });
    ///         self.counts = Some(counts);
    ///         Ok(())
    ///     }
    ///
    ///     fn process(
    ///         &mut self,
    ///         r: Record<String, String>,
    ///         _ctx: &mut ProcessorContext<'_, String, i64>,
    ///     ) -> Result<(), ProcessorError> {
    ///         let counts = self.counts.as_ref().ok_or_else(|| ProcessorError::msg("no store"))?;
    ///         let n = counts.get(&r.key)?.unwrap_or(0) + 1;
    ///         counts.put(&r.key, &n)?;
    ///         Ok(())
    ///     }
    ///
    ///     fn on_commit(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), ProcessorError> {
    ///         let now = ctx.current_stream_time();
    ///         for (key, count) in self.flushed.borrow_mut().drain(..) {
    ///             ctx.forward(Record::new(key, count, now))?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn on_commit(
        &mut self,
        ctx: &mut ProcessorContext<'_, Self::KOut, Self::VOut>,
    ) -> Result<(), ProcessorError> {
        let _ = ctx;
        Ok(())
    }

    /// Called once when the task closes.
    fn close(&mut self) {}
}

/// Makes a fresh [`Processor`] for each task — Kafka Streams' `ProcessorSupplier`.
///
/// Any `Fn() -> P` closure is a supplier; it must return a new instance every call.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot supply processors",
    note = "pass a closure that creates a new processor, e.g. `|| MyProcessor::default()`"
)]
pub trait ProcessorSupplier: Send + Sync + 'static {
    /// The processor type supplied.
    type Processor: Processor;

    /// A new processor instance.
    fn get(&self) -> Self::Processor;
}

impl<F, P> ProcessorSupplier for F
where
    F: Fn() -> P + Send + Sync + 'static,
    P: Processor,
{
    type Processor = P;

    fn get(&self) -> P {
        self()
    }
}
