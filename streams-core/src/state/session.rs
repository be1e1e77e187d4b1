//! Session stores: one aggregate per (key, session), sessions found by overlap.

use std::fmt;
use std::rc::Rc;

use crate::codec::Codec;

use super::bytes::{ByteRange, BytesStore, FlushedEntry, Pages};
use super::error::StoreError;
use super::key_value::CacheFlush;
use super::segments::{KeySchema, decode_time, encode_time};
use super::typed::Core;
use super::window::{Window, Windowed};

/// A typed session store — Kafka Streams' `SessionStore<K, AGG>`: an aggregate per key and
/// session window (`[first record time, last record time]`, both inclusive).
///
/// Sessions are kept for the retention period after their end, measured against the store's
/// stream time (the latest session end written). One key's sessions are stored contiguously
/// (`[key bytes][end][start]`), ordered by end time.
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::state::{SessionStore, Window, Windowed};
///
/// let store: SessionStore<String, i64> =
///     SessionStore::in_memory("sessions", Duration::from_secs(3600), Utf8, I64).unwrap();
/// let session = Windowed { key: "bob".to_string(), window: Window { start_ms: 0, end_ms: 500 } };
/// store.put(&session, &2).unwrap();
/// // Sessions of "bob" ending at or after 100 and starting at or before 1000:
/// let found: Vec<_> = store.find_sessions(&"bob".to_string(), 100, 1_000).unwrap()
///     .collect::<Result<Vec<_>, _>>().unwrap();
/// assert_eq!(found, [(session, 2)]);
/// ```
pub struct SessionStore<K, V> {
    core: Rc<Core<K, V>>,
}

impl<K, V> Clone for SessionStore<K, V> {
    fn clone(&self) -> Self {
        SessionStore {
            core: Rc::clone(&self.core),
        }
    }
}

impl<K, V> fmt::Debug for SessionStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStore")
            .field("name", &self.core.name)
            .finish_non_exhaustive()
    }
}

fn suffix(window: Window) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&encode_time(window.end_ms));
    out[8..].copy_from_slice(&encode_time(window.start_ms));
    out
}

