//! Window stores: values per (key, window start), with retention.

use std::fmt;
use std::ops::Bound;
use std::rc::Rc;

use crate::codec::Codec;

use super::bytes::{ByteRange, BytesStore, FlushedEntry, Pages};
use super::error::StoreError;
use super::key_value::CacheFlush;
use super::segments::{KeySchema, decode_time, encode_time};
use super::timestamped::ValueAndTimestamp;
use super::typed::Core;

/// A time window: `[start_ms, end_ms)` for time windows; for sessions both ends are the first
/// and last record times, inclusive (as Kafka Streams' `TimeWindow` and `SessionWindow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// Start (ms).
    pub start_ms: i64,
    /// End (ms).
    pub end_ms: i64,
}

/// A key and its window — Kafka Streams' `Windowed<K>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Windowed<K> {
    /// The record key.
    pub key: K,
    /// The window.
    pub window: Window,
}

/// A window store of [`ValueAndTimestamp`]s — Kafka Streams' `TimestampedWindowStore`: each
/// window's value with the timestamp of the record that last updated it, as windowed DSL
/// aggregations keep them. Build one with
/// [`Stores::in_memory_timestamped_window_store`](super::Stores::in_memory_timestamped_window_store).
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::state::{TimestampedWindowStore, ValueAndTimestamp, ValueAndTimestampCodec, WindowStore};
///
/// let counts: TimestampedWindowStore<String, i64> = WindowStore::in_memory(
///     "counts", Duration::from_secs(60), Duration::from_secs(10), Utf8, ValueAndTimestampCodec(I64),
/// ).unwrap();
/// counts.put(&"a".to_string(), &ValueAndTimestamp::make(2, 4_000), 0).unwrap();
/// let latest = counts.fetch_one(&"a".to_string(), 0).unwrap().unwrap();
/// assert_eq!((latest.value, latest.timestamp), (2, 4_000));
/// ```
pub type TimestampedWindowStore<K, V> = WindowStore<K, ValueAndTimestamp<V>>;

/// A typed window store, as a processor sees it — Kafka Streams' `WindowStore<K, V>`: one value
/// per key and window start.
///
/// Entries are kept for the store's retention period, measured against the store's stream time
/// (the latest window start written): a window that starts at or before
/// `stream time − retention` is expired — writes to it are dropped, reads no longer see it, and
/// its segment is deleted once every window in it has expired. The windows of one key are
/// stored contiguously (`[key bytes][window start]`), so `fetch(key, from, to)` is one seek.
///
/// ```
/// use std::time::Duration;
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::state::WindowStore;
///
/// let store: WindowStore<String, i64> = WindowStore::in_memory(
///     "clicks", Duration::from_secs(3600), Duration::from_secs(60), Utf8, I64,
/// ).unwrap();
/// let alice = "alice".to_string();
/// store.put(&alice, &3, 0).unwrap();
/// store.put(&alice, &5, 60_000).unwrap();
/// let windows: Vec<(i64, i64)> = store.fetch(&alice, 0, 60_000).unwrap()
///     .collect::<Result<_, _>>().unwrap();
/// assert_eq!(windows, [(0, 3), (60_000, 5)]);
/// ```
pub struct WindowStore<K, V> {
    core: Rc<Core<K, V>>,
    window_size_ms: i64,
    /// Keeping duplicates: the sequence number of the last put, appended to its key.
    seqnum: Option<Rc<std::cell::Cell<u32>>>,
}

impl<K, V> Clone for WindowStore<K, V> {
    fn clone(&self) -> Self {
        WindowStore {
            core: Rc::clone(&self.core),
            window_size_ms: self.window_size_ms,
            seqnum: self.seqnum.clone(),
        }
    }
}

