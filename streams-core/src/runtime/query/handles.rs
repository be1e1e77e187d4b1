//! The read-only store handles interactive queries return, and `KafkaStreams::store` & co.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::runtime::KafkaStreams;
use crate::state::{
    KeyValueStore, SessionStore, StoreError, StoreKind, TimestampedKeyValueStore,
    ValueAndTimestamp, Window, WindowStore, Windowed,
};

use super::{QueryError, StoreQuery, types};

macro_rules! handle_common {
    ($handle:ident) => {
        impl<K, V> $handle<K, V> {
            /// The store's name.
            pub fn name(&self) -> &str {
                &self.query.target.store
            }

            /// Waits at most `timeout` for the stream threads' answers (by default
            /// `default.api.timeout.ms`), then fails with [`QueryError::Timeout`].
            #[must_use]
            pub fn with_timeout(mut self, timeout: Duration) -> Self {
                self.query.timeout = timeout;
                self
            }
        }

        impl<K, V> Clone for $handle<K, V> {
            fn clone(&self) -> Self {
                $handle {
                    query: self.query.clone(),
                    types: PhantomData,
                }
            }
        }

        impl<K, V> fmt::Debug for $handle<K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($handle))
                    .field("name", &self.query.target.store)
                    .field("timeout", &self.query.timeout)
                    .finish_non_exhaustive()
            }
        }
    };
}

/// A read-only view of a key-value store across this instance's tasks, from
/// [`KafkaStreams::store`] — Kafka Streams' `ReadOnlyKeyValueStore`.
///
/// A cheap, `Send + Sync` handle that can be kept and cloned (e.g. into a web server); every
/// call asks the stream threads afresh. A key lives in one task, so [`get`](Self::get) answers
/// from the task that has it; scans concatenate the tasks' entries, ordered within each task
/// and tasks in id order (like Kafka Streams' composite stores, not one global order). Scans
/// copy what they return. With several instances, each answers for its own tasks only.
///
/// ```no_run
/// # use streams_core::runtime::{KafkaStreams, QueryError};
/// # fn serve(streams: &KafkaStreams) -> Result<(), QueryError> {
/// let counts = streams.store::<String, i64>("counts")?;
/// // Answer lookups from another thread, e.g. an HTTP handler's.
/// let lookups = std::thread::spawn(move || counts.get(&"kafka".to_string()));
/// let kafka: Option<i64> = lookups.join().expect("no panic")?;
/// # Ok(())
/// # }
/// ```
pub struct ReadOnlyKeyValueStore<K, V> {
    query: StoreQuery,
    types: PhantomData<fn() -> (K, V)>,
}

handle_common!(ReadOnlyKeyValueStore);

impl<K, V> ReadOnlyKeyValueStore<K, V>
where
    K: Clone + Send + 'static,
    V: Send + 'static,
{
    /// The value for `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, QueryError> {
        let key = key.clone();
        let answers = self
            .query
            .per_task(move |h| KvView::<K, V>::of(h).map(|s| s.get(&key)))?;
        Ok(answers.into_iter().flatten().next())
    }

    /// The entries from `from` to `to`, both included, ascending within each task.
    pub fn range(&self, from: &K, to: &K) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::Range(from.clone(), to.clone()), false)
    }

    /// The entries from `from` to `to`, both included, descending within each task.
    pub fn reverse_range(&self, from: &K, to: &K) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::Range(from.clone(), to.clone()), true)
    }

    /// Every entry, ascending within each task.
    pub fn all(&self) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::All, false)
    }

    /// Every entry, descending within each task.
    pub fn reverse_all(&self) -> Result<Vec<(K, V)>, QueryError> {
        self.scan(Scan::All, true)
    }

    /// The sum of the tasks' estimates (exact for in-memory stores).
    pub fn approximate_num_entries(&self) -> Result<u64, QueryError> {
        let counts = self
            .query
            .per_task(|h| KvView::<K, V>::of(h).map(|s| Ok(s.approximate_num_entries())))?;
        Ok(counts.into_iter().sum())
    }

    fn scan(&self, scan: Scan<K>, reverse: bool) -> Result<Vec<(K, V)>, QueryError> {
        let parts = self
            .query
            .per_task(move |h| KvView::<K, V>::of(h).map(|s| s.scan(&scan, reverse)))?;
        Ok(parts.into_iter().flatten().collect())
    }
}

