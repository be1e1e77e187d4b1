//! The record cache: a per-thread byte budget (`statestore.cache.max.bytes`) in front of the
//! stores of that thread's tasks — Kafka Streams' `ThreadCache` and `Caching*Store`.
//!
//! Writes to a caching store land in the cache, folded per key (the last write wins). Dirty
//! entries go down to the store (and its changelog) and to the store's flush listener
//! (downstream, for DSL aggregates) when the store is flushed — on commit — or when the cache
//! is over budget and evicts the least recently used entry: then every dirty entry of that
//! store is flushed, as in Kafka Streams. So with caching on, an aggregate emits at most once
//! per key per commit interval, budget permitting.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::rc::Rc;

use super::bytes::{
    ByteRange, BytesStore, Entry, FlushListener, FlushedEntry, MaybeEntry, RestoreRecord,
    merge_pages,
};
use super::error::StoreError;

/// Bookkeeping bytes charged per cache entry on top of its key and value.
const ENTRY_OVERHEAD: usize = 64;

thread_local! {
    /// Set while an interactive query reads on this thread: reads then do not fill the cache.
    static QUERYING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as an interactive query: store reads in it leave the record cache as it is (a miss
/// adds no clean entry, so a query never evicts, flushes or forwards) — as Kafka Streams' caching
/// stores treat reads from threads other than the stream thread.
#[cfg(feature = "kafka")]
pub(crate) fn query_reads<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            QUERYING.with(|q| q.set(self.0));
        }
    }
    let _reset = Reset(QUERYING.with(|q| q.replace(true)));
    f()
}

/// A dirty entry a cache hands to its store's flusher.
pub(crate) struct DirtyEntry {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) timestamp: Option<i64>,
}

type Flusher = Rc<dyn Fn(Vec<DirtyEntry>) -> Result<(), StoreError>>;

struct CacheEntry {
    /// `None`: a cached delete (dirty) or a cached miss is never stored.
    value: Option<Vec<u8>>,
    timestamp: Option<i64>,
    dirty: bool,
    /// Position in the LRU order.
    seq: u64,
    /// When last written (flush order: oldest write first).
    written: u64,
}

impl CacheEntry {
    fn size(&self, key: &[u8]) -> usize {
        2 * key.len() + self.value.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD
    }
}

#[derive(Default)]
struct Namespace {
    entries: BTreeMap<Vec<u8>, CacheEntry>,
    flusher: Option<Flusher>,
    /// Whether flushed entries stay cached (clean) for reads. Windowed stores drop them: the
    /// store below expires windows the cache would not know about.
    keep_clean: bool,
}

#[derive(Default)]
struct CacheState {
    max_bytes: usize,
    bytes: usize,
    next_seq: u64,
    namespaces: HashMap<Rc<str>, Namespace>,
    /// LRU order: sequence number → (namespace, key).
    lru: BTreeMap<u64, (Rc<str>, Vec<u8>)>,
    stats: CacheStats,
}

/// Counters of a [`RecordCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads answered by the cache.
    pub hits: u64,
    /// Reads that went to the store.
    pub misses: u64,
    /// Entries evicted to stay within the budget.
    pub evictions: u64,
    /// Dirty entries written down to stores (on flush or eviction).
    pub flushed: u64,
}

/// A stream thread's record cache; clones share it — Kafka Streams' `ThreadCache`.
///
/// Writes to a caching store land here, folded per key (the last write wins). Dirty entries go
/// down to the store (and its changelog) and to the store's flush listener when the store is
/// flushed — on commit — or when the cache is over budget and evicts its least recently used
/// entry: then every dirty entry of that store is flushed, as in Kafka Streams.
///
/// The runtime makes one per stream thread with `statestore.cache.max.bytes` divided by the
/// number of threads, and passes it to each task's [`StoreContext`](super::StoreContext);
/// stores declared `with_caching_enabled()` then use it. On commit the runtime flushes every
/// store of the task ([`StoreRegistry::flush_all`](super::StoreRegistry::flush_all)), which
/// flushes the cache first.
///
/// ```
/// use streams_core::state::RecordCache;
/// let cache = RecordCache::new(10 * 1024 * 1024);
/// assert_eq!(cache.max_bytes(), 10 * 1024 * 1024);
/// assert_eq!(cache.size_bytes(), 0);
/// ```
#[derive(Clone)]
pub struct RecordCache {
    state: Rc<RefCell<CacheState>>,
}

impl fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RecordCache");
        if let Ok(state) = self.state.try_borrow() {
            d.field("max_bytes", &state.max_bytes)
                .field("bytes", &state.bytes)
                .field("entries", &state.lru.len())
                .field("stats", &state.stats);
        }
        d.finish_non_exhaustive()
    }
}