impl<K, V> fmt::Debug for WindowStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowStore")
            .field("name", &self.core.name)
            .field("window_size_ms", &self.window_size_ms)
            .finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> WindowStore<K, V> {
    pub(crate) fn new(
        name: &str,
        store: Rc<dyn BytesStore>,
        window_size_ms: i64,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Self {
        WindowStore {
            core: Rc::new(Core::new(name, store, key_codec, value_codec)),
            window_size_ms,
            seqnum: None,
        }
    }

    /// The handle of a store that keeps duplicates (its keys end in a sequence number).
    pub(crate) fn keeping_duplicates(mut self) -> Self {
        self.seqnum = Some(Rc::new(std::cell::Cell::new(0)));
        self
    }

    /// The suffix after the key bytes: the window start, and when keeping duplicates a
    /// sequence number (`seq`: the put's, or the bound of a range).
    fn suffix(&self, start: i64, seq: u32) -> Suffix {
        let mut bytes = [0; 12];
        bytes[..8].copy_from_slice(&encode_time(start));
        bytes[8..].copy_from_slice(&seq.to_be_bytes());
        Suffix {
            bytes,
            len: if self.seqnum.is_some() { 12 } else { 8 },
        }
    }

    /// A standalone in-memory window store, outside any topology (for tests and examples).
    pub fn in_memory(
        name: &str,
        retention: std::time::Duration,
        window_size: std::time::Duration,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Result<Self, StoreError> {
        let (retention_ms, size_ms) = super::segments::window_params(name, retention, window_size)?;
        let store = super::segments::in_memory_segments(name, KeySchema::Window, retention_ms)?;
        Ok(Self::new(name, store, size_ms, key_codec, value_codec))
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// The window size (ms): a window starting at `s` ends at `s + size`.
    pub fn window_size_ms(&self) -> i64 {
        self.window_size_ms
    }

    /// Sets the value of `key` in the window starting at `window_start_ms`; a null value deletes
    /// it. A write to an expired window is dropped.
    pub fn put(&self, key: &K, value: &V, window_start_ms: i64) -> Result<(), StoreError> {
        let core = &self.core;
        if let Some(seqnum) = &self.seqnum {
            // Kafka Streams' `maybeUpdateSeqnumForDups`: every put is a new entry; a null is
            // not one.
            return core.with_value(value, |bytes| {
                let Some(bytes) = bytes else {
                    return Ok(());
                };
                let seq = seqnum.get().wrapping_add(1) & 0x7fff_ffff;
                seqnum.set(seq);
                core.with_key(key, self.suffix(window_start_ms, seq).as_ref(), |k| {
                    core.store.put(k, Some(bytes), None)
                })
            });
        }
        core.with_key(key, &encode_time(window_start_ms), |k| {
            core.put_raw(k, value)
        })
    }

    /// Sets (or with `None` deletes) the value of `key` in a window, recording `timestamp` as
    /// the write's time for a cache's flush listener.
    pub(crate) fn put_at(
        &self,
        key: &K,
        value: Option<&V>,
        window_start_ms: i64,
        timestamp: i64,
    ) -> Result<(), StoreError> {
        let core = &self.core;
        core.with_key(key, &encode_time(window_start_ms), |k| {
            core.put_raw_at(k, value, timestamp)
        })
    }

    /// Flushes the store's record cache (if it has one) into the store now, calling its flush
    /// listener.
    pub(crate) fn flush_cache(&self) -> Result<(), StoreError> {
        self.core.store.flush_cache()
    }

    /// With caching on: calls `listener` with every window the record cache flushes into the
    /// store (on commit or eviction), after writing it — how windowed DSL aggregations forward at
    /// most one update per window per commit. Returns `false` (and drops the listener) if the
    /// store has no cache — Kafka Streams' `setFlushListener`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::processor::TaskId;
    /// use streams_core::state::{RecordCache, StoreBuilder, StoreContext, Stores, WindowStore};
    ///
    /// let task = TaskId { subtopology: 0, partition: 0 };
    /// let ctx = StoreContext::new(task, "app", std::env::temp_dir())
    ///     .with_record_cache(RecordCache::new(1 << 20));
    /// let built = Stores::in_memory_window_store(
    ///     "clicks", Duration::from_secs(60), Duration::from_secs(10), Utf8, I64,
    /// )
    /// .with_caching_enabled()
    /// .build(&ctx)
    /// .unwrap();
    /// let clicks: WindowStore<String, i64> = built.handle().unwrap();
    /// let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// let sink = seen.clone();
    /// assert!(clicks.set_cache_flush_listener(move |flush| {
    ///     sink.borrow_mut().push((flush.key.window.start_ms, flush.key.window.end_ms, flush.new_value));
    ///     Ok(())
    /// }));
    /// for n in 1..=3 {
    ///     clicks.put(&"a".to_string(), &n, 10_000).unwrap();
    /// }
    /// built.state_store().flush().unwrap(); // a commit
    /// assert_eq!(*seen.borrow(), [(10_000, 20_000, Some(3))]);
    /// ```
    pub fn set_cache_flush_listener(
        &self,
        mut listener: impl FnMut(CacheFlush<Windowed<K>, V>) -> Result<(), StoreError> + 'static,
    ) -> bool {
        let core = Rc::downgrade(&self.core);
        let size = self.window_size_ms;
        self.core
            .store
            .set_flush_listener(Box::new(move |entry: FlushedEntry<'_>| {
                let Some(core) = core.upgrade() else {
                    return Ok(());
                };
                let at = entry.key.len().checked_sub(8);
                let Some((key, start)) =
                    at.and_then(|at| Some((&entry.key[..at], decode_time(&entry.key[at..])?)))
                else {
                    return Err(StoreError::corrupt(
                        &core.name,
                        "window key without its 8-byte window start",
                    ));
                };
                let window = Window {
                    start_ms: start,
                    end_ms: start.saturating_add(size),
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

    /// The value of `key` in the window starting at `window_start_ms`.
    pub fn fetch_one(&self, key: &K, window_start_ms: i64) -> Result<Option<V>, StoreError> {
        let core = &self.core;
        let bytes = core.with_key(key, &encode_time(window_start_ms), |k| core.store.get(k))?;
        bytes.map(|v| core.decode_value(&v)).transpose()
    }

    /// The windows of `key` starting from `from_ms` to `to_ms` (both included), oldest first, as
    /// (window start, value).
    pub fn fetch(&self, key: &K, from_ms: i64, to_ms: i64) -> Result<WindowIter<K, V>, StoreError> {
        self.fetch_key(key, from_ms, to_ms, false)
    }

    /// As [`fetch`](Self::fetch), newest first.
    pub fn backward_fetch(
        &self,
        key: &K,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<WindowIter<K, V>, StoreError> {
        self.fetch_key(key, from_ms, to_ms, true)
    }

    fn fetch_key(
        &self,
        key: &K,
        from_ms: i64,
        to_ms: i64,
        reverse: bool,
    ) -> Result<WindowIter<K, V>, StoreError> {
        let key = self.core.encode_key(key)?;
        let range = ByteRange::inclusive(
            [key.as_slice(), self.suffix(from_ms, 0).as_ref()].concat(),
            [key.as_slice(), self.suffix(to_ms, u32::MAX).as_ref()].concat(),
        );
        Ok(WindowIter {
            inner: self.windowed(range, reverse, Some(key.len()), (from_ms, to_ms)),
        })
    }

    /// What [`fetch`](Self::fetch) yields, read at once into `out` (cleared first): the
    /// entries are decoded where the store holds them instead of being copied page by page —
    /// for readers that collect a fetch anyway (the stream-stream join).
    pub(crate) fn fetch_into(
        &self,
        key: &K,
        from_ms: i64,
        to_ms: i64,
        out: &mut Vec<(i64, V)>,
    ) -> Result<(), StoreError> {
        out.clear();
        let (from, to) = (self.suffix(from_ms, 0), self.suffix(to_ms, u32::MAX));
        self.core
            .with_range(key, from.as_ref(), to.as_ref(), |range, key_len| {
                self.collect_windows(range, key_len, (from_ms, to_ms), out)
            })
    }

    /// The windows of `range` whose key has `key_len` bytes and whose start is within
    /// `times`, decoded into `out`.
    fn collect_windows(
        &self,
        range: &ByteRange,
        key_len: usize,
        (from_ms, to_ms): (i64, i64),
        out: &mut Vec<(i64, V)>,
    ) -> Result<(), StoreError> {
        let schema = self.schema();
        let mut failed = None;
        self.core.store.visit(range, false, &mut |k, v| {
            let Some(start) = schema.segment_time(k) else {
                failed = Some(StoreError::corrupt(
                    &self.core.name,
                    "window key without its 8-byte window start",
                ));
                return false;
            };
            // Longer keys sharing the key's bytes may fall in the range (see `next_raw`).
            if k.len() - schema.suffix_len() != key_len || start < from_ms || start > to_ms {
                return true;
            }
            match self.core.decode_value(v) {
                Ok(value) => {
                    out.push((start, value));
                    true
                }
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// The windows of keys from `key_from` to `key_to` (key byte order) starting in
    /// `[from_ms, to_ms]`, in store order (see [`fetch_all`](Self::fetch_all)).
    pub fn fetch_key_range(
        &self,
        key_from: &K,
        key_to: &K,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<WindowedIter<K, V>, StoreError> {
        let lo = self.core.encode_key(key_from)?;
        let hi = self.core.encode_key(key_to)?;
        let range = ByteRange {
            from: Bound::Included([lo.as_slice(), self.suffix(i64::MIN, 0).as_ref()].concat()),
            to: Bound::Included([hi.as_slice(), self.suffix(i64::MAX, u32::MAX).as_ref()].concat()),
        };
        let lo_hi = (lo, hi);
        let mut iter = self.windowed(range, false, None, (from_ms, to_ms));
        iter.key_bounds = Some(lo_hi);
        Ok(iter)
    }

    /// Every window starting in `[from_ms, to_ms]`, of every key, in store order: by the bytes
    /// `[key][window start]`, so one key's windows are together, oldest first, but a key that is
    /// a byte prefix of another (`a`, `ab`) can sort after it, as in Kafka Streams.
    pub fn fetch_all(&self, from_ms: i64, to_ms: i64) -> WindowedIter<K, V> {
        self.windowed(ByteRange::all(), false, None, (from_ms, to_ms))
    }

    /// Every live window of every key, in store order.
    pub fn all(&self) -> WindowedIter<K, V> {
        self.fetch_all(i64::MIN, i64::MAX)
    }

    fn windowed(
        &self,
        range: ByteRange,
        reverse: bool,
        key_len: Option<usize>,
        times: (i64, i64),
    ) -> WindowedIter<K, V> {
        WindowedIter {
            core: Rc::clone(&self.core),
            pages: Pages::new(Rc::clone(&self.core.store), range, reverse),
            key_len,
            key_bounds: None,
            times,
            size: self.window_size_ms,
            schema: self.schema(),
        }
    }

    fn schema(&self) -> KeySchema {
        if self.seqnum.is_some() {
            KeySchema::WindowWithSeq
        } else {
            KeySchema::Window
        }
    }
}

/// A window key's suffix: the window start, and the sequence number of a store keeping
/// duplicates.
struct Suffix {
    bytes: [u8; 12],
    len: usize,
}

impl AsRef<[u8]> for Suffix {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The windows of one key: (window start, value), from [`WindowStore::fetch`].
pub struct WindowIter<K, V> {
    inner: WindowedIter<K, V>,
}

impl<K: 'static, V: 'static> Iterator for WindowIter<K, V> {
    type Item = Result<(i64, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (_, start, value) = match self.inner.next_raw()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e)),
        };
        Some(self.inner.core.decode_value(&value).map(|v| (start, v)))
    }
}

impl<K, V> fmt::Debug for WindowIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowIter")
            .field("store", &self.inner.core.name)
            .finish_non_exhaustive()
    }
}

/// Key bytes, window start, value bytes.
type RawWindow = (Vec<u8>, i64, Vec<u8>);

/// Windows of several keys: (windowed key, value), from [`WindowStore::fetch_all`] and
/// [`WindowStore::fetch_key_range`].
pub struct WindowedIter<K, V> {
    core: Rc<Core<K, V>>,
    pages: Pages,
    /// Only keys of exactly this many bytes (a single-key fetch).
    key_len: Option<usize>,
    /// Only keys within these bytes, both included (a key-range fetch).
    key_bounds: Option<(Vec<u8>, Vec<u8>)>,
    times: (i64, i64),
    size: i64,
    schema: KeySchema,
}

impl<K: 'static, V: 'static> WindowedIter<K, V> {
    /// The next entry in the time and key bounds, as (key bytes, window start, value bytes).
    fn next_raw(&mut self) -> Option<Result<RawWindow, StoreError>> {
        loop {
            let (mut key, value) = match self.pages.next_entry()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e)),
            };
            let Some(start) = self.schema.segment_time(&key) else {
                return Some(Err(StoreError::corrupt(
                    &self.core.name,
                    "window key without its 8-byte window start",
                )));
            };
            key.truncate(key.len() - self.schema.suffix_len());
            // Keys are variable-length: `[key][time]` ranges can hold longer keys sharing a
            // prefix, so check the exact key (as Kafka Streams' window key schema does).
            if self.key_len.is_some_and(|n| n != key.len())
                || self
                    .key_bounds
                    .as_ref()
                    .is_some_and(|(lo, hi)| key < *lo || key > *hi)
                || start < self.times.0
                || start > self.times.1
            {
                continue;
            }
            return Some(Ok((key, start, value)));
        }
    }
}

impl<K: 'static, V: 'static> Iterator for WindowedIter<K, V> {
    type Item = Result<(Windowed<K>, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (key, start, value) = match self.next_raw()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e)),
        };
        let window = Window {
            start_ms: start,
            end_ms: start.saturating_add(self.size),
        };
        let core = &self.core;
        Some(
            core.decode_key(&key)
                .and_then(|key| Ok((Windowed { key, window }, core.decode_value(&value)?))),
        )
    }
}

impl<K, V> fmt::Debug for WindowedIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowedIter")
            .field("store", &self.core.name)
            .finish_non_exhaustive()
    }
}