impl<K: 'static, V: 'static> SessionStore<K, V> {
    pub(crate) fn new(
        name: &str,
        store: Rc<dyn BytesStore>,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Self {
        SessionStore {
            core: Rc::new(Core::new(name, store, key_codec, value_codec)),
        }
    }

    /// A standalone in-memory session store, outside any topology (for tests and examples).
    pub fn in_memory(
        name: &str,
        retention: std::time::Duration,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Result<Self, StoreError> {
        let retention_ms = super::segments::retention_param(name, retention)?;
        let store = super::segments::in_memory_segments(name, KeySchema::Session, retention_ms)?;
        Ok(Self::new(name, store, key_codec, value_codec))
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// Sets the aggregate of a session; a null value removes it.
    pub fn put(&self, session: &Windowed<K>, aggregate: &V) -> Result<(), StoreError> {
        let core = &self.core;
        core.with_key(&session.key, &suffix(session.window), |k| {
            core.put_raw(k, aggregate)
        })
    }

    /// Sets (or with `None` removes) the aggregate of a session, recording `timestamp` as the
    /// write's time (for the changelog record and a cache's flush listener).
    pub(crate) fn put_at(
        &self,
        session: &Windowed<K>,
        aggregate: Option<&V>,
        timestamp: i64,
    ) -> Result<(), StoreError> {
        let core = &self.core;
        core.with_key(&session.key, &suffix(session.window), |k| {
            core.put_raw_at(k, aggregate, timestamp)
        })
    }

    /// Flushes the store's record cache (if it has one) into the store now, calling its flush
    /// listener.
    pub(crate) fn flush_cache(&self) -> Result<(), StoreError> {
        self.core.store.flush_cache()
    }

    /// With caching on: calls `listener` with every session the record cache flushes into the
    /// store (on commit or eviction), after writing it — a removed session with `new_value:
    /// None`. Returns `false` (and drops the listener) if the store has no cache — Kafka
    /// Streams' `setFlushListener`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::processor::TaskId;
    /// use streams_core::state::{RecordCache, SessionStore, StoreBuilder, StoreContext, Stores, Window, Windowed};
    ///
    /// let task = TaskId { subtopology: 0, partition: 0 };
    /// let ctx = StoreContext::new(task, "app", std::env::temp_dir())
    ///     .with_record_cache(RecordCache::new(1 << 20));
    /// let built = Stores::in_memory_session_store("sessions", Duration::from_secs(60), Utf8, I64)
    ///     .with_caching_enabled()
    ///     .build(&ctx)
    ///     .unwrap();
    /// let sessions: SessionStore<String, i64> = built.handle().unwrap();
    /// let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// let sink = seen.clone();
    /// assert!(sessions.set_cache_flush_listener(move |flush| {
    ///     sink.borrow_mut().push((flush.key.window, flush.new_value));
    ///     Ok(())
    /// }));
    /// let session = Windowed { key: "a".to_string(), window: Window { start_ms: 0, end_ms: 500 } };
    /// sessions.put(&session, &1).unwrap();
    /// sessions.put(&session, &2).unwrap();
    /// built.state_store().flush().unwrap(); // a commit
    /// assert_eq!(*seen.borrow(), [(session.window, Some(2))]);
    /// ```
    pub fn set_cache_flush_listener(
        &self,
        mut listener: impl FnMut(CacheFlush<Windowed<K>, V>) -> Result<(), StoreError> + 'static,
    ) -> bool {
        let core = Rc::downgrade(&self.core);
        self.core
            .store
            .set_flush_listener(Box::new(move |entry: FlushedEntry<'_>| {
                let Some(core) = core.upgrade() else {
                    return Ok(());
                };
                let Some((key, window)) = split_session_key(entry.key) else {
                    return Err(StoreError::corrupt(&core.name, "bad session key"));
                };
                listener(CacheFlush {
                    key: Windowed {
                        key: core.decode_key(key)?,
                        window,
                    },
                    new_value: entry.new_value.map(|v| core.decode_value(v)).transpose()?,
                    old_value: entry.old_value.map(|v| core.decode_value(v)).transpose()?,
                    timestamp: entry.timestamp,
                })
            }))
    }

    /// Removes a session.
    pub fn remove(&self, session: &Windowed<K>) -> Result<(), StoreError> {
        let core = &self.core;
        core.with_key(&session.key, &suffix(session.window), |k| {
            core.store.put(k, None, None)
        })
    }

    /// The aggregate of exactly this session.
    pub fn fetch_session(&self, key: &K, window: Window) -> Result<Option<V>, StoreError> {
        let core = &self.core;
        let bytes = core.with_key(key, &suffix(window), |k| core.store.get(k))?;
        bytes.map(|v| core.decode_value(&v)).transpose()
    }

    /// The sessions of `key` that end at or after `earliest_end_ms` and start at or before
    /// `latest_start_ms` — those overlapping `[earliest_end_ms, latest_start_ms]`, which is how
    /// a session aggregation finds the sessions a new record merges with. By end time.
    pub fn find_sessions(
        &self,
        key: &K,
        earliest_end_ms: i64,
        latest_start_ms: i64,
    ) -> Result<SessionIter<K, V>, StoreError> {
        let key = self.core.encode_key(key)?;
        let range = ByteRange::inclusive(
            [
                key.as_slice(),
                &encode_time(earliest_end_ms),
                &encode_time(i64::MIN),
            ]
            .concat(),
            [
                key.as_slice(),
                &encode_time(i64::MAX),
                &encode_time(i64::MAX),
            ]
            .concat(),
        );
        Ok(self.iter(
            range,
            Some(key.len()),
            latest_start_ms,
            (i64::MIN, i64::MAX),
        ))
    }

    /// The sessions of every key that end from `earliest_end_ms` to `latest_end_ms` (both
    /// included), in store order (by key bytes, then end) — how a session aggregation that emits
    /// on window close finds the sessions that closed. Like Kafka Streams' time-ordered session
    /// store, this includes sessions past the retention period whose time segment the store
    /// still keeps (a closed session is always past it). This reads the whole store.
    pub fn find_sessions_ending(
        &self,
        earliest_end_ms: i64,
        latest_end_ms: i64,
    ) -> SessionIter<K, V> {
        SessionIter {
            core: Rc::clone(&self.core),
            pages: Pages::retained(Rc::clone(&self.core.store), ByteRange::all()),
            key_len: None,
            latest_start_ms: i64::MAX,
            ends: (earliest_end_ms, latest_end_ms),
        }
    }

    /// Every live session of `key`, by end time.
    pub fn fetch(&self, key: &K) -> Result<SessionIter<K, V>, StoreError> {
        self.find_sessions(key, i64::MIN, i64::MAX)
    }

    fn iter(
        &self,
        range: ByteRange,
        key_len: Option<usize>,
        latest_start_ms: i64,
        ends: (i64, i64),
    ) -> SessionIter<K, V> {
        SessionIter {
            core: Rc::clone(&self.core),
            pages: Pages::new(Rc::clone(&self.core.store), range, false),
            key_len,
            latest_start_ms,
            ends,
        }
    }
}

/// A session store key's record key bytes and window.
fn split_session_key(key: &[u8]) -> Option<(&[u8], Window)> {
    let at = key.len().checked_sub(16)?;
    let (record_key, times) = key.split_at(at);
    let end_ms = decode_time(&times[..8])?;
    let start_ms = decode_time(&times[8..])?;
    Some((record_key, Window { start_ms, end_ms }))
}

/// Sessions of a key with their aggregates, from [`SessionStore::find_sessions`].
pub struct SessionIter<K, V> {
    core: Rc<Core<K, V>>,
    pages: Pages,
    /// Only keys of exactly this many bytes (one key's sessions).
    key_len: Option<usize>,
    latest_start_ms: i64,
    /// Only sessions ending in this range (both included).
    ends: (i64, i64),
}

impl<K: 'static, V: 'static> Iterator for SessionIter<K, V> {
    type Item = Result<(Windowed<K>, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (key, value) = match self.pages.next_entry()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e)),
            };
            if self.key_len.is_some_and(|n| key.len() != n + 16) {
                continue;
            }
            let Some((record_key, window)) = split_session_key(&key) else {
                return Some(Err(StoreError::corrupt(&self.core.name, "bad session key")));
            };
            if window.start_ms > self.latest_start_ms
                || window.end_ms < self.ends.0
                || window.end_ms > self.ends.1
            {
                continue;
            }
            let core = &self.core;
            return Some(
                core.decode_key(record_key)
                    .and_then(|key| Ok((Windowed { key, window }, core.decode_value(&value)?))),
            );
        }
    }
}

impl<K, V> fmt::Debug for SessionIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionIter")
            .field("store", &self.core.name)
            .finish_non_exhaustive()
    }
}
