use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::Codec;

use super::bytes::{BytesStore, RestoreRecord};
use super::cache::CachingStore;
use super::context::StoreContext;
use super::error::StoreError;
use super::global::{GlobalAccess, SharedEngine, SharedMemory, SharedStore};
use super::key_value::KeyValueStore;
use super::logging::{KeyFormat, LoggingStore, ValueFormat, restore_keys};
use super::memory::InMemoryStore;
#[cfg(feature = "rocksdb")]
use super::rocks::{RocksDb, RocksFamily, SharedRocksDb};
#[cfg(feature = "rocksdb")]
use super::segments::RocksSegments;
#[cfg(feature = "rocksdb")]
use super::segments::SegmentedStore;
use super::segments::{KeySchema, duration_ms, in_memory_segments, retention_param, window_params};
use super::session::SessionStore;
use super::timestamped::{ValueAndTimestamp, ValueAndTimestampCodec};
use super::window::WindowStore;

/// The kind of a state store, as shown by `describe()` and checked on access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreKind {
    /// Key → value.
    KeyValue,
    /// Key → value and timestamp (what KTables keep).
    TimestampedKeyValue,
    /// (Key, window start) → value, with retention.
    Window,
    /// (Key, session window) → aggregate, with retention.
    Session,
    /// Key → every version (value and validity interval) within a history retention.
    VersionedKeyValue,
}

impl StoreKind {
    /// Whether entries expire with time (window and session stores).
    pub fn is_windowed(self) -> bool {
        matches!(self, StoreKind::Window | StoreKind::Session)
    }
}

/// Declares a state store in a topology and makes one instance of it per task — Kafka
/// Streams' `StoreBuilder`.
///
/// The runtime reads the declaration (kind, logging, caching, retention) to create changelog
/// topics before processing, and calls [`build`](Self::build) once per task.
pub trait StoreBuilder: Send + Sync + 'static {
    /// The store's name, unique in the topology.
    fn name(&self) -> &str;

    /// The store's kind.
    fn kind(&self) -> StoreKind;

    /// Whether the store is persistent (RocksDB) rather than in-memory.
    fn persistent(&self) -> bool;

    /// Whether writes are logged to the changelog topic
    /// (`<application.id>-<store>-changelog`).
    fn logging(&self) -> bool;

    /// Whether writes go through the thread's record cache.
    fn caching(&self) -> bool;

    /// How long windowed stores keep windows, and versioned stores old versions (their history
    /// retention); `None` for other key-value stores.
    fn retention(&self) -> Option<Duration>;

    /// The changelog topic's name: `<application.id>-<store>-changelog`.
    fn changelog_topic(&self, application_id: &str) -> String {
        format!("{application_id}-{}-changelog", self.name())
    }

    /// The changelog topic's default `cleanup.policy`: `compact`, or `compact,delete` for
    /// windowed stores (whose `retention.ms` is the store's retention plus one day, as Kafka
    /// Streams' `windowstore.changelog.additional.retention.ms`).
    fn changelog_cleanup_policy(&self) -> &'static str {
        if self.kind().is_windowed() {
            "compact,delete"
        } else {
            "compact"
        }
    }

    /// Configs of the changelog topic set for this store (Kafka Streams'
    /// `StoreBuilder.withLoggingEnabled(config)`), in the order set: they override the defaults
    /// ([`changelog_cleanup_policy`](Self::changelog_cleanup_policy), and `retention.ms` for
    /// windowed stores) when the runtime creates the topic. None by default.
    fn changelog_configs(&self) -> &[(String, String)] {
        &[]
    }

    /// A new store instance for one task, opened in `ctx` (persistent stores open or create
    /// their RocksDB directory there).
    fn build(&self, ctx: &StoreContext) -> Result<BuiltStore, StoreError>;
}

/// What the runtime does with a built store instance besides handing it to processors —
/// Kafka Streams' `StateStore`: flush on commit, restore from the changelog, close.
pub trait StateStore {
    /// The store's name.
    fn name(&self) -> &str;

    /// Flushes the record cache (forwarding to the flush listener and writing to the store and
    /// its changelog), then the engine (RocksDB memtables). The runtime calls it on commit,
    /// before writing checkpoints.
    fn flush(&self) -> Result<(), StoreError>;

    /// Flushes the record cache only (what the test driver does after each record).
    fn flush_cache(&self) -> Result<(), StoreError>;

