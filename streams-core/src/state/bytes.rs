//! The bytes layer every store stacks on: a sorted map of byte keys to byte values, with paged
//! scans, and the records that restoration replays into it.

use std::collections::VecDeque;
use std::ops::Bound;
use std::rc::Rc;

use super::error::StoreError;

/// A key and its value, as stored.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// A key and its value or tombstone (`None`), as a cache holds them.
pub(crate) type MaybeEntry = (Vec<u8>, Option<Vec<u8>>);

/// One source's page for [`merge_pages`]: its entries and whether the page was full.
pub(crate) type SourcePage = (Vec<MaybeEntry>, bool);

/// How many entries a store iterator reads from the layer below at a time.
pub(crate) const PAGE: usize = 256;

/// One changelog record to replay into a store during restoration: the key and value bytes as
/// the store's changelog holds them (`None` is a tombstone), and the record's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreRecord<'a> {
    /// The changelog record's key.
    pub key: &'a [u8],
    /// The changelog record's value; `None` deletes the key.
    pub value: Option<&'a [u8]>,
    /// The changelog record's timestamp (ms).
    pub timestamp: i64,
}

/// Called with every entry a record cache flushes (on commit or eviction), after the entry is
/// written to the store below the cache: key, new value (`None`: deleted), the value the store
/// held before, and the write's timestamp if it had one.
pub(crate) type FlushListener = Box<dyn FnMut(FlushedEntry<'_>) -> Result<(), StoreError>>;

/// One entry a record cache flushed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlushedEntry<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) new_value: Option<&'a [u8]>,
    pub(crate) old_value: Option<&'a [u8]>,
    pub(crate) timestamp: Option<i64>,
}

/// A store of bytes ordered by key bytes. Layers (record cache, changelog logging, segments)
/// wrap another `BytesStore`; engines (in-memory, RocksDB) are at the bottom.
///
/// Methods take `&self` and borrow internal state only for the duration of the call, so a
/// cache flush that calls back into processors never finds a store borrowed.
pub(crate) trait BytesStore {
    /// The value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Writes `value` for `key`, or deletes it for `None`. `timestamp` is the write's time if the
    /// caller knows it (changelog records carry it; `None` leaves it to the changelog sink).
    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: Option<i64>,
    ) -> Result<(), StoreError>;

    /// Up to `limit` entries of `range`, in key order (descending if `reverse`). Fewer than
    /// `limit` means the range is exhausted.
    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;

    /// As [`scan`](Self::scan), but a time-segmented store also returns entries past its
    /// retention whose segment it still keeps — what Kafka Streams' time-ordered session store
    /// reads when an aggregation emits final results. Other stores scan as usual.
    fn scan_retained(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.scan(range, reverse, limit)
    }

    /// Calls `f` with every entry of `range`, in key order (descending if `reverse`), until it
    /// returns `false`. Stores that hold their entries in memory lend them to `f` instead of
    /// copying a page of them; `f` must not use the store.
    fn visit(&self, range: &ByteRange, reverse: bool, f: Visitor<'_>) -> Result<(), StoreError> {
        visit_pages(self, range, reverse, f)
    }

    /// An estimate of the number of keys.
    fn approximate_num_entries(&self) -> Result<u64, StoreError>;

    /// Writes buffered state down: cached entries to the store, memtables to disk.
    fn flush(&self) -> Result<(), StoreError>;

    /// Flushes the record cache layer only (a no-op where there is none).
    fn flush_cache(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Replays changelog records, bypassing caching and logging; engines write them as one
    /// batch (RocksDB: write-ahead log off).
    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError>;

    /// Registers the cache flush listener; `false` if the stack has no cache.
    fn set_flush_listener(&self, listener: FlushListener) -> bool {
        drop(listener);
        false
    }

    /// Flushes and releases resources; the store is unusable afterwards.
    fn close(&self) -> Result<(), StoreError> {
        self.flush()
    }
}

/// What [`BytesStore::visit`] calls with each entry (key, value); `false` stops the visit.
pub(crate) type Visitor<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> bool;

