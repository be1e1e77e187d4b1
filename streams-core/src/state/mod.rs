//! State stores: local, per-task tables that processors read and write.
//!
//! A store is declared in the topology with a [`StoreBuilder`] (made by [`Stores`]) and connected
//! to the processors that use it; each task gets its own instance. A processor reaches only the
//! stores connected to it, through
//! [`ProcessorContext::key_value_store`](crate::processor::ProcessorContext::key_value_store).
//!
//! Stores hold bytes, in the key codec's byte order, as in Kafka Streams: a typed
//! [`KeyValueStore`] encodes and decodes through the codecs it was declared with.
//!
//! ```
//! use streams_core::codec::{I64, Utf8};
//! use streams_core::state::{StoreBuilder, StoreKind, Stores};
//! let counts = Stores::in_memory_key_value("counts", Utf8, I64);
//! assert_eq!(counts.name(), "counts");
//! assert_eq!(counts.kind(), StoreKind::KeyValue);
//! ```

mod builder;
mod error;
mod key_value;
mod memory;
mod registry;

pub use builder::{KeyValueStoreBuilder, StoreBuilder, StoreKind, Stores};
pub use error::StoreError;
pub use key_value::{KeyValueIter, KeyValueStore};
pub(crate) use registry::StoreRegistry;