    /// Writes changelog records into the store, bypassing cache and logging, as one batch
    /// (RocksDB: write-ahead log off). Records are in changelog order; a `None` value deletes.
    fn restore_batch(&self, records: &[RestoreRecord<'_>]) -> Result<(), StoreError>;

    /// Flushes and closes the store.
    fn close(&self) -> Result<(), StoreError>;
}

/// A built store instance: the typed handle processors fetch (boxed, downcast on access) and
/// its lifecycle for the runtime.
pub struct BuiltStore {
    pub(crate) handle: Box<dyn Any>,
    pub(crate) store: Rc<dyn StateStore>,
}

impl BuiltStore {
    /// Pairs a typed handle with its lifecycle.
    pub fn new(handle: impl Any, store: Rc<dyn StateStore>) -> Self {
        BuiltStore {
            handle: Box::new(handle),
            store,
        }
    }

    /// The typed handle, if it is an `H` (e.g. `KeyValueStore<String, i64>`): how to use a
    /// store outside a topology.
    ///
    /// ```
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::processor::TaskId;
    /// use streams_core::state::{KeyValueStore, StoreBuilder, StoreContext, Stores};
    ///
    /// let task = TaskId { subtopology: 0, partition: 0 };
    /// let ctx = StoreContext::new(task, "app", std::env::temp_dir());
    /// let built = Stores::in_memory_key_value("kv", Utf8, I64).build(&ctx).unwrap();
    /// let kv: KeyValueStore<String, i64> = built.handle().unwrap();
    /// kv.put(&"a".to_string(), &1).unwrap();
    /// built.state_store().flush().unwrap();
    /// ```
    pub fn handle<H: Clone + 'static>(&self) -> Option<H> {
        self.handle.downcast_ref::<H>().cloned()
    }

    /// The store's lifecycle (flush, restore, close).
    pub fn state_store(&self) -> &Rc<dyn StateStore> {
        &self.store
    }
}

impl fmt::Debug for BuiltStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltStore")
            .field("name", &self.store.name())
            .finish_non_exhaustive()
    }
}

/// The lifecycle of a store stack.
struct Lifecycle {
    name: String,
    top: Rc<dyn BytesStore>,
    /// How changelog keys map to store keys (restoration).
    keys: KeyFormat,
}

impl StateStore for Lifecycle {
    fn name(&self) -> &str {
        &self.name
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.top.flush()
    }

    fn flush_cache(&self) -> Result<(), StoreError> {
        self.top.flush_cache()
    }

    fn restore_batch(&self, records: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        let Some(keys) = restore_keys(&self.name, self.keys, records)? else {
            return self.top.restore(records);
        };
        let records: Vec<RestoreRecord<'_>> = records
            .iter()
            .zip(&keys)
            .map(|(r, key)| RestoreRecord { key, ..*r })
            .collect();
        self.top.restore(&records)
    }

    fn close(&self) -> Result<(), StoreError> {
        self.top.close()
    }
}

/// A store stack's top layer and its lifecycle.
type Opened = (Rc<dyn BytesStore>, Rc<dyn StateStore>);

/// Where a store keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    InMemory,
    /// RocksDB under the task's state directory (the `rocksdb` feature).
    #[cfg(feature = "rocksdb")]
    RocksDb,
}

/// What every builder records besides codecs.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    kind: StoreKind,
    engine: Engine,
    logging: bool,
    /// Configs of the changelog topic, in the order set, one per key.
    changelog_configs: Vec<(String, String)>,
    caching: bool,
    retention: Option<Duration>,
    window_size: Option<Duration>,
    /// Values are [`ValueAndTimestamp`]s (timestamped window stores; the kind says it for
    /// key-value stores).
    timestamped: bool,
    /// A window store that keeps duplicates.
    retain_duplicates: bool,
    /// Keys start with a time (a time-ordered buffer).
    time_first: bool,
}

impl Spec {
    fn new(name: String, kind: StoreKind, engine: Engine) -> Self {
        Spec {
            name,
            kind,
            engine,
            logging: true,
            changelog_configs: Vec::new(),
            caching: false,
            retention: None,
            window_size: None,
            timestamped: kind == StoreKind::TimestampedKeyValue,
            retain_duplicates: false,
            time_first: false,
        }
    }