/// [`BytesStore::visit`] by pages of [`BytesStore::scan`], for stores that cannot lend their
/// entries.
pub(crate) fn visit_pages<S: BytesStore + ?Sized>(
    store: &S,
    range: &ByteRange,
    reverse: bool,
    f: Visitor<'_>,
) -> Result<(), StoreError> {
    let mut range = range.clone();
    while !range.is_empty() {
        let page = store.scan(&range, reverse, PAGE)?;
        let full = page.len() == PAGE;
        for (k, v) in &page {
            if !f(k, v) {
                return Ok(());
            }
        }
        match page.into_iter().last() {
            Some((last, _)) if full => range.continue_after(last, reverse),
            _ => break,
        }
    }
    Ok(())
}

/// A range of byte keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ByteRange {
    pub(crate) from: Bound<Vec<u8>>,
    pub(crate) to: Bound<Vec<u8>>,
}

impl ByteRange {
    pub(crate) fn all() -> Self {
        ByteRange {
            from: Bound::Unbounded,
            to: Bound::Unbounded,
        }
    }

    pub(crate) fn inclusive(from: Vec<u8>, to: Vec<u8>) -> Self {
        ByteRange {
            from: Bound::Included(from),
            to: Bound::Included(to),
        }
    }

    /// Every key starting with `prefix`.
    pub(crate) fn prefix(prefix: &[u8]) -> Self {
        ByteRange {
            from: Bound::Included(prefix.to_vec()),
            to: match prefix_successor(prefix) {
                Some(end) => Bound::Excluded(end),
                None => Bound::Unbounded,
            },
        }
    }

    pub(crate) fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_ref(&self.from), as_ref(&self.to))
    }

    /// Whether no key can be in the range (also what `BTreeMap::range` would panic on).
    pub(crate) fn is_empty(&self) -> bool {
        match (&self.from, &self.to) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                a >= b
            }
            _ => false,
        }
    }

    #[cfg(feature = "rocksdb")]
    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        self.above_lower(key) && self.below_upper(key)
    }

    #[cfg(feature = "rocksdb")]
    pub(crate) fn above_lower(&self, key: &[u8]) -> bool {
        match &self.from {
            Bound::Included(a) => key >= a.as_slice(),
            Bound::Excluded(a) => key > a.as_slice(),
            Bound::Unbounded => true,
        }
    }

    #[cfg(feature = "rocksdb")]
    pub(crate) fn below_upper(&self, key: &[u8]) -> bool {
        match &self.to {
            Bound::Included(b) => key <= b.as_slice(),
            Bound::Excluded(b) => key < b.as_slice(),
            Bound::Unbounded => true,
        }
    }

    /// The rest of the range after `key` was read, scanning forward or in reverse.
    pub(crate) fn continue_after(&mut self, key: Vec<u8>, reverse: bool) {
        if reverse {
            self.to = Bound::Excluded(key);
        } else {
            self.from = Bound::Excluded(key);
        }
    }
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The smallest byte string greater than every string starting with `prefix`; `None` if there
/// is none (the prefix is empty or all `0xff`).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Merges sorted pages from several sources into one page. Each source gives its entries (in
/// scan order; `None` values are tombstones that hide later sources' entries) and whether it
/// filled its page (`full`: it may have more beyond its last key). On equal keys the earlier
/// source wins.
///
/// Returns the merged live entries and, if any source was full, the key up to which the merge
/// is complete (the next page starts after it); `None` means the range is exhausted.
pub(crate) fn merge_pages(
    sources: Vec<SourcePage>,
    reverse: bool,
) -> (Vec<Entry>, Option<Vec<u8>>) {
    let mut boundary: Option<Vec<u8>> = None;
    for (entries, full) in &sources {
        if !*full {
            continue;
        }
        if let Some((last, _)) = entries.last() {
            let tighter = match &boundary {
                None => true,
                Some(b) => (last < b) != reverse && last != b,
            };
            if tighter {
                boundary = Some(last.clone());
            }
        }
    }
    let within = |k: &[u8]| match &boundary {
        None => true,
        Some(b) => {
            if reverse {
                k >= b.as_slice()
            } else {
                k <= b.as_slice()
            }
        }
    };
    let mut all: Vec<(Vec<u8>, usize, Option<Vec<u8>>)> = Vec::new();
    for (source, (entries, _)) in sources.into_iter().enumerate() {
        all.extend(
            entries
                .into_iter()
                .filter(|(k, _)| within(k))
                .map(|(k, v)| (k, source, v)),
        );
    }
    all.sort_by(|a, b| {
        let by_key = if reverse {
            b.0.cmp(&a.0)
        } else {
            a.0.cmp(&b.0)
        };
        by_key.then(a.1.cmp(&b.1))
    });
    all.dedup_by(|later, first| later.0 == first.0);
    let merged = all
        .into_iter()
        .filter_map(|(k, _, v)| v.map(|v| (k, v)))
        .collect();
    (merged, boundary)
}

