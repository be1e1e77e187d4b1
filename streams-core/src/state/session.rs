//! Session stores: one aggregate per (key, session), sessions found by overlap.

use std::fmt;
use std::rc::Rc;

use crate::codec::Codec;

use super::bytes::{ByteRange, BytesStore, Pages};
use super::error::StoreError;
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
        Ok(self.iter(range, key.len(), latest_start_ms))
    }

    /// Every live session of `key`, by end time.
    pub fn fetch(&self, key: &K) -> Result<SessionIter<K, V>, StoreError> {
        self.find_sessions(key, i64::MIN, i64::MAX)
    }

    fn iter(&self, range: ByteRange, key_len: usize, latest_start_ms: i64) -> SessionIter<K, V> {
        SessionIter {
            core: Rc::clone(&self.core),
            pages: Pages::new(Rc::clone(&self.core.store), range, false),
            key_len,
            latest_start_ms,
        }
    }
}

/// Sessions of a key with their aggregates, from [`SessionStore::find_sessions`].
pub struct SessionIter<K, V> {
    core: Rc<Core<K, V>>,
    pages: Pages,
    key_len: usize,
    latest_start_ms: i64,
}

impl<K: 'static, V: 'static> Iterator for SessionIter<K, V> {
    type Item = Result<(Windowed<K>, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (key, value) = match self.pages.next_entry()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e)),
            };
            if key.len() != self.key_len + 16 {
                continue;
            }
            let (record_key, times) = key.split_at(self.key_len);
            let (Some(end_ms), Some(start_ms)) =
                (decode_time(&times[..8]), decode_time(&times[8..]))
            else {
                return Some(Err(StoreError::corrupt(&self.core.name, "bad session key")));
            };
            if start_ms > self.latest_start_ms {
                continue;
            }
            let core = &self.core;
            let window = Window { start_ms, end_ms };
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
