//! State stores: local, per-task tables that processors read and write.
//!
//! A store is declared in the topology with a [`StoreBuilder`] (made by [`Stores`]) and connected
//! to the processors that use it; each task gets its own instance. A processor reaches only the
//! stores connected to it, through
//! [`ProcessorContext::key_value_store`](crate::processor::ProcessorContext::key_value_store) and
//! its siblings for the other kinds.
//!
//! | kind | handle | in-memory | persistent (RocksDB) |
//! |---|---|---|---|
//! | key-value | [`KeyValueStore`] | [`Stores::in_memory_key_value`] | [`Stores::persistent_key_value`] |
//! | timestamped key-value | [`TimestampedKeyValueStore`] | [`Stores::in_memory_timestamped_key_value`] | [`Stores::persistent_timestamped_key_value`] |
//! | window | [`WindowStore`] | [`Stores::in_memory_window_store`] | [`Stores::persistent_window_store`] |
//! | timestamped window | [`TimestampedWindowStore`] | [`Stores::in_memory_timestamped_window_store`] | [`Stores::persistent_timestamped_window_store`] |
//! | session | [`SessionStore`] | [`Stores::in_memory_session_store`] | [`Stores::persistent_session_store`] |
//! | versioned key-value | [`VersionedKeyValueStore`] | [`Stores::in_memory_versioned_key_value_store`] | [`Stores::persistent_versioned_key_value_store`] |
//!
//! Stores hold bytes, in the key codec's byte order, as in Kafka Streams: a typed handle encodes
//! and decodes through the codecs it was declared with. Under a handle, a store is a stack:
//!
//! ```text
//! typed handle ─ record cache (with_caching_enabled) ─ changelog logging (with_logging_enabled)
//!              ─ segments (window, session) ─ engine (BTreeMap or RocksDB)
//! ```
//!
//! - **Record cache** ([`RecordCache`]): one per stream thread, `statestore.cache.max.bytes`;
//!   folds writes per key, flushes dirty entries on commit ([`StoreRegistry::flush_all`]) or
//!   eviction, down the stack and to the store's flush listener.
//! - **Logging**: every write reaching it goes to the task's [`ChangelogSink`].
//! - **Restoration**: [`StoreRegistry::restore_batch`] replays changelog records
//!   ([`RestoreRecord`]) below cache and logging, as one RocksDB write batch with the WAL off.
//! - **Memory**: every RocksDB store of the process shares one [`RocksDbMemory`] budget (block
//!   cache + memtables, 64 MiB by default).
//! - **Segments**: a window store's are half its retention long, at least 1 s (Kafka Streams:
//!   at least 60 s; here a segment is a column family, not a RocksDB instance), so a short
//!   window drops old records often; session stores keep Kafka Streams' interval. The persistent
//!   window stores of stream-stream joins (the ones keeping duplicates) also keep an in-memory
//!   copy of their segments, which their lookups read: the copies of the process share a
//!   64 MiB budget, and a store over it reads RocksDB again. Results are the same either way.
//!
//! Versioned key-value stores ([`VersionedKeyValueStore`], KIP-889) keep every version of a key
//! within a history retention: their stack is the typed handle, changelog logging (each version
//! with its timestamp as the record's, Kafka Streams' layout) and an engine of a latest-value
//! store plus history segments by the time each version ended, in memory or in RocksDB column
//! families. They have no record cache.
//!
//! ```
//! use streams_core::codec::{I64, Utf8};
//! use streams_core::state::{StoreBuilder, StoreKind, Stores};
//! let counts = Stores::in_memory_key_value("counts", Utf8, I64);
//! assert_eq!(counts.name(), "counts");
//! assert_eq!(counts.kind(), StoreKind::KeyValue);
//! ```

mod builder;
mod bytes;
mod cache;
mod context;
mod error;
pub(crate) mod global;
mod key_value;
mod logging;
mod memory;
#[cfg(feature = "rocksdb")]
mod mirror;
mod registry;
#[cfg(feature = "rocksdb")]
mod rocks;
mod segments;
mod session;
mod timestamped;
mod typed;
mod versioned;
mod versioned_engine;
mod window;

#[cfg(all(test, feature = "rocksdb"))]
mod tests;
#[cfg(test)]
mod versioned_tests;

pub(crate) use builder::set_config;
pub use builder::{
    BuiltStore, KeyValueStoreBuilder, SessionStoreBuilder, StateStore, StoreBuilder, StoreKind,
    Stores, TimestampedKeyValueStoreBuilder, TimestampedWindowStoreBuilder, WindowStoreBuilder,
};
pub use bytes::RestoreRecord;
#[cfg(feature = "kafka")]
pub(crate) use cache::query_reads;
pub use cache::{CacheStats, RecordCache};
pub use context::StoreContext;
pub(crate) use context::TempDir;
pub use error::StoreError;
pub use key_value::{CacheFlush, KeyValueIter, KeyValueStore};
pub use logging::{ChangelogRecord, ChangelogSink};
pub use registry::StoreRegistry;
#[cfg(feature = "rocksdb")]
pub use rocks::RocksDbMemory;
pub use session::{SessionIter, SessionStore};
pub use timestamped::{TimestampedKeyValueStore, ValueAndTimestamp, ValueAndTimestampCodec};
pub use versioned::{
    PutOutcome, VersionedKeyValueStore, VersionedKeyValueStoreBuilder, VersionedRecord,
};
pub use window::{TimestampedWindowStore, Window, WindowIter, WindowStore, Windowed, WindowedIter};