    /// How the changelog's keys relate to the store's.
    fn key_format(&self) -> KeyFormat {
        match self.kind {
            StoreKind::Window if self.retain_duplicates => KeyFormat::WindowWithSeq,
            StoreKind::Window => KeyFormat::Window,
            StoreKind::Session => KeyFormat::Session,
            _ if self.time_first => KeyFormat::TimeFirst,
            _ => KeyFormat::Plain,
        }
    }

    /// Opens the engine and stacks logging and caching on it.
    fn open(&self, ctx: &StoreContext) -> Result<Opened, StoreError> {
        if let Some(global) = ctx.global_access() {
            return self.open_global(ctx, global);
        }
        let name = self.name.as_str();
        let base: Rc<dyn BytesStore> = match self.kind {
            StoreKind::VersionedKeyValue => {
                return Err(StoreError::InvalidConfig {
                    store: name.to_string(),
                    message: "a versioned store is built by its own builder \
                              (`Stores::persistent_versioned_key_value_store`)"
                        .to_string(),
                });
            }
            StoreKind::KeyValue | StoreKind::TimestampedKeyValue => match self.engine {
                Engine::InMemory => Rc::new(InMemoryStore::new(name)),
                #[cfg(feature = "rocksdb")]
                Engine::RocksDb => {
                    let db = RocksDb::open(name, &ctx.store_dir(name), ctx.rocksdb_memory())?;
                    Rc::new(RocksFamily::default_of(db))
                }
            },
            StoreKind::Window | StoreKind::Session => {
                let schema = match self.kind {
                    StoreKind::Window if self.retain_duplicates => KeySchema::WindowWithSeq,
                    StoreKind::Window => KeySchema::Window,
                    _ => KeySchema::Session,
                };
                let retention_ms = retention_param(name, self.retention.unwrap_or_default())?;
                if let Some(size) = self.window_size {
                    window_params(name, self.retention.unwrap_or_default(), size)?;
                }
                match self.engine {
                    Engine::InMemory => in_memory_segments(name, schema, retention_ms)?,
                    #[cfg(feature = "rocksdb")]
                    Engine::RocksDb => {
                        let db = RocksDb::open(name, &ctx.store_dir(name), ctx.rocksdb_memory())?;
                        Rc::new(SegmentedStore::open(
                            name,
                            schema,
                            retention_ms,
                            SegmentedStore::default_segment_interval(schema, retention_ms),
                            // A join's window stores (the only ones keeping duplicates)
                            // read an in-memory copy of their short window.
                            Box::new(RocksSegments {
                                db,
                                mirror: (schema == KeySchema::WindowWithSeq)
                                    .then(|| super::mirror::MirrorSwitch::new(name)),
                            }),
                        )?)
                    }
                }
            }
        };
        let mut top = base;
        if self.logging {
            let format = if self.timestamped {
                ValueFormat::TimestampPrefixed
            } else {
                ValueFormat::Plain
            };
            top = Rc::new(LoggingStore::new(
                name,
                top,
                ctx.changelog().cloned(),
                format,
                self.key_format(),
            ));
        }
        if self.caching
            && let Some(cache) = ctx.record_cache()
        {
            let namespace = format!("{}-{name}", ctx.task_id());
            let keep_clean = !self.kind.is_windowed();
            top = Rc::new(CachingStore::new(
                name,
                namespace,
                cache.clone(),
                top,
                keep_clean,
            )?);
        }
        let lifecycle: Rc<dyn StateStore> = Rc::new(Lifecycle {
            name: self.name.clone(),
            top: Rc::clone(&top),
            keys: self.key_format(),
        });
        Ok((top, lifecycle))
    }
}

impl Spec {
    /// A global store: a layer over the instance's one engine of this store (opened on first
    /// use), without changelog (the source topic is one) or record cache (every reader sees a
    /// write at once).
    fn open_global(&self, ctx: &StoreContext, global: &GlobalAccess) -> Result<Opened, StoreError> {
        let name = self.name.as_str();
        if !matches!(
            self.kind,
            StoreKind::KeyValue | StoreKind::TimestampedKeyValue
        ) {
            return Err(StoreError::NotGlobal {
                store: name.to_string(),
                reason: "only key-value stores can be global stores".to_string(),
            });
        }
        let engine = global.engines.get_or_open(name, || {
            Ok(match self.engine {
                Engine::InMemory => Arc::new(SharedMemory::default()) as Arc<dyn SharedEngine>,
                #[cfg(feature = "rocksdb")]
                Engine::RocksDb => Arc::new(SharedRocksDb::open(
                    name,
                    &ctx.store_dir(name),
                    ctx.rocksdb_memory(),
                )?),
            })
        })?;
        #[cfg(not(feature = "rocksdb"))]
        let _ = ctx;
        let top: Rc<dyn BytesStore> = Rc::new(SharedStore::new(name, engine, global.writable));
        let lifecycle: Rc<dyn StateStore> = Rc::new(Lifecycle {
            name: self.name.clone(),
            top: Rc::clone(&top),
            keys: KeyFormat::Plain,
        });
        Ok((top, lifecycle))
    }
}

