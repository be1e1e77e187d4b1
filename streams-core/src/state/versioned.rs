//! Versioned key-value stores (KIP-889): every version of a key, each valid from its record's
//! timestamp until the next version's, queryable as of any time within the history retention.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

use crate::codec::{Codec, CodecError};

use super::builder::{BuiltStore, StateStore, StoreBuilder, StoreKind, Stores};
use super::bytes::RestoreRecord;
use super::context::StoreContext;
use super::error::StoreError;
use super::memory::InMemoryStore;
#[cfg(feature = "rocksdb")]
use super::rocks::{RocksDb, RocksFamily};
#[cfg(feature = "rocksdb")]
use super::segments::RocksSegments;
use super::segments::{MemorySegments, SegmentBackend, duration_ms};
use super::typed::ErasedCodec;
use super::versioned_engine::{RawVersion, VersionedBytesStore, VersionedEngine, VersionedLogging};

/// One version of a key — Kafka Streams' `VersionedRecord<V>`: the value, the timestamp it is
/// valid from, and the timestamp it is valid until (exclusive; `None` for the newest version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionedRecord<V> {
    /// The value.
    pub value: V,
    /// The timestamp of the record that wrote it: the version is valid from here (inclusive).
    pub timestamp: i64,
    /// The timestamp of the next version (exclusive); `None` while this is the newest.
    pub valid_to: Option<i64>,
}

impl<V> VersionedRecord<V> {
    /// A version valid from `timestamp`, with no successor.
    pub fn new(value: V, timestamp: i64) -> Self {
        VersionedRecord {
            value,
            timestamp,
            valid_to: None,
        }
    }
}

/// What a [`VersionedKeyValueStore::put`] did — Kafka Streams' put return codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PutOutcome {
    /// The version is the key's newest (Kafka Streams: `PUT_RETURN_CODE_VALID_TO_UNDEFINED`).
    Latest,
    /// The version went into the history, valid until this timestamp (the next version's).
    ValidTo(i64),
    /// Not written: its timestamp is older than the store's stream time minus the history
    /// retention (Kafka Streams: `PUT_RETURN_CODE_NOT_PUT`).
    Expired,
}

/// A typed versioned key-value store, as a processor sees it — Kafka Streams'
/// `VersionedKeyValueStore<K, V>`.
///
/// Each write is a *version* of its key, valid from its timestamp until the next version's;
/// a delete (or a value the codec writes as null) is a tombstone version. Writes may come out of
/// order: an older version goes into the history. The store's *stream time* is the largest
/// timestamp written; the *history retention* says how far back it answers:
///
/// - [`get_as_of`](Self::get_as_of) at a time within `stream time − history retention` (that
///   bound included) returns the version valid then;
/// - older queries only see the newest version, if it is old enough; older history is dropped;
/// - writes older than the bound are refused ([`PutOutcome::Expired`]).
///
/// A cheap handle: clones share the store. Build one with
/// [`Stores::persistent_versioned_key_value_store`] (or the in-memory variant), or for a KTable
/// with [`Materialized::versioned`](crate::dsl::Materialized::versioned).
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::Utf8;
/// use streams_core::state::{PutOutcome, StoreError, VersionedKeyValueStore};
///
/// # fn main() -> Result<(), StoreError> {
/// let prices: VersionedKeyValueStore<String, String> =
///     VersionedKeyValueStore::in_memory("prices", Duration::from_secs(60), Utf8, Utf8)?;
/// let apple = "apple".to_string();
/// prices.put(&apple, &"1.00".to_string(), 1_000)?;
/// prices.put(&apple, &"1.20".to_string(), 9_000)?;
/// // Out of order: goes into the history, valid until the next version.
/// assert_eq!(prices.put(&apple, &"1.10".to_string(), 5_000)?, PutOutcome::ValidTo(9_000));
///
/// assert_eq!(prices.get(&apple)?.unwrap().value, "1.20");
/// let at_6s = prices.get_as_of(&apple, 6_000)?.unwrap();
/// assert_eq!((at_6s.value.as_str(), at_6s.timestamp, at_6s.valid_to), ("1.10", 5_000, Some(9_000)));
/// assert_eq!(prices.get_as_of(&apple, 500)?, None); // no version yet
/// # Ok(())
/// # }
/// ```
pub struct VersionedKeyValueStore<K, V> {
    core: Rc<VersionedCore<K, V>>,
}