impl RecordCache {
    /// Kafka Streams' default `statestore.cache.max.bytes`: 10 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

    /// A cache holding at most `max_bytes` of keys, values and bookkeeping. With 0, every write
    /// goes straight through (each is evicted at once).
    pub fn new(max_bytes: usize) -> Self {
        RecordCache {
            state: Rc::new(RefCell::new(CacheState {
                max_bytes,
                ..CacheState::default()
            })),
        }
    }

    /// The budget.
    pub fn max_bytes(&self) -> usize {
        self.state.try_borrow().map_or(0, |s| s.max_bytes)
    }

    /// Bytes in use now.
    pub fn size_bytes(&self) -> usize {
        self.state.try_borrow().map_or(0, |s| s.bytes)
    }

    /// Entries cached now, over all stores.
    pub fn len(&self) -> usize {
        self.state.try_borrow().map_or(0, |s| s.lru.len())
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hit, miss, eviction and flush counts so far.
    pub fn stats(&self) -> CacheStats {
        self.state.try_borrow().map(|s| s.stats).unwrap_or_default()
    }

    fn state(&self, ns: &str) -> Result<std::cell::RefMut<'_, CacheState>, StoreError> {
        self.state
            .try_borrow_mut()
            .map_err(|_| StoreError::reentrant(ns))
    }

    fn register(&self, ns: &Rc<str>, flusher: Flusher, keep_clean: bool) -> Result<(), StoreError> {
        let mut state = self.state(ns)?;
        let namespace = state.namespaces.entry(Rc::clone(ns)).or_default();
        namespace.flusher = Some(flusher);
        namespace.keep_clean = keep_clean;
        Ok(())
    }

    fn unregister(&self, ns: &Rc<str>) -> Result<(), StoreError> {
        let mut state = self.state(ns)?;
        if let Some(namespace) = state.namespaces.remove(ns) {
            for (key, entry) in namespace.entries {
                state.bytes = state.bytes.saturating_sub(entry.size(&key));
                state.lru.remove(&entry.seq);
            }
        }
        Ok(())
    }