/// Sets `key` in `configs`: replaces its value, or appends it.
pub(crate) fn set_config(configs: &mut Vec<(String, String)>, key: String, value: String) {
    match configs.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => configs.push((key, value)),
    }
}

/// The logging and caching options every builder has.
macro_rules! options {
    ($builder:ident) => {
        impl<K, V, KC, VC> $builder<K, V, KC, VC> {
            /// Logs every write to the changelog topic (the default), so the store can be
            /// restored after a failure or a move to another instance.
            pub fn with_logging_enabled(mut self) -> Self {
                self.spec.logging = true;
                self
            }

            /// Keeps no changelog: the store's contents are lost with its local state. Forgets
            /// the changelog configs set so far.
            pub fn with_logging_disabled(mut self) -> Self {
                self.spec.logging = false;
                self.spec.changelog_configs.clear();
                self
            }

            /// Sets the changelog topic config `key` to `value` (replacing an earlier value of
            /// the same key) and turns logging on — Kafka Streams'
            /// `withLoggingEnabled(Map.of(key, value))`, one config at a time.
            ///
            /// The runtime creates the changelog topic with these configs over its defaults
            /// (`cleanup.policy`; `retention.ms` for windowed stores, whose default is the
            /// store's retention plus one day). A topic that already exists keeps its configs.
            ///
            /// ```
            /// use streams_core::codec::{I64, Utf8};
            /// use streams_core::state::{StoreBuilder, Stores};
            ///
            /// let counts = Stores::in_memory_key_value("counts", Utf8, I64)
            ///     .with_changelog_config("min.insync.replicas", "2")
            ///     .with_changelog_config("segment.bytes", "104857600");
            /// assert!(counts.logging());
            /// assert_eq!(counts.changelog_configs()[0], ("min.insync.replicas".into(), "2".into()));
            /// ```
            pub fn with_changelog_config(
                mut self,
                key: impl Into<String>,
                value: impl Into<String>,
            ) -> Self {
                self.spec.logging = true;
                set_config(&mut self.spec.changelog_configs, key.into(), value.into());
                self
            }

            /// Puts the thread's record cache in front of the store: writes are folded per key
            /// and flushed on commit or eviction.
            pub fn with_caching_enabled(mut self) -> Self {
                self.spec.caching = true;
                self
            }

            /// Writes go straight to the store (the default).
            pub fn with_caching_disabled(mut self) -> Self {
                self.spec.caching = false;
                self
            }
        }

        impl<K, V, KC, VC> fmt::Debug for $builder<K, V, KC, VC> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($builder))
                    .field("spec", &self.spec)
                    .finish_non_exhaustive()
            }
        }
    };
}

/// The [`StoreBuilder`] methods that only read the spec.
macro_rules! spec_methods {
    () => {
        fn name(&self) -> &str {
            &self.spec.name
        }

        fn kind(&self) -> StoreKind {
            self.spec.kind
        }

        fn persistent(&self) -> bool {
            self.spec.engine != Engine::InMemory
        }

        fn logging(&self) -> bool {
            self.spec.logging
        }

        fn changelog_configs(&self) -> &[(String, String)] {
            &self.spec.changelog_configs
        }

        fn caching(&self) -> bool {
            self.spec.caching
        }

        fn retention(&self) -> Option<Duration> {
            self.spec.retention
        }
    };
}

/// Builds key-value stores (plain or timestamped); see [`Stores`].
pub struct KeyValueStoreBuilder<K, V, KC, VC> {
    spec: Spec,
    key_codec: KC,
    value_codec: VC,
    types: PhantomData<fn() -> (K, V)>,
}

options!(KeyValueStoreBuilder);

/// Builds timestamped key-value stores; see [`Stores::in_memory_timestamped_key_value`].
pub type TimestampedKeyValueStoreBuilder<K, V, KC, VC> =
    KeyValueStoreBuilder<K, ValueAndTimestamp<V>, KC, ValueAndTimestampCodec<VC>>;