/// Reads a range page by page from a store, so a scan of a large store holds one page in
/// memory. Entries written after a page was read are seen only if they fall in a later page.
pub(crate) struct Pages {
    store: Rc<dyn BytesStore>,
    range: ByteRange,
    reverse: bool,
    buffered: VecDeque<Entry>,
    done: bool,
    /// Read with [`BytesStore::scan_retained`].
    retained: bool,
}

impl Pages {
    pub(crate) fn new(store: Rc<dyn BytesStore>, range: ByteRange, reverse: bool) -> Self {
        let done = range.is_empty();
        Pages {
            store,
            range,
            reverse,
            buffered: VecDeque::new(),
            done,
            retained: false,
        }
    }

    /// Pages read with [`BytesStore::scan_retained`].
    pub(crate) fn retained(store: Rc<dyn BytesStore>, range: ByteRange) -> Self {
        Pages {
            retained: true,
            ..Self::new(store, range, false)
        }
    }

    /// The next entry, reading the next page when the buffered one is used up.
    pub(crate) fn next_entry(&mut self) -> Option<Result<Entry, StoreError>> {
        if let Some(entry) = self.buffered.pop_front() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        let page = if self.retained {
            self.store.scan_retained(&self.range, self.reverse, PAGE)
        } else {
            self.store.scan(&self.range, self.reverse, PAGE)
        };
        match page {
            Ok(page) => {
                if page.len() < PAGE {
                    self.done = true;
                }
                if let Some((last, _)) = page.last() {
                    self.range.continue_after(last.clone(), self.reverse);
                }
                self.buffered.extend(page);
                self.buffered.pop_front().map(Ok)
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// How many entries are read but not yet returned.
    pub(crate) fn buffered(&self) -> usize {
        self.buffered.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_successor_carries() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff, 0xff]), None);
        assert_eq!(prefix_successor(b""), None);
    }

    #[test]
    fn merge_prefers_earlier_sources_and_stops_at_the_tightest_full_page() {
        let cache = vec![
            (b"b".to_vec(), Some(b"cached".to_vec())),
            (b"c".to_vec(), None),
        ];
        let store = vec![
            (b"a".to_vec(), Some(b"1".to_vec())),
            (b"b".to_vec(), Some(b"2".to_vec())),
            (b"c".to_vec(), Some(b"3".to_vec())),
            (b"d".to_vec(), Some(b"4".to_vec())),
        ];
        let (merged, boundary) = merge_pages(vec![(cache, true), (store, false)], false);
        assert_eq!(
            merged,
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"cached".to_vec())
            ]
        );
        assert_eq!(boundary, Some(b"c".to_vec()));
    }

    #[test]
    fn empty_ranges_are_detected() {
        assert!(ByteRange::inclusive(b"b".to_vec(), b"a".to_vec()).is_empty());
        assert!(!ByteRange::inclusive(b"a".to_vec(), b"a".to_vec()).is_empty());
        let r = ByteRange {
            from: Bound::Excluded(b"a".to_vec()),
            to: Bound::Excluded(b"a".to_vec()),
        };
        assert!(r.is_empty());
    }
}