    /// `Some(value)` on a hit (`Some(None)`: a cached delete), `None` on a miss.
    fn get(&self, ns: &Rc<str>, key: &[u8]) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        let mut state = self.state(ns)?;
        let state = &mut *state;
        let seq = state.next_seq;
        let hit = state
            .namespaces
            .get_mut(ns)
            .and_then(|n| n.entries.get_mut(key))
            .map(|entry| {
                let old = std::mem::replace(&mut entry.seq, seq);
                (old, entry.value.clone())
            });
        match hit {
            Some((old, value)) => {
                state.next_seq += 1;
                if let Some(lru) = state.lru.remove(&old) {
                    state.lru.insert(seq, lru);
                }
                state.stats.hits += 1;
                Ok(Some(value))
            }
            None => {
                state.stats.misses += 1;
                Ok(None)
            }
        }
    }

    /// Caches a value (dirty: a write to flush later; clean: a read from the store) and evicts
    /// while over budget. Returns the flushes the caller must run (outside any borrow).
    fn put(
        &self,
        ns: &Rc<str>,
        key: &[u8],
        value: Option<Vec<u8>>,
        timestamp: Option<i64>,
        dirty: bool,
    ) -> Result<Vec<(Flusher, Vec<DirtyEntry>)>, StoreError> {
        let mut state = self.state(ns)?;
        let state = &mut *state;
        let seq = state.next_seq;
        state.next_seq += 1;
        let entry = CacheEntry {
            value,
            timestamp,
            dirty,
            seq,
            written: seq,
        };
        let namespace = state.namespaces.entry(Rc::clone(ns)).or_default();
        match namespace.entries.get_mut(key) {
            Some(existing) => {
                let removed = existing.size(key);
                state.lru.remove(&existing.seq);
                if dirty || !existing.dirty {
                    *existing = entry;
                } else {
                    // A clean read never overwrites a dirty write.
                    existing.seq = seq;
                }
                let added = existing.size(key);
                state.bytes = state.bytes.saturating_sub(removed) + added;
            }
            None => {
                state.bytes += entry.size(key);
                namespace.entries.insert(key.to_vec(), entry);
            }
        }
        state.lru.insert(seq, (Rc::clone(ns), key.to_vec()));
        Ok(Self::evict(state))
    }

    fn evict(state: &mut CacheState) -> Vec<(Flusher, Vec<DirtyEntry>)> {
        let mut flushes = Vec::new();
        while state.bytes > state.max_bytes {
            let Some((_, (ns, key))) = state.lru.pop_first() else {
                break;
            };
            let CacheState {
                namespaces,
                lru,
                bytes,
                stats,
                ..
            } = &mut *state;
            let Some(namespace) = namespaces.get_mut(&ns) else {
                continue;
            };
            let is_dirty = namespace.entries.get(&key).is_some_and(|e| e.dirty);
            if is_dirty && let Some(flush) = Self::take_dirty(namespace, lru, bytes) {
                stats.flushed += flush.1.len() as u64;
                flushes.push(flush);
            }
            if let Some(entry) = namespace.entries.remove(&key) {
                *bytes = bytes.saturating_sub(entry.size(&key));
                stats.evictions += 1;
            }
        }
        flushes
    }

    /// Marks every dirty entry of a namespace clean and returns them, oldest write first.
    fn take_dirty(
        namespace: &mut Namespace,
        lru: &mut BTreeMap<u64, (Rc<str>, Vec<u8>)>,
        bytes: &mut usize,
    ) -> Option<(Flusher, Vec<DirtyEntry>)> {
        let flusher = namespace.flusher.clone()?;
        let mut dirty: Vec<(u64, DirtyEntry)> = namespace
            .entries
            .iter_mut()
            .filter(|(_, e)| e.dirty)
            .map(|(k, e)| {
                e.dirty = false;
                (
                    e.written,
                    DirtyEntry {
                        key: k.clone(),
                        value: e.value.clone(),
                        timestamp: e.timestamp,
                    },
                )
            })
            .collect();
        // A delete is cached only until flushed; other entries stay, clean, if reads use them.
        let keep_clean = namespace.keep_clean;
        namespace.entries.retain(|k, e| {
            let keep = e.dirty || (keep_clean && e.value.is_some());
            if !keep {
                lru.remove(&e.seq);
                *bytes = bytes.saturating_sub(e.size(k));
            }
            keep
        });
        dirty.sort_by_key(|(written, _)| *written);
        Some((flusher, dirty.into_iter().map(|(_, e)| e).collect()))
    }

    fn flush(&self, ns: &Rc<str>) -> Result<(), StoreError> {
        let flush = {
            let mut state = self.state(ns)?;
            let state = &mut *state;
            let CacheState {
                namespaces,
                lru,
                bytes,
                stats,
                ..
            } = state;
            let flush = namespaces
                .get_mut(ns)
                .and_then(|n| Self::take_dirty(n, lru, bytes));
            if let Some((_, entries)) = &flush {
                stats.flushed += entries.len() as u64;
            }
            flush
        };
        match flush {
            Some((flusher, entries)) if !entries.is_empty() => flusher(entries),
            _ => Ok(()),
        }
    }

    fn scan(
        &self,
        ns: &Rc<str>,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<MaybeEntry>, StoreError> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let state = self
            .state
            .try_borrow()
            .map_err(|_| StoreError::reentrant(ns))?;
        let Some(namespace) = state.namespaces.get(ns) else {
            return Ok(Vec::new());
        };
        let iter = namespace.entries.range::<[u8], _>(range.bounds());
        let clone = |(k, e): (&Vec<u8>, &CacheEntry)| (k.clone(), e.value.clone());
        Ok(if reverse {
            iter.rev().take(limit).map(clone).collect()
        } else {
            iter.take(limit).map(clone).collect()
        })
    }

    fn invalidate(&self, ns: &Rc<str>, key: &[u8]) -> Result<(), StoreError> {
        let mut state = self.state(ns)?;
        let state = &mut *state;
        if let Some(entry) = state
            .namespaces
            .get_mut(ns)
            .and_then(|n| n.entries.remove(key))
        {
            state.bytes = state.bytes.saturating_sub(entry.size(key));
            state.lru.remove(&entry.seq);
        }
        Ok(())
    }
}

fn run(flushes: Vec<(Flusher, Vec<DirtyEntry>)>) -> Result<(), StoreError> {
    for (flusher, entries) in flushes {
        flusher(entries)?;
    }
    Ok(())
}

/// The caching layer of one store: reads check the cache first; writes go to the cache.
pub(crate) struct CachingStore {
    name: String,
    ns: Rc<str>,
    cache: RecordCache,
    inner: Rc<dyn BytesStore>,
    listener: Rc<RefCell<Option<FlushListener>>>,
    /// Whether reads populate the cache and flushed entries stay in it.
    keep_clean: bool,
}