impl<K, V, KC, VC> StoreBuilder for KeyValueStoreBuilder<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    spec_methods!();

    fn build(&self, ctx: &StoreContext) -> Result<BuiltStore, StoreError> {
        let (top, lifecycle) = self.spec.open(ctx)?;
        let handle = KeyValueStore::<K, V>::new(
            &self.spec.name,
            top,
            self.key_codec.clone(),
            self.value_codec.clone(),
        );
        Ok(BuiltStore::new(handle, lifecycle))
    }
}

/// Builds timestamped window stores (what DSL windowed aggregations keep); see
/// [`Stores::in_memory_timestamped_window_store`].
pub type TimestampedWindowStoreBuilder<K, V, KC, VC> =
    WindowStoreBuilder<K, ValueAndTimestamp<V>, KC, ValueAndTimestampCodec<VC>>;

/// Builds window stores; see [`Stores::in_memory_window_store`].
pub struct WindowStoreBuilder<K, V, KC, VC> {
    spec: Spec,
    key_codec: KC,
    value_codec: VC,
    types: PhantomData<fn() -> (K, V)>,
}

options!(WindowStoreBuilder);

impl<K, V, KC, VC> StoreBuilder for WindowStoreBuilder<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    spec_methods!();

    fn build(&self, ctx: &StoreContext) -> Result<BuiltStore, StoreError> {
        let (top, lifecycle) = self.spec.open(ctx)?;
        let size = duration_ms(self.spec.window_size.unwrap_or_default());
        let mut handle = WindowStore::<K, V>::new(
            &self.spec.name,
            top,
            size,
            self.key_codec.clone(),
            self.value_codec.clone(),
        );
        if self.spec.retain_duplicates {
            handle = handle.keeping_duplicates();
        }
        Ok(BuiltStore::new(handle, lifecycle))
    }
}

impl<K, V, KC, VC> WindowStoreBuilder<K, V, KC, VC> {
    /// Keeps every value put, also several for the same key and window start, in the order
    /// put (Kafka Streams' `retainDuplicates`, what stream-stream joins keep their records in);
    /// a null value is ignored instead of deleting. Changelog keys carry the sequence number,
    /// as Kafka Streams' do.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::Utf8;
    /// use streams_core::processor::TaskId;
    /// use streams_core::state::{StoreBuilder, StoreContext, Stores, WindowStore};
    ///
    /// let built = Stores::in_memory_window_store(
    ///     "seen", Duration::from_secs(60), Duration::from_secs(10), Utf8, Utf8,
    /// )
    /// .with_retain_duplicates()
    /// .build(&StoreContext::new(TaskId { subtopology: 0, partition: 0 }, "app", std::env::temp_dir()))
    /// .unwrap();
    /// let seen: WindowStore<String, String> = built.handle().unwrap();
    /// let k = "k".to_string();
    /// seen.put(&k, &"a".to_string(), 1_000).unwrap();
    /// seen.put(&k, &"b".to_string(), 1_000).unwrap();
    /// let values: Vec<_> = seen.fetch(&k, 0, 2_000).unwrap().map(|r| r.unwrap().1).collect();
    /// assert_eq!(values, ["a", "b"]);
    /// ```
    pub fn with_retain_duplicates(mut self) -> Self {
        self.spec.retain_duplicates = true;
        self
    }
}

/// Builds session stores; see [`Stores::in_memory_session_store`].
pub struct SessionStoreBuilder<K, V, KC, VC> {
    spec: Spec,
    key_codec: KC,
    value_codec: VC,
    types: PhantomData<fn() -> (K, V)>,
}

options!(SessionStoreBuilder);

impl<K, V, KC, VC> StoreBuilder for SessionStoreBuilder<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    spec_methods!();

    fn build(&self, ctx: &StoreContext) -> Result<BuiltStore, StoreError> {
        let (top, lifecycle) = self.spec.open(ctx)?;
        let handle = SessionStore::<K, V>::new(
            &self.spec.name,
            top,
            self.key_codec.clone(),
            self.value_codec.clone(),
        );
        Ok(BuiltStore::new(handle, lifecycle))
    }
}