#[derive(Clone)]
enum Scan<K> {
    All,
    Range(K, K),
}

/// A key-value handle, or a timestamped one read without its timestamps (as Kafka Streams'
/// `keyValueStore()` query type reads timestamped stores).
enum KvView<'a, K, V> {
    Plain(&'a KeyValueStore<K, V>),
    Timestamped(&'a TimestampedKeyValueStore<K, V>),
}

impl<'a, K: 'static, V: 'static> KvView<'a, K, V> {
    fn of(handle: &'a dyn Any) -> Option<Self> {
        if let Some(store) = handle.downcast_ref::<KeyValueStore<K, V>>() {
            return Some(KvView::Plain(store));
        }
        handle
            .downcast_ref::<TimestampedKeyValueStore<K, V>>()
            .map(KvView::Timestamped)
    }

    fn get(&self, key: &K) -> Result<Option<V>, StoreError> {
        match self {
            KvView::Plain(store) => store.get(key),
            KvView::Timestamped(store) => Ok(store.get(key)?.map(|v| v.value)),
        }
    }

    fn scan(&self, scan: &Scan<K>, reverse: bool) -> Result<Vec<(K, V)>, StoreError> {
        match self {
            KvView::Plain(store) => scan_store(store, scan, reverse),
            KvView::Timestamped(store) => Ok(scan_store(store, scan, reverse)?
                .into_iter()
                .map(|(k, v)| (k, v.value))
                .collect()),
        }
    }

    fn approximate_num_entries(&self) -> u64 {
        match self {
            KvView::Plain(store) => store.approximate_num_entries(),
            KvView::Timestamped(store) => store.approximate_num_entries(),
        }
    }
}

fn scan_store<K: 'static, V: 'static>(
    store: &KeyValueStore<K, V>,
    scan: &Scan<K>,
    reverse: bool,
) -> Result<Vec<(K, V)>, StoreError> {
    let entries = match (scan, reverse) {
        (Scan::All, false) => store.all(),
        (Scan::All, true) => store.reverse_all(),
        (Scan::Range(from, to), false) => store.range(from, to)?,
        (Scan::Range(from, to), true) => store.reverse_range(from, to)?,
    };
    entries.collect()
}

/// A read-only view of a window store across this instance's tasks, from
/// [`KafkaStreams::window_store`] — Kafka Streams' `ReadOnlyWindowStore`. Times are window
/// starts in ms; results of several keys are in store order within each task, tasks in id
/// order. See [`ReadOnlyKeyValueStore`] for how handles behave.
pub struct ReadOnlyWindowStore<K, V> {
    query: StoreQuery,
    types: PhantomData<fn() -> (K, V)>,
}

handle_common!(ReadOnlyWindowStore);

impl<K, V> ReadOnlyWindowStore<K, V>
where
    K: Clone + Send + 'static,
    V: Send + 'static,
{
    /// The value of `key` in the window starting at `window_start_ms`.
    pub fn fetch_one(&self, key: &K, window_start_ms: i64) -> Result<Option<V>, QueryError> {
        let key = key.clone();
        let answers = self.query.per_task(move |h| {
            WindowView::<K, V>::of(h).map(|s| match s {
                WindowView::Plain(s) => s.fetch_one(&key, window_start_ms),
                WindowView::Timestamped(s) => {
                    Ok(s.fetch_one(&key, window_start_ms)?.map(|v| v.value))
                }
            })
        })?;
        Ok(answers.into_iter().flatten().next())
    }

    /// The windows of `key` starting from `from_ms` to `to_ms` (both included), oldest first,
    /// as (window start, value).
    pub fn fetch(&self, key: &K, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, V)>, QueryError> {
        let key = key.clone();
        let parts = self.query.per_task(move |h| {
            WindowView::<K, V>::of(h).map(|s| match s {
                WindowView::Plain(s) => s.fetch(&key, from_ms, to_ms)?.collect(),
                WindowView::Timestamped(s) => untimed(s.fetch(&key, from_ms, to_ms)?),
            })
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// As [`fetch`](Self::fetch), newest first.
    pub fn backward_fetch(
        &self,
        key: &K,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, V)>, QueryError> {
        let key = key.clone();
        let parts = self.query.per_task(move |h| {
            WindowView::<K, V>::of(h).map(|s| match s {
                WindowView::Plain(s) => s.backward_fetch(&key, from_ms, to_ms)?.collect(),
                WindowView::Timestamped(s) => untimed(s.backward_fetch(&key, from_ms, to_ms)?),
            })
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// The windows of keys from `key_from` to `key_to` (key byte order) starting in
    /// `[from_ms, to_ms]`.
    pub fn fetch_key_range(
        &self,
        key_from: &K,
        key_to: &K,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        let (lo, hi) = (key_from.clone(), key_to.clone());
        let parts = self.query.per_task(move |h| {
            WindowView::<K, V>::of(h).map(|s| match s {
                WindowView::Plain(s) => s.fetch_key_range(&lo, &hi, from_ms, to_ms)?.collect(),
                WindowView::Timestamped(s) => untimed(s.fetch_key_range(&lo, &hi, from_ms, to_ms)?),
            })
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Every window starting in `[from_ms, to_ms]`, of every key.
    pub fn fetch_all(&self, from_ms: i64, to_ms: i64) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        let parts = self.query.per_task(move |h| {
            WindowView::<K, V>::of(h).map(|s| match s {
                WindowView::Plain(s) => s.fetch_all(from_ms, to_ms).collect(),
                WindowView::Timestamped(s) => untimed(s.fetch_all(from_ms, to_ms)),
            })
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Every live window of every key.
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        self.fetch_all(i64::MIN, i64::MAX)
    }
}

/// A window store handle, or a timestamped one read without its timestamps (as Kafka Streams'
/// `windowStore()` query type reads the timestamped window stores of windowed aggregations).
enum WindowView<'a, K, V> {
    Plain(&'a WindowStore<K, V>),
    Timestamped(&'a WindowStore<K, ValueAndTimestamp<V>>),
}

impl<'a, K: 'static, V: 'static> WindowView<'a, K, V> {
    fn of(handle: &'a dyn Any) -> Option<Self> {
        if let Some(store) = handle.downcast_ref::<WindowStore<K, V>>() {
            return Some(WindowView::Plain(store));
        }
        handle
            .downcast_ref::<WindowStore<K, ValueAndTimestamp<V>>>()
            .map(WindowView::Timestamped)
    }
}

/// Entries of a timestamped window store, without their timestamps.
fn untimed<T, V>(
    entries: impl Iterator<Item = Result<(T, ValueAndTimestamp<V>), StoreError>>,
) -> Result<Vec<(T, V)>, StoreError> {
    entries.map(|e| e.map(|(t, v)| (t, v.value))).collect()
}

/// A read-only view of a session store across this instance's tasks, from
/// [`KafkaStreams::session_store`] — Kafka Streams' `ReadOnlySessionStore`. See
/// [`ReadOnlyKeyValueStore`] for how handles behave.
pub struct ReadOnlySessionStore<K, V> {
    query: StoreQuery,
    types: PhantomData<fn() -> (K, V)>,
}

handle_common!(ReadOnlySessionStore);

impl<K, V> ReadOnlySessionStore<K, V>
where
    K: Clone + Send + 'static,
    V: Send + 'static,
{
    /// Every live session of `key` with its aggregate, by end time.
    pub fn fetch(&self, key: &K) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        self.find_sessions(key, i64::MIN, i64::MAX)
    }

    /// The sessions of `key` that end at or after `earliest_end_ms` and start at or before
    /// `latest_start_ms`, by end time.
    pub fn find_sessions(
        &self,
        key: &K,
        earliest_end_ms: i64,
        latest_start_ms: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, QueryError> {
        let key = key.clone();
        let parts = self.query.read(move |s: &SessionStore<K, V>| {
            s.find_sessions(&key, earliest_end_ms, latest_start_ms)?
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// The aggregate of exactly this session of `key`.
    pub fn fetch_session(&self, key: &K, window: Window) -> Result<Option<V>, QueryError> {
        let key = key.clone();
        let answers = self
            .query
            .read(move |s: &SessionStore<K, V>| s.fetch_session(&key, window))?;
        Ok(answers.into_iter().flatten().next())
    }
}

/// Interactive queries.
impl KafkaStreams {
    /// A read-only view of key-value store `name` across this instance's tasks — Kafka
    /// Streams' `store(StoreQueryParameters.fromNameAndType(name, keyValueStore()))`. A
    /// timestamped store can be read this way too (values without their timestamps).
    ///
    /// Fails at once if the topology has no such store or it is of another kind; other key or
    /// value types than declared are reported by the first query. The handle can be made
    /// before [`start`](Self::start); its queries then answer [`QueryError::NotRunning`] until
    /// the application runs, and [`QueryError::StoreNotReady`] (retryable) while it
    /// rebalances or a task holding the store restores it.
    ///
    /// Each query asks every stream thread, which answers between two turns of its loop: within
    /// a few milliseconds when idle (it polls in 5 ms slices), after its current step when busy
    /// (up to 1000 records per task, or a commit). It waits at most `default.api.timeout.ms`
    /// ([`with_timeout`](ReadOnlyKeyValueStore::with_timeout) changes it), then answers
    /// [`QueryError::Timeout`].
    ///
    /// ```no_run
    /// # use streams_core::runtime::KafkaStreams;
    /// # fn query(streams: &KafkaStreams) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let counts = streams.store::<String, i64>("counts")?;
    /// loop {
    ///     match counts.get(&"kafka".to_string()) {
    ///         Ok(count) => break println!("kafka: {count:?}"),
    ///         Err(e) if e.is_retryable() => std::thread::sleep(Duration::from_millis(100)),
    ///         Err(e) => return Err(e.into()),
    ///     }
    /// }
    /// let everything: Vec<(String, i64)> = counts.all()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn store<K, V>(&self, name: &str) -> Result<ReadOnlyKeyValueStore<K, V>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query = self.queries.handle(
            name,
            &[StoreKind::KeyValue, StoreKind::TimestampedKeyValue],
            types::<K, V>("key-value store"),
        )?;
        Ok(ReadOnlyKeyValueStore {
            query,
            types: PhantomData,
        })
    }

    /// A read-only view of timestamped key-value store `name` (values with the timestamp of
    /// the record that wrote them) — Kafka Streams' `timestampedKeyValueStore()` query type.
    /// As [`store`](Self::store) otherwise.
    pub fn timestamped_store<K, V>(
        &self,
        name: &str,
    ) -> Result<ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query = self.queries.handle(
            name,
            &[StoreKind::TimestampedKeyValue],
            types::<K, V>("timestamped key-value store"),
        )?;
        Ok(ReadOnlyKeyValueStore {
            query,
            types: PhantomData,
        })
    }

    /// A read-only view of window store `name` across this instance's tasks — Kafka Streams'
    /// `windowStore()` query type. As [`store`](Self::store) otherwise.
    ///
    /// ```no_run
    /// # use streams_core::runtime::KafkaStreams;
    /// # fn query(streams: &KafkaStreams) -> Result<(), Box<dyn std::error::Error>> {
    /// let clicks = streams.window_store::<String, i64>("clicks-per-minute")?;
    /// for (window_start, count) in clicks.fetch(&"alice".to_string(), 0, i64::MAX)? {
    ///     println!("{window_start}: {count}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn window_store<K, V>(&self, name: &str) -> Result<ReadOnlyWindowStore<K, V>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query =
            self.queries
                .handle(name, &[StoreKind::Window], types::<K, V>("window store"))?;
        Ok(ReadOnlyWindowStore {
            query,
            types: PhantomData,
        })
    }

    /// A read-only view of session store `name` across this instance's tasks — Kafka Streams'
    /// `sessionStore()` query type. As [`store`](Self::store) otherwise.
    pub fn session_store<K, V>(&self, name: &str) -> Result<ReadOnlySessionStore<K, V>, QueryError>
    where
        K: Clone + Send + 'static,
        V: Send + 'static,
    {
        let query =
            self.queries
                .handle(name, &[StoreKind::Session], types::<K, V>("session store"))?;
        Ok(ReadOnlySessionStore {
            query,
            types: PhantomData,
        })
    }
}