struct VersionedCore<K, V> {
    name: String,
    history_retention: Duration,
    store: Rc<dyn VersionedBytesStore>,
    key_codec: Box<dyn ErasedCodec<K>>,
    value_codec: Box<dyn ErasedCodec<V>>,
    key_buf: Cell<Vec<u8>>,
}

impl<K, V> Clone for VersionedKeyValueStore<K, V> {
    fn clone(&self) -> Self {
        VersionedKeyValueStore {
            core: Rc::clone(&self.core),
        }
    }
}

impl<K, V> fmt::Debug for VersionedKeyValueStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionedKeyValueStore")
            .field("name", &self.core.name)
            .field("history_retention", &self.core.history_retention)
            .finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> VersionedKeyValueStore<K, V> {
    fn new(
        name: &str,
        history_retention: Duration,
        store: Rc<dyn VersionedBytesStore>,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Self {
        VersionedKeyValueStore {
            core: Rc::new(VersionedCore {
                name: name.to_string(),
                history_retention,
                store,
                key_codec: Box::new(key_codec),
                value_codec: Box::new(value_codec),
                key_buf: Cell::default(),
            }),
        }
    }

    /// A standalone in-memory store, outside any topology (for tests and examples; processors
    /// get theirs from the context), with Kafka Streams' default segment interval.
    pub fn in_memory(
        name: &str,
        history_retention: Duration,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Result<Self, StoreError> {
        let history_ms = duration_ms(history_retention);
        let engine = in_memory_engine(
            name,
            history_ms,
            VersionedEngine::default_segment_interval(history_ms),
        )?;
        Ok(Self::new(
            name,
            history_retention,
            Rc::new(engine),
            key_codec,
            value_codec,
        ))
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// How far behind the store's stream time versions stay queryable (and writes accepted).
    pub fn history_retention(&self) -> Duration {
        self.core.history_retention
    }

    fn codec_error(&self, source: CodecError) -> StoreError {
        StoreError::Codec {
            store: self.core.name.clone(),
            source,
        }
    }

    /// Runs `f` with the key's bytes (a null key is an error).
    fn with_key<R>(
        &self,
        key: &K,
        f: impl FnOnce(&[u8]) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let core = &self.core;
        let mut buf = core.key_buf.take();
        let result = match core.key_codec.encode_into(key, &mut buf) {
            Ok(true) => f(&buf),
            Ok(false) => Err(self.codec_error(CodecError::Null {
                type_name: std::any::type_name::<K>(),
            })),
            Err(e) => Err(self.codec_error(e)),
        };
        core.key_buf.set(buf);
        result
    }

    fn decode(&self, raw: Option<RawVersion>) -> Result<Option<VersionedRecord<V>>, StoreError> {
        raw.map(|raw| {
            Ok(VersionedRecord {
                value: self
                    .core
                    .value_codec
                    .decode(&raw.value)
                    .map_err(|e| self.codec_error(e))?,
                timestamp: raw.valid_from,
                valid_to: raw.valid_to,
            })
        })
        .transpose()
    }

    /// Writes a version of `key` valid from `timestamp`; a value the codec writes as null is a
    /// tombstone. A second write with the same key and timestamp replaces the first.
    pub fn put(&self, key: &K, value: &V, timestamp: i64) -> Result<PutOutcome, StoreError> {
        self.put_row(key, Some(value), timestamp)
    }

    /// Writes `value`, or a tombstone for `None` (Kafka Streams' `put(key, null, timestamp)`,
    /// what a table source writes for a delete).
    pub(crate) fn put_row(
        &self,
        key: &K,
        value: Option<&V>,
        timestamp: i64,
    ) -> Result<PutOutcome, StoreError> {
        let mut buf = Vec::new();
        let value = match value.map(|v| self.core.value_codec.encode_into(v, &mut buf)) {
            Some(Ok(true)) => Some(buf.as_slice()),
            Some(Ok(false)) | None => None,
            Some(Err(e)) => return Err(self.codec_error(e)),
        };
        self.with_key(key, |k| self.core.store.put(k, value, timestamp))
    }

    /// Deletes `key` from `timestamp` on (a tombstone version); returns the version valid at
    /// `timestamp` before, if any. Nothing is written, and `None` returned, if `timestamp` is
    /// older than the history retention allows.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::state::VersionedKeyValueStore;
    ///
    /// let stock: VersionedKeyValueStore<String, i64> =
    ///     VersionedKeyValueStore::in_memory("stock", Duration::from_secs(10), Utf8, I64).unwrap();
    /// let pens = "pens".to_string();
    /// stock.put(&pens, &40, 1_000).unwrap();
    /// assert_eq!(stock.delete(&pens, 2_000).unwrap().map(|r| r.value), Some(40));
    /// assert_eq!(stock.get(&pens).unwrap(), None);
    /// assert_eq!(stock.get_as_of(&pens, 1_500).unwrap().map(|r| r.value), Some(40));
    /// ```
    pub fn delete(
        &self,
        key: &K,
        timestamp: i64,
    ) -> Result<Option<VersionedRecord<V>>, StoreError> {
        let deletion = self.with_key(key, |k| self.core.store.delete(k, timestamp))?;
        self.decode(deletion.previous)
    }

    /// The newest version of `key`, unless it is a tombstone.
    pub fn get(&self, key: &K) -> Result<Option<VersionedRecord<V>>, StoreError> {
        let raw = self.with_key(key, |k| self.core.store.get(k))?;
        self.decode(raw)
    }

    /// The version of `key` valid at `as_of_timestamp` (the one with the largest timestamp not
    /// after it), unless it is a tombstone — Kafka Streams' `get(key, asOfTimestamp)`. For a
    /// time older than the history retention (stream time − history retention, exclusive), only
    /// the newest version is returned, and only if it is not newer than `as_of_timestamp`.
    pub fn get_as_of(
        &self,
        key: &K,
        as_of_timestamp: i64,
    ) -> Result<Option<VersionedRecord<V>>, StoreError> {
        let raw = self.with_key(key, |k| self.core.store.get_as_of(k, as_of_timestamp))?;
        self.decode(raw)
    }
}

/// An in-memory versioned engine.
fn in_memory_engine(
    name: &str,
    history_ms: i64,
    segment_interval_ms: i64,
) -> Result<VersionedEngine, StoreError> {
    let backend: Box<dyn SegmentBackend> = Box::new(MemorySegments {
        name: name.to_string(),
    });
    VersionedEngine::open(
        name,
        history_ms,
        segment_interval_ms,
        Rc::new(InMemoryStore::new(name)),
        backend,
    )
}

/// The column family of a persistent versioned store's newest versions.
#[cfg(feature = "rocksdb")]
const LATEST_FAMILY: &str = "latest-values";

/// The lifecycle of a versioned store stack.
struct VersionedLifecycle {
    name: String,
    top: Rc<dyn VersionedBytesStore>,
}

impl StateStore for VersionedLifecycle {
    fn name(&self) -> &str {
        &self.name
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.top.flush()
    }

    fn flush_cache(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn restore_batch(&self, records: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        self.top.restore(records)
    }

    fn close(&self) -> Result<(), StoreError> {
        self.top.close()
    }
}

/// Builds versioned key-value stores; see [`Stores::persistent_versioned_key_value_store`].
///
/// Versioned stores have no record cache (as in Kafka Streams): every write reaches the store
/// and its changelog at once.
pub struct VersionedKeyValueStoreBuilder<K, V, KC, VC> {
    name: String,
    persistent: bool,
    logging: bool,
    changelog_configs: Vec<(String, String)>,
    history_retention: Duration,
    segment_interval: Option<Duration>,
    key_codec: KC,
    value_codec: VC,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC, VC> fmt::Debug for VersionedKeyValueStoreBuilder<K, V, KC, VC> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionedKeyValueStoreBuilder")
            .field("name", &self.name)
            .field("persistent", &self.persistent)
            .field("logging", &self.logging)
            .field("history_retention", &self.history_retention)
            .field("segment_interval", &self.segment_interval)
            .finish_non_exhaustive()
    }
}

impl<K, V, KC, VC> VersionedKeyValueStoreBuilder<K, V, KC, VC> {
    /// Logs every write to the changelog topic (the default): the value (or a tombstone) with
    /// the version's timestamp as the record's, Kafka Streams' layout.
    pub fn with_logging_enabled(mut self) -> Self {
        self.logging = true;
        self
    }

    /// Keeps no changelog: the store's contents are lost with its local state. Forgets the
    /// changelog configs set so far.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self.changelog_configs.clear();
        self
    }

    /// Sets the changelog topic config `key` to `value` (replacing an earlier value of the same
    /// key) and turns logging on. Over the defaults: `cleanup.policy=compact` and
    /// `min.compaction.lag.ms` = history retention + one day, as Kafka Streams creates them.
    pub fn with_changelog_config(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.logging = true;
        super::builder::set_config(&mut self.changelog_configs, key.into(), value.into());
        self
    }

    /// Groups old versions in segments of `interval` by the time they ended (checked when the
    /// store is built: at least 1 ms); a segment is dropped whole once all its versions are
    /// older than the history retention. The default is Kafka Streams': a third of a history
    /// retention up to a minute (at least 2 s), down to a 24th of one over an hour (at least
    /// 5 min).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::Utf8;
    /// use streams_core::state::{StoreBuilder, Stores};
    ///
    /// let rates = Stores::in_memory_versioned_key_value_store("rates", Duration::from_secs(3_600), Utf8, Utf8)
    ///     .with_segment_interval(Duration::from_secs(600));
    /// assert_eq!(rates.retention(), Some(Duration::from_secs(3_600)));
    /// ```
    pub fn with_segment_interval(mut self, interval: Duration) -> Self {
        self.segment_interval = Some(interval);
        self
    }

    /// The history retention.
    pub fn history_retention(&self) -> Duration {
        self.history_retention
    }
}

impl<K, V, KC, VC> StoreBuilder for VersionedKeyValueStoreBuilder<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> StoreKind {
        StoreKind::VersionedKeyValue
    }

    fn persistent(&self) -> bool {
        self.persistent
    }

    fn logging(&self) -> bool {
        self.logging
    }

    fn changelog_configs(&self) -> &[(String, String)] {
        &self.changelog_configs
    }

    fn caching(&self) -> bool {
        false
    }

    /// The history retention.
    fn retention(&self) -> Option<Duration> {
        Some(self.history_retention)
    }

    fn build(&self, ctx: &StoreContext) -> Result<BuiltStore, StoreError> {
        let name = self.name.as_str();
        let history_ms = duration_ms(self.history_retention);
        let interval_ms = match self.segment_interval {
            Some(interval) => duration_ms(interval),
            None => VersionedEngine::default_segment_interval(history_ms),
        };
        if interval_ms < 1 {
            return Err(StoreError::InvalidConfig {
                store: name.to_string(),
                message: "the segment interval of a versioned store must be at least 1 ms"
                    .to_string(),
            });
        }
        let engine = if self.persistent {
            persistent_engine(name, history_ms, interval_ms, ctx)?
        } else {
            in_memory_engine(name, history_ms, interval_ms)?
        };
        let mut top: Rc<dyn VersionedBytesStore> = Rc::new(engine);
        if self.logging {
            top = Rc::new(VersionedLogging::new(name, top, ctx.changelog().cloned()));
        }
        let handle = VersionedKeyValueStore::<K, V>::new(
            name,
            self.history_retention,
            Rc::clone(&top),
            self.key_codec.clone(),
            self.value_codec.clone(),
        );
        let lifecycle: Rc<dyn StateStore> = Rc::new(VersionedLifecycle {
            name: self.name.clone(),
            top,
        });
        Ok(BuiltStore::new(handle, lifecycle))
    }
}

/// A RocksDB versioned engine: the newest versions in one column family, each history segment in
/// another, the stream time in the default one.
#[cfg(feature = "rocksdb")]
fn persistent_engine(
    name: &str,
    history_ms: i64,
    interval_ms: i64,
    ctx: &StoreContext,
) -> Result<VersionedEngine, StoreError> {
    let db = RocksDb::open(name, &ctx.store_dir(name), ctx.rocksdb_memory())?;
    let latest = RocksFamily::open(Rc::clone(&db), LATEST_FAMILY.to_string())?;
    VersionedEngine::open(
        name,
        history_ms,
        interval_ms,
        Rc::new(latest),
        Box::new(RocksSegments { db, mirror: None }),
    )
}

/// Without RocksDB, "persistent" stores are kept in memory.
#[cfg(not(feature = "rocksdb"))]
fn persistent_engine(
    name: &str,
    history_ms: i64,
    interval_ms: i64,
    _ctx: &StoreContext,
) -> Result<VersionedEngine, StoreError> {
    in_memory_engine(name, history_ms, interval_ms)
}

impl Stores {
    fn versioned<K, V, KC, VC>(
        name: impl Into<String>,
        persistent: bool,
        history_retention: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> VersionedKeyValueStoreBuilder<K, V, KC, VC> {
        VersionedKeyValueStoreBuilder {
            name: name.into(),
            persistent,
            logging: true,
            changelog_configs: Vec::new(),
            history_retention,
            segment_interval: None,
            key_codec,
            value_codec,
            types: PhantomData,
        }
    }

    /// A persistent (RocksDB) versioned key-value store keeping old versions for
    /// `history_retention` — Kafka Streams' `Stores.persistentVersionedKeyValueStore` with
    /// `versionedKeyValueStoreBuilder`. Handles are [`VersionedKeyValueStore`]s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::processor::TaskId;
    /// use streams_core::state::{StoreBuilder, StoreContext, StoreKind, Stores, VersionedKeyValueStore};
    ///
    /// let builder = Stores::persistent_versioned_key_value_store("rates", Duration::from_secs(60), Utf8, I64);
    /// assert_eq!(builder.kind(), StoreKind::VersionedKeyValue);
    /// assert!(builder.persistent() && builder.logging() && !builder.caching());
    ///
    /// let dir = std::env::temp_dir().join(format!("versioned-doc-{}", std::process::id()));
    /// let built = builder.build(&StoreContext::new(TaskId { subtopology: 0, partition: 0 }, "app", &dir)).unwrap();
    /// let rates: VersionedKeyValueStore<String, i64> = built.handle().unwrap();
    /// rates.put(&"eur".to_string(), &108, 1_000).unwrap();
    /// assert_eq!(rates.get_as_of(&"eur".to_string(), 1_000).unwrap().map(|r| r.value), Some(108));
    /// built.state_store().close().unwrap();
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[cfg(feature = "rocksdb")]
    pub fn persistent_versioned_key_value_store<K, V, KC, VC>(
        name: impl Into<String>,
        history_retention: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> VersionedKeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::versioned(name, true, history_retention, key_codec, value_codec)
    }

    /// An in-memory versioned key-value store keeping old versions for `history_retention`
    /// (restored from its changelog after a restart).
    pub fn in_memory_versioned_key_value_store<K, V, KC, VC>(
        name: impl Into<String>,
        history_retention: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> VersionedKeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::versioned(name, false, history_retention, key_codec, value_codec)
    }
}