/// Factories for store builders — Kafka Streams' `Stores`.
///
/// Every builder starts with logging on and caching off (Kafka Streams' defaults for
/// `Stores.*Builder`); change them with `with_logging_disabled()` / `with_caching_enabled()`,
/// and set configs of the changelog topic with `with_changelog_config(key, value)`.
/// Persistent stores use RocksDB under `<state.dir>/<application.id>/<task>/rocksdb/<store>`;
/// their factories need the `rocksdb` feature (on by default).
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::state::{StoreBuilder, StoreKind, Stores};
///
/// let counts = Stores::in_memory_key_value("counts", Utf8, I64).with_caching_enabled();
/// assert!(!counts.persistent() && counts.caching() && counts.logging());
///
/// let clicks = Stores::in_memory_window_store(
///     "clicks", Duration::from_secs(86_400), Duration::from_secs(300), Utf8, I64,
/// ).with_logging_disabled();
/// assert_eq!(clicks.kind(), StoreKind::Window);
/// assert_eq!(clicks.retention(), Some(Duration::from_secs(86_400)));
/// assert_eq!(clicks.changelog_cleanup_policy(), "compact,delete");
/// ```
#[derive(Debug)]
pub struct Stores;

impl Stores {
    fn key_value<K, V, KC, VC>(
        name: impl Into<String>,
        kind: StoreKind,
        engine: Engine,
        key_codec: KC,
        value_codec: VC,
    ) -> KeyValueStoreBuilder<K, V, KC, VC> {
        KeyValueStoreBuilder {
            spec: Spec::new(name.into(), kind, engine),
            key_codec,
            value_codec,
            types: PhantomData,
        }
    }

