use std::fmt;
use std::rc::Rc;

use crate::codec::Codec;

use super::bytes::{ByteRange, BytesStore, FlushedEntry, Pages};
use super::error::StoreError;
use super::typed::Core;

/// A typed key-value state store, as a processor sees it — Kafka Streams' `KeyValueStore<K, V>`.
///
/// A cheap handle: clones share the same store. Keys are ordered by their encoded bytes, so
/// ranges follow the key codec's byte order (big-endian integers sort numerically when
/// non-negative; UTF-8 strings sort by code point). Writing a value the value codec encodes as
/// null (e.g. `None` with [`Nullable`](crate::codec::Nullable)) deletes the key, as in Kafka
/// Streams.
///
/// Iterators read the store a page at a time (256 entries), so scanning a large persistent store
/// holds one page in memory; an entry written while iterating is seen if it falls in a page not
/// yet read.
///
/// ```
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::state::{KeyValueStore, StoreError};
///
/// # fn main() -> Result<(), StoreError> {
/// let store: KeyValueStore<String, i64> = KeyValueStore::in_memory("counts", Utf8, I64);
/// store.put(&"apple".to_string(), &3)?;
/// store.put(&"banana".to_string(), &5)?;
/// assert_eq!(store.get(&"apple".to_string())?, Some(3));
/// let all: Vec<(String, i64)> = store.all().collect::<Result<_, _>>()?;
/// assert_eq!(all, [("apple".to_string(), 3), ("banana".to_string(), 5)]);
/// # Ok(())
/// # }
/// ```
pub struct KeyValueStore<K, V> {
    core: Rc<Core<K, V>>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        KeyValueStore {
            core: Rc::clone(&self.core),
        }
    }
}

