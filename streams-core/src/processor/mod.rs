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
pub(crate) mod node;
mod punctuation;
pub(crate) mod task;

pub use context::ProcessorContext;
pub use punctuation::{Punctuation, PunctuationId, PunctuationType};
pub use task::TaskId;

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