    /// An in-memory key-value store, ordered by the key's encoded bytes.
    pub fn in_memory_key_value<K, V, KC, VC>(
        name: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
    ) -> KeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::key_value(
            name,
            StoreKind::KeyValue,
            Engine::InMemory,
            key_codec,
            value_codec,
        )
    }

    /// A persistent (RocksDB) key-value store, ordered by the key's encoded bytes.
    #[cfg(feature = "rocksdb")]
    pub fn persistent_key_value<K, V, KC, VC>(
        name: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
    ) -> KeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::key_value(
            name,
            StoreKind::KeyValue,
            Engine::RocksDb,
            key_codec,
            value_codec,
        )
    }

    /// An in-memory timestamped key-value store (values are [`ValueAndTimestamp`]s).
    pub fn in_memory_timestamped_key_value<K, V, KC, VC>(
        name: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
    ) -> TimestampedKeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        let vc = ValueAndTimestampCodec(value_codec);
        Self::key_value(
            name,
            StoreKind::TimestampedKeyValue,
            Engine::InMemory,
            key_codec,
            vc,
        )
    }

    /// A persistent (RocksDB) timestamped key-value store.
    #[cfg(feature = "rocksdb")]
    pub fn persistent_timestamped_key_value<K, V, KC, VC>(
        name: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
    ) -> TimestampedKeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        let vc = ValueAndTimestampCodec(value_codec);
        Self::key_value(
            name,
            StoreKind::TimestampedKeyValue,
            Engine::RocksDb,
            key_codec,
            vc,
        )
    }

    /// A key-value store of raw bytes whose keys start with a time (8 bytes, sign-flipped:
    /// byte order is time order), logged with Kafka Streams' big-endian times — the time-ordered
    /// buffer of a stream-table join with a grace period (Kafka Streams'
    /// `RocksDBTimeOrderedKeyValueBuffer`). RocksDB if `persistent` (and the feature is on).
    pub(crate) fn time_ordered_buffer(
        name: impl Into<String>,
        persistent: bool,
    ) -> KeyValueStoreBuilder<Vec<u8>, Vec<u8>, crate::codec::Bytes, crate::codec::Bytes> {
        #[cfg(feature = "rocksdb")]
        let engine = if persistent {
            Engine::RocksDb
        } else {
            Engine::InMemory
        };
        #[cfg(not(feature = "rocksdb"))]
        let engine = {
            let _ = persistent;
            Engine::InMemory
        };
        let mut builder = Self::key_value(
            name,
            StoreKind::KeyValue,
            engine,
            crate::codec::Bytes,
            crate::codec::Bytes,
        );
        builder.spec.time_first = true;
        builder
    }

    fn window<K, V, KC, VC>(
        name: impl Into<String>,
        engine: Engine,
        retention: Duration,
        window_size: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> WindowStoreBuilder<K, V, KC, VC> {
        let mut spec = Spec::new(name.into(), StoreKind::Window, engine);
        spec.retention = Some(retention);
        spec.window_size = Some(window_size);
        WindowStoreBuilder {
            spec,
            key_codec,
            value_codec,
            types: PhantomData,
        }
    }

    /// An in-memory window store keeping windows of `window_size` for `retention` (which must
    /// be at least the window size; checked when the store is built).
    pub fn in_memory_window_store<K, V, KC, VC>(
        name: impl Into<String>,
        retention: Duration,
        window_size: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> WindowStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::window(
            name,
            Engine::InMemory,
            retention,
            window_size,
            key_codec,
            value_codec,
        )
    }

    /// A persistent (RocksDB) window store, segmented by time: a column family per segment of
    /// `max(retention / 2, 1 min)`, dropped whole when it expires.
    #[cfg(feature = "rocksdb")]
    pub fn persistent_window_store<K, V, KC, VC>(
        name: impl Into<String>,
        retention: Duration,
        window_size: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> WindowStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::window(
            name,
            Engine::RocksDb,
            retention,
            window_size,
            key_codec,
            value_codec,
        )
    }

    /// An in-memory timestamped window store — Kafka Streams' `timestampedWindowStoreBuilder`
    /// over an in-memory supplier: each window's value with the timestamp of the record that
    /// last updated it ([`TimestampedWindowStore`](super::TimestampedWindowStore)). The changelog
    /// holds the plain value, with that timestamp as the record's, as Kafka Streams' does.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::processor::TaskId;
    /// use streams_core::state::{StoreBuilder, StoreContext, Stores, TimestampedWindowStore, ValueAndTimestamp};
    ///
    /// let builder = Stores::in_memory_timestamped_window_store(
    ///     "counts", Duration::from_secs(60), Duration::from_secs(10), Utf8, I64,
    /// );
    /// let ctx = StoreContext::new(TaskId { subtopology: 0, partition: 0 }, "app", std::env::temp_dir());
    /// let built = builder.build(&ctx).unwrap();
    /// let store: TimestampedWindowStore<String, i64> = built.handle().unwrap();
    /// store.put(&"a".to_string(), &ValueAndTimestamp::make(3, 1_500), 0).unwrap();
    /// assert_eq!(store.fetch_one(&"a".to_string(), 0).unwrap(), Some(ValueAndTimestamp::make(3, 1_500)));
    /// ```
    pub fn in_memory_timestamped_window_store<K, V, KC, VC>(
        name: impl Into<String>,
        retention: Duration,
        window_size: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> TimestampedWindowStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        let mut builder = Self::window(
            name,
            Engine::InMemory,
            retention,
            window_size,
            key_codec,
            ValueAndTimestampCodec(value_codec),
        );
        builder.spec.timestamped = true;
        builder
    }

    /// A persistent (RocksDB) timestamped window store; see
    /// [`in_memory_timestamped_window_store`](Self::in_memory_timestamped_window_store).
    #[cfg(feature = "rocksdb")]
    pub fn persistent_timestamped_window_store<K, V, KC, VC>(
        name: impl Into<String>,
        retention: Duration,
        window_size: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> TimestampedWindowStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        let mut builder = Self::window(
            name,
            Engine::RocksDb,
            retention,
            window_size,
            key_codec,
            ValueAndTimestampCodec(value_codec),
        );
        builder.spec.timestamped = true;
        builder
    }

    fn session<K, V, KC, VC>(
        name: impl Into<String>,
        engine: Engine,
        retention: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> SessionStoreBuilder<K, V, KC, VC> {
        let mut spec = Spec::new(name.into(), StoreKind::Session, engine);
        spec.retention = Some(retention);
        SessionStoreBuilder {
            spec,
            key_codec,
            value_codec,
            types: PhantomData,
        }
    }

    /// An in-memory session store keeping sessions for `retention` after they end.
    pub fn in_memory_session_store<K, V, KC, VC>(
        name: impl Into<String>,
        retention: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> SessionStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::session(name, Engine::InMemory, retention, key_codec, value_codec)
    }

    /// A persistent (RocksDB) session store, segmented by session end time.
    #[cfg(feature = "rocksdb")]
    pub fn persistent_session_store<K, V, KC, VC>(
        name: impl Into<String>,
        retention: Duration,
        key_codec: KC,
        value_codec: VC,
    ) -> SessionStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        Self::session(name, Engine::RocksDb, retention, key_codec, value_codec)
    }
}