impl CachingStore {
    /// Wraps `inner`; `namespace` must be unique per store instance in the thread (Kafka Streams
    /// uses `<task>-<store>`).
    pub(crate) fn new(
        name: &str,
        namespace: String,
        cache: RecordCache,
        inner: Rc<dyn BytesStore>,
        keep_clean: bool,
    ) -> Result<Self, StoreError> {
        let ns: Rc<str> = Rc::from(namespace);
        let listener: Rc<RefCell<Option<FlushListener>>> = Rc::default();
        let flusher: Flusher = {
            let inner = Rc::clone(&inner);
            let listener = Rc::clone(&listener);
            let name = name.to_string();
            Rc::new(move |entries: Vec<DirtyEntry>| {
                for entry in entries {
                    let has_listener = listener.try_borrow().map_or(true, |l| l.is_some());
                    let old = if has_listener {
                        inner.get(&entry.key)?
                    } else {
                        None
                    };
                    // A delete of a key the store does not hold changes nothing: Kafka Streams'
                    // caching stores then neither write it (no changelog tombstone) nor forward
                    // it.
                    if has_listener && entry.value.is_none() && old.is_none() {
                        continue;
                    }
                    inner.put(&entry.key, entry.value.as_deref(), entry.timestamp)?;
                    if has_listener {
                        let mut guard = listener
                            .try_borrow_mut()
                            .map_err(|_| StoreError::reentrant(&name))?;
                        if let Some(listener) = guard.as_mut() {
                            listener(FlushedEntry {
                                key: &entry.key,
                                new_value: entry.value.as_deref(),
                                old_value: old.as_deref(),
                                timestamp: entry.timestamp,
                            })?;
                        }
                    }
                }
                Ok(())
            })
        };
        cache.register(&ns, flusher, keep_clean)?;
        Ok(CachingStore {
            name: name.to_string(),
            ns,
            cache,
            inner,
            listener,
            keep_clean,
        })
    }
}

impl CachingStore {
    /// The cache's entries merged over the store's (`retained`: read with
    /// [`BytesStore::scan_retained`]).
    fn merged_scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
        retained: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut range = range.clone();
        let mut out: Vec<Entry> = Vec::new();
        while out.len() < limit && !range.is_empty() {
            let want = limit - out.len();
            let cached = self.cache.scan(&self.ns, &range, reverse, want)?;
            let cached_full = cached.len() == want;
            let stored = if retained {
                self.inner.scan_retained(&range, reverse, want)?
            } else {
                self.inner.scan(&range, reverse, want)?
            };
            let stored: Vec<_> = stored.into_iter().map(|(k, v)| (k, Some(v))).collect();
            let stored_full = stored.len() == want;
            let (merged, boundary) =
                merge_pages(vec![(cached, cached_full), (stored, stored_full)], reverse);
            out.extend(merged);
            match boundary {
                Some(b) if reverse => range.to = std::ops::Bound::Excluded(b),
                Some(b) => range.from = std::ops::Bound::Excluded(b),
                None => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

impl BytesStore for CachingStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(hit) = self.cache.get(&self.ns, key)? {
            return Ok(hit);
        }
        let value = self.inner.get(key)?;
        if self.keep_clean
            && !QUERYING.with(std::cell::Cell::get)
            && let Some(v) = &value
        {
            run(self
                .cache
                .put(&self.ns, key, Some(v.clone()), None, false)?)?;
        }
        Ok(value)
    }

    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: Option<i64>,
    ) -> Result<(), StoreError> {
        let flushes = self
            .cache
            .put(&self.ns, key, value.map(<[u8]>::to_vec), timestamp, true)?;
        run(flushes)
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.merged_scan(range, reverse, limit, false)
    }

    fn scan_retained(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.merged_scan(range, reverse, limit, true)
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.inner.approximate_num_entries()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.cache.flush(&self.ns)?;
        self.inner.flush()
    }

    fn flush_cache(&self) -> Result<(), StoreError> {
        self.cache.flush(&self.ns)
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        for record in batch {
            self.cache.invalidate(&self.ns, record.key)?;
        }
        self.inner.restore(batch)
    }

    fn set_flush_listener(&self, listener: FlushListener) -> bool {
        match self.listener.try_borrow_mut() {
            Ok(mut slot) => {
                *slot = Some(listener);
                true
            }
            Err(_) => {
                tracing::warn!(store = %self.name, "cannot set a flush listener while flushing");
                false
            }
        }
    }

    fn close(&self) -> Result<(), StoreError> {
        let flushed = self.flush();
        self.cache.unregister(&self.ns)?;
        flushed?;
        self.inner.close()
    }
}