impl<K, V> fmt::Debug for KeyValueStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValueStore")
            .field("name", &self.core.name)
            .finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> KeyValueStore<K, V> {
    pub(crate) fn new(
        name: &str,
        store: Rc<dyn BytesStore>,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Self {
        KeyValueStore {
            core: Rc::new(Core::new(name, store, key_codec, value_codec)),
        }
    }

    /// A standalone in-memory store, outside any topology (for tests and examples; processors
    /// get theirs from the context).
    pub fn in_memory(name: &str, key_codec: impl Codec<K>, value_codec: impl Codec<V>) -> Self {
        let store = Rc::new(super::memory::InMemoryStore::new(name));
        Self::new(name, store, key_codec, value_codec)
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// The value for `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, StoreError> {
        let core = &self.core;
        let bytes = core.with_key(key, &[], |k| core.store.get(k))?;
        bytes.map(|v| core.decode_value(&v)).transpose()
    }

    /// Sets the value for `key`; a null value deletes it.
    pub fn put(&self, key: &K, value: &V) -> Result<(), StoreError> {
        let core = &self.core;
        core.with_key(key, &[], |k| core.put_raw(k, value))
    }

    /// Sets (or with `None` deletes) the value for `key`, recording `timestamp` as the write's
    /// time for a cache's flush listener.
    pub(crate) fn put_at(
        &self,
        key: &K,
        value: Option<&V>,
        timestamp: i64,
    ) -> Result<(), StoreError> {
        let core = &self.core;
        core.with_key(key, &[], |k| core.put_raw_at(k, value, timestamp))
    }

    /// Flushes the store's record cache (if it has one) into the store now, calling its flush
    /// listener — a DSL processor flushes its own store on commit before forwarding, so updates
    /// flow down a chain of cached stores in one commit.
    pub(crate) fn flush_cache(&self) -> Result<(), StoreError> {
        self.core.store.flush_cache()
    }

    /// Puts every entry, in order.
    pub fn put_all<'e>(
        &self,
        entries: impl IntoIterator<Item = (&'e K, &'e V)>,
    ) -> Result<(), StoreError>
    where
        K: 'e,
        V: 'e,
    {
        entries.into_iter().try_for_each(|(k, v)| self.put(k, v))
    }

    /// Sets the value only if `key` has none; returns the value already there, if any.
    pub fn put_if_absent(&self, key: &K, value: &V) -> Result<Option<V>, StoreError> {
        let core = &self.core;
        core.with_key(key, &[], |k| match core.store.get(k)? {
            Some(existing) => core.decode_value(&existing).map(Some),
            None => core.put_raw(k, value).map(|()| None),
        })
    }

    /// Removes `key`; returns its old value.
    pub fn delete(&self, key: &K) -> Result<Option<V>, StoreError> {
        let core = &self.core;
        let old = core.with_key(key, &[], |k| {
            let old = core.store.get(k)?;
            if old.is_some() {
                core.store.put(k, None, None)?;
            }
            Ok(old)
        })?;
        old.map(|v| core.decode_value(&v)).transpose()
    }

    /// The entries from `from` to `to`, both included, in ascending key byte order. Empty if
    /// `from` sorts after `to`.
    pub fn range(&self, from: &K, to: &K) -> Result<KeyValueIter<K, V>, StoreError> {
        let range = ByteRange::inclusive(self.core.encode_key(from)?, self.core.encode_key(to)?);
        Ok(self.iter(range, false))
    }

    /// The entries from `from` to `to`, both included, in descending key byte order (`from` is
    /// still the lower bound, as in Kafka Streams' `reverseRange`).
    pub fn reverse_range(&self, from: &K, to: &K) -> Result<KeyValueIter<K, V>, StoreError> {
        let range = ByteRange::inclusive(self.core.encode_key(from)?, self.core.encode_key(to)?);
        Ok(self.iter(range, true))
    }

    /// All entries, in ascending key byte order.
    pub fn all(&self) -> KeyValueIter<K, V> {
        self.iter(ByteRange::all(), false)
    }

    /// All entries, in descending key byte order.
    pub fn reverse_all(&self) -> KeyValueIter<K, V> {
        self.iter(ByteRange::all(), true)
    }

    /// The entries whose key bytes start with `prefix` encoded by `prefix_codec`, in key byte
    /// order — Kafka Streams' `prefixScan(prefix, prefixKeySerializer)`.
    ///
    /// This is a byte-prefix match, so it is meaningful for codecs whose encoding of a prefix
    /// is a prefix of the encoding of the full key: [`Utf8`](crate::codec::Utf8) strings,
    /// [`Bytes`](crate::codec::Bytes), or a fixed-width leading field (e.g. the `I64` user id
    /// in front of a composite key). Length-prefixed encodings (`Bincode` strings) do not have
    /// that property.
    ///
    /// ```
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::state::KeyValueStore;
    ///
    /// let store: KeyValueStore<String, i64> = KeyValueStore::in_memory("s", Utf8, I64);
    /// for (k, v) in [("user:1", 1), ("user:2", 2), ("order:1", 3)] {
    ///     store.put(&k.to_string(), &v).unwrap();
    /// }
    /// let users: Vec<_> = store
    ///     .prefix_scan(&"user:".to_string(), Utf8)
    ///     .unwrap()
    ///     .map(|e| e.unwrap().1)
    ///     .collect();
    /// assert_eq!(users, [1, 2]);
    /// ```
    pub fn prefix_scan<P, PC: Codec<P>>(
        &self,
        prefix: &P,
        prefix_codec: PC,
    ) -> Result<KeyValueIter<K, V>, StoreError> {
        let mut buf = Vec::new();
        prefix_codec
            .encode(prefix, &mut buf)
            .map_err(|e| self.core.codec_error(e))?;
        Ok(self.prefix_scan_bytes(&buf))
    }

    /// The entries whose encoded key starts with the raw bytes `prefix`, in key byte order.
    pub fn prefix_scan_bytes(&self, prefix: &[u8]) -> KeyValueIter<K, V> {
        self.iter(ByteRange::prefix(prefix), false)
    }

    /// An estimate of the number of entries: exact for in-memory stores, RocksDB's
    /// `estimate-num-keys` for persistent ones. An engine error is logged and counts as 0.
    pub fn approximate_num_entries(&self) -> u64 {
        self.core
            .store
            .approximate_num_entries()
            .unwrap_or_else(|e| {
                tracing::warn!(store = %self.core.name, error = %e, "cannot estimate the number of entries");
                0
            })
    }

    /// With caching on: calls `listener` with every entry the record cache flushes into the
    /// store (on commit or eviction), after writing it — how DSL aggregates forward at most one
    /// update per key per commit. Returns `false` (and drops the listener) if the store has no
    /// cache — Kafka Streams' `setFlushListener`.
    ///
    /// ```
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::processor::TaskId;
    /// use streams_core::state::{KeyValueStore, RecordCache, StoreBuilder, StoreContext, Stores};
    ///
    /// let task = TaskId { subtopology: 0, partition: 0 };
    /// let ctx = StoreContext::new(task, "app", std::env::temp_dir())
    ///     .with_record_cache(RecordCache::new(1 << 20));
    /// let built = Stores::in_memory_key_value("counts", Utf8, I64)
    ///     .with_caching_enabled()
    ///     .build(&ctx)
    ///     .unwrap();
    /// let counts: KeyValueStore<String, i64> = built.handle().unwrap();
    /// let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// let sink = seen.clone();
    /// assert!(counts.set_cache_flush_listener(move |flush| {
    ///     sink.borrow_mut().push((flush.key, flush.new_value, flush.old_value));
    ///     Ok(())
    /// }));
    /// for n in 1..=3 {
    ///     counts.put(&"a".to_string(), &n).unwrap();
    /// }
    /// built.state_store().flush().unwrap(); // a commit
    /// assert_eq!(*seen.borrow(), [("a".to_string(), Some(3), None)]);
    /// ```
    pub fn set_cache_flush_listener(
        &self,
        mut listener: impl FnMut(CacheFlush<K, V>) -> Result<(), StoreError> + 'static,
    ) -> bool {
        let core = Rc::downgrade(&self.core);
        self.core
            .store
            .set_flush_listener(Box::new(move |entry: FlushedEntry<'_>| {
                let Some(core) = core.upgrade() else {
                    return Ok(());
                };
                listener(CacheFlush {
                    key: core.decode_key(entry.key)?,
                    new_value: entry.new_value.map(|v| core.decode_value(v)).transpose()?,
                    old_value: entry.old_value.map(|v| core.decode_value(v)).transpose()?,
                    timestamp: entry.timestamp,
                })
            }))
    }

    #[cfg(all(test, feature = "rocksdb"))]
    pub(crate) fn core_store(&self) -> &Rc<dyn BytesStore> {
        &self.core.store
    }

    fn iter(&self, range: ByteRange, reverse: bool) -> KeyValueIter<K, V> {
        KeyValueIter {
            core: Rc::clone(&self.core),
            pages: Pages::new(Rc::clone(&self.core.store), range, reverse),
        }
    }
}

/// One entry a record cache flushed into a store, as its flush listener sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheFlush<K, V> {
    /// The key.
    pub key: K,
    /// The value written; `None` for a delete.
    pub new_value: Option<V>,
    /// The value the store held before.
    pub old_value: Option<V>,
    /// The write's timestamp, if the writer gave one.
    pub timestamp: Option<i64>,
}

/// Entries of a [`KeyValueStore`], decoded as they are read.
pub struct KeyValueIter<K, V> {
    core: Rc<Core<K, V>>,
    pages: Pages,
}

impl<K: 'static, V: 'static> Iterator for KeyValueIter<K, V> {
    type Item = Result<(K, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.pages.next_entry()?;
        Some(entry.and_then(|(k, v)| Ok((self.core.decode_key(&k)?, self.core.decode_value(&v)?))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.pages.buffered(), None)
    }
}

impl<K, V> fmt::Debug for KeyValueIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValueIter")
            .field("store", &self.core.name)
            .finish_non_exhaustive()
    }
}
