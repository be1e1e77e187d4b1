//! Time-segmented stores for windows and sessions, as Kafka Streams' segmented bytes stores:
//! entries live in the segment of their timestamp, and whole segments are dropped once stream
//! time has moved past them by the retention period.
//!
//! Window stores' segments are short: half the retention, at least
//! [`MIN_WINDOW_SEGMENT_INTERVAL_MS`] (Kafka Streams: at least a minute, as each of its segments
//! is a RocksDB instance of its own; here a segment is a column family of the store's one
//! database, cheap to make and drop). A store with a short retention — a stream-stream join's
//! — then reads its live windows from memtables instead of searching a minute of files, and
//! drops the rest a segment at a time. Window reads filter by retention, not by segment, so the
//! interval does not show in results. Session stores keep Kafka Streams' interval: finding
//! sessions by end time sees every session of a kept segment, as there. A persistent store
//! keeps the interval it was made with.
//!
//! Keys keep one record key's windows contiguous: window stores use
//! `[key][window start]`, session stores `[key][session end][session start]`, timestamps as
//! 8 big-endian bytes with the sign bit flipped (so byte order is numeric order).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use super::bytes::{
    ByteRange, BytesStore, Entry, RestoreRecord, Visitor, merge_pages, visit_pages,
};
use super::error::StoreError;
use super::memory::InMemoryStore;
#[cfg(feature = "rocksdb")]
use super::rocks::{RocksDb, RocksFamily};

/// A duration in whole milliseconds, saturating.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A store's retention in ms, checked (at least 1 ms).
pub(crate) fn retention_param(name: &str, retention: Duration) -> Result<i64, StoreError> {
    let ms = duration_ms(retention);
    if ms <= 0 {
        return Err(StoreError::InvalidConfig {
            store: name.to_string(),
            message: "the retention period must be at least 1 ms".to_string(),
        });
    }
    Ok(ms)
}

/// A window store's (retention, window size) in ms, checked (size from 1 ms to the retention).
pub(crate) fn window_params(
    name: &str,
    retention: Duration,
    window_size: Duration,
) -> Result<(i64, i64), StoreError> {
    let retention_ms = retention_param(name, retention)?;
    let size_ms = duration_ms(window_size);
    if size_ms <= 0 || size_ms > retention_ms {
        return Err(StoreError::InvalidConfig {
            store: name.to_string(),
            message: format!(
                "the window size ({size_ms} ms) must be at least 1 ms and at most the retention period ({retention_ms} ms)"
            ),
        });
    }
    Ok((retention_ms, size_ms))
}

/// An in-memory segmented store.
pub(crate) fn in_memory_segments(
    name: &str,
    schema: KeySchema,
    retention_ms: i64,
) -> Result<Rc<dyn BytesStore>, StoreError> {
    Ok(Rc::new(SegmentedStore::open(
        name,
        schema,
        retention_ms,
        SegmentedStore::default_segment_interval(schema, retention_ms),
        Box::new(MemorySegments {
            name: name.to_string(),
        }),
    )?))
}

/// A timestamp as 8 bytes whose byte order is numeric order.
pub(crate) fn encode_time(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

pub(crate) fn decode_time(bytes: &[u8]) -> Option<i64> {
    let array: [u8; 8] = bytes.try_into().ok()?;
    Some((u64::from_be_bytes(array) ^ (1 << 63)) as i64)
}

/// Where a composite key keeps the timestamp its segment is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySchema {
    /// `[key][start]`: segmented by window start.
    Window,
    /// `[key][start][sequence number]`: a window store that keeps duplicates (Kafka Streams'
    /// `retainDuplicates`, the stores of stream-stream joins), segmented by window start.
    WindowWithSeq,
    /// `[key][end][start]`: segmented by session end.
    Session,
}

impl KeySchema {
    /// Bytes after the record key.
    pub(crate) fn suffix_len(self) -> usize {
        match self {
            KeySchema::Window => 8,
            KeySchema::WindowWithSeq => 12,
            KeySchema::Session => 16,
        }
    }

    /// The segment timestamp of a composite key.
    pub(crate) fn segment_time(self, key: &[u8]) -> Option<i64> {
        let at = key.len().checked_sub(self.suffix_len())?;
        decode_time(key.get(at..at + 8)?)
    }
}

/// Opens and drops the segments of one store.
pub(crate) trait SegmentBackend {
    fn open(&self, id: i64) -> Result<Rc<dyn BytesStore>, StoreError>;
    fn drop_segment(&self, id: i64) -> Result<(), StoreError>;
    /// Segment ids that exist already (a reopened persistent store).
    fn existing(&self) -> Result<Vec<i64>, StoreError>;
    /// The segment interval the store was made with, if it says (persistent stores).
    fn load_interval(&self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
    /// Records the segment interval of a new store.
    fn save_interval(&self, interval_ms: i64) -> Result<(), StoreError> {
        let _ = interval_ms;
        Ok(())
    }
    /// The stream time saved by [`save_observed`](Self::save_observed), if any.
    fn load_observed(&self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
    /// Saves the stream time (on flush and close), so a reopened store expires the same windows.
    fn save_observed(&self, observed: i64) -> Result<(), StoreError> {
        let _ = observed;
        Ok(())
    }
    fn close(&self) -> Result<(), StoreError>;
}

/// In-memory segments.
pub(crate) struct MemorySegments {
    pub(crate) name: String,
}

impl SegmentBackend for MemorySegments {
    fn open(&self, _id: i64) -> Result<Rc<dyn BytesStore>, StoreError> {
        Ok(Rc::new(InMemoryStore::new(&self.name)))
    }

    fn drop_segment(&self, _id: i64) -> Result<(), StoreError> {
        Ok(())
    }

    fn existing(&self) -> Result<Vec<i64>, StoreError> {
        Ok(Vec::new())
    }

    fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// RocksDB segments: a column family `segment-<id>` each, in one database per store; with a
/// `mirror`, each segment keeps an in-memory copy too (see `mirror.rs`).
#[cfg(feature = "rocksdb")]
pub(crate) struct RocksSegments {
    pub(crate) db: Rc<RocksDb>,
    pub(crate) mirror: Option<Rc<super::mirror::MirrorSwitch>>,
}

#[cfg(feature = "rocksdb")]
const SEGMENT_PREFIX: &str = "segment-";

#[cfg(feature = "rocksdb")]
impl RocksSegments {
    /// A time saved under a meta key, if any.
    fn load_time(&self, key: &[u8]) -> Result<Option<i64>, StoreError> {
        Ok(self.db.get_meta(key)?.and_then(|bytes| decode_time(&bytes)))
    }
}

#[cfg(feature = "rocksdb")]
impl SegmentBackend for RocksSegments {
    fn open(&self, id: i64) -> Result<Rc<dyn BytesStore>, StoreError> {
        let name = format!("{SEGMENT_PREFIX}{id}");
        let family = RocksFamily::open(Rc::clone(&self.db), name.clone())?;
        Ok(match &self.mirror {
            Some(switch) => Rc::new(super::mirror::MirroredSegment::open(
                &name,
                family,
                Rc::clone(switch),
            )?),
            None => Rc::new(family),
        })
    }

    fn drop_segment(&self, id: i64) -> Result<(), StoreError> {
        self.db.drop_family(&format!("{SEGMENT_PREFIX}{id}"))
    }

    fn existing(&self) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .db
            .families_with_prefix(SEGMENT_PREFIX)?
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect())
    }

    fn load_observed(&self) -> Result<Option<i64>, StoreError> {
        self.load_time(OBSERVED_KEY)
    }

    fn save_observed(&self, observed: i64) -> Result<(), StoreError> {
        self.db.put_meta(OBSERVED_KEY, &encode_time(observed))
    }

    fn load_interval(&self) -> Result<Option<i64>, StoreError> {
        self.load_time(INTERVAL_KEY)
    }

    fn save_interval(&self, interval_ms: i64) -> Result<(), StoreError> {
        self.db.put_meta(INTERVAL_KEY, &encode_time(interval_ms))
    }

    fn close(&self) -> Result<(), StoreError> {
        self.db.close()
    }
}

/// Where a RocksDB segmented store keeps its stream time (default column family).
#[cfg(feature = "rocksdb")]
const OBSERVED_KEY: &[u8] = b"observed-stream-time";

/// Where a RocksDB segmented store keeps its segment interval (default column family).
#[cfg(feature = "rocksdb")]
const INTERVAL_KEY: &[u8] = b"segment-interval-ms";

/// The shortest segment interval of a window store.
pub(crate) const MIN_WINDOW_SEGMENT_INTERVAL_MS: i64 = 1_000;

struct State {
    segments: BTreeMap<i64, Rc<dyn BytesStore>>,
    /// The highest segment timestamp written: the store's view of stream time.
    observed: i64,
}

/// A bytes store split into time segments; see the [module docs](self).
pub(crate) struct SegmentedStore {
    name: String,
    schema: KeySchema,
    retention_ms: i64,
    segment_interval_ms: i64,
    backend: Box<dyn SegmentBackend>,
    state: RefCell<State>,
}

impl SegmentedStore {
    /// The segment interval of a new store: half the retention, at least
    /// [`MIN_WINDOW_SEGMENT_INTERVAL_MS`] for windows, a minute for sessions (see the
    /// [module docs](self)).
    pub(crate) fn default_segment_interval(schema: KeySchema, retention_ms: i64) -> i64 {
        match schema {
            KeySchema::Window | KeySchema::WindowWithSeq => {
                (retention_ms / 2).max(MIN_WINDOW_SEGMENT_INTERVAL_MS)
            }
            KeySchema::Session => Self::kafka_streams_segment_interval(retention_ms),
        }
    }

    /// Kafka Streams' interval: half the retention, at least a minute; also that of persistent
    /// stores made before the interval was recorded.
    fn kafka_streams_segment_interval(retention_ms: i64) -> i64 {
        (retention_ms / 2).max(60_000)
    }

    pub(crate) fn open(
        name: &str,
        schema: KeySchema,
        retention_ms: i64,
        segment_interval_ms: i64,
        backend: Box<dyn SegmentBackend>,
    ) -> Result<Self, StoreError> {
        let mut segments = BTreeMap::new();
        for id in backend.existing()? {
            segments.insert(id, backend.open(id)?);
        }
        // Segment ids count intervals: a reopened store keeps the one it was made with.
        let segment_interval_ms = match backend.load_interval()? {
            Some(recorded) => recorded,
            None if !segments.is_empty() => Self::kafka_streams_segment_interval(retention_ms),
            None => {
                backend.save_interval(segment_interval_ms)?;
                segment_interval_ms
            }
        };
        let observed = match backend.load_observed()? {
            Some(t) => t,
            None => segments
                .keys()
                .next_back()
                .map_or(i64::MIN, |id| id.saturating_mul(segment_interval_ms)),
        };
        Ok(SegmentedStore {
            name: name.to_string(),
            schema,
            retention_ms,
            segment_interval_ms: segment_interval_ms.max(1),
            backend,
            state: RefCell::new(State { segments, observed }),
        })
    }

    fn segment_id(&self, t: i64) -> i64 {
        t.div_euclid(self.segment_interval_ms)
    }

    /// Entries at or before this time are expired.
    fn expired_up_to(observed: i64, retention_ms: i64) -> i64 {
        observed.saturating_sub(retention_ms)
    }

    fn time_of(&self, key: &[u8]) -> Result<i64, StoreError> {
        self.schema
            .segment_time(key)
            .ok_or_else(|| StoreError::corrupt(&self.name, "key too short for its timestamp"))
    }

    fn state(&self) -> Result<std::cell::RefMut<'_, State>, StoreError> {
        self.state
            .try_borrow_mut()
            .map_err(|_| StoreError::reentrant(&self.name))
    }

    /// Advances stream time to `t` and drops segments that fell out of retention.
    fn observe(&self, state: &mut State, t: i64) -> Result<(), StoreError> {
        if t <= state.observed {
            return Ok(());
        }
        state.observed = t;
        let min_live = Self::expired_up_to(t, self.retention_ms).saturating_add(1);
        let first_live = self.segment_id(min_live);
        let dead: Vec<i64> = state
            .segments
            .range(..first_live)
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            if let Some(segment) = state.segments.remove(&id) {
                segment.close()?;
            }
            self.backend.drop_segment(id)?;
        }
        Ok(())
    }

    /// The live segment for time `t`, created if needed; `None` if `t` is expired.
    fn segment_for(
        &self,
        state: &mut State,
        t: i64,
    ) -> Result<Option<Rc<dyn BytesStore>>, StoreError> {
        self.observe(state, t)?;
        if t <= Self::expired_up_to(state.observed, self.retention_ms) {
            return Ok(None);
        }
        let id = self.segment_id(t);
        if let Some(segment) = state.segments.get(&id) {
            return Ok(Some(Rc::clone(segment)));
        }
        let segment = self.backend.open(id)?;
        state.segments.insert(id, Rc::clone(&segment));
        Ok(Some(segment))
    }

    fn live(&self, t: i64, observed: i64) -> bool {
        t > Self::expired_up_to(observed, self.retention_ms)
    }

    /// The segment times a range can hold entries of, when its bounds are one record key's
    /// (a single-key fetch): `[key][from..]` to `[key][to..]`. Longer keys starting with the
    /// same bytes can fall in such a range at any time, but every single-key reader skips them.
    fn time_bounds(&self, range: &ByteRange) -> Option<(i64, i64)> {
        use std::ops::Bound::{Excluded, Included};
        let (Included(from) | Excluded(from), Included(to) | Excluded(to)) =
            (&range.from, &range.to)
        else {
            return None;
        };
        let n = self.schema.suffix_len();
        let (a, b) = (from.len().checked_sub(n)?, to.len().checked_sub(n)?);
        if from[..a] != to[..b] {
            return None;
        }
        let (lo, hi) = (
            self.schema.segment_time(from)?,
            self.schema.segment_time(to)?,
        );
        (lo <= hi).then_some((lo, hi))
    }

    /// Whether the entry of composite key `k` is within retention.
    fn live_key(&self, k: &[u8], observed: i64) -> bool {
        self.schema
            .segment_time(k)
            .is_some_and(|t| self.live(t, observed))
    }

    /// The segments `range` can reach, oldest first, and the highest time observed.
    fn reachable(&self, range: &ByteRange) -> Result<(Vec<Rc<dyn BytesStore>>, i64), StoreError> {
        let state = self.state()?;
        let segments = match self.time_bounds(range) {
            Some((from, to)) => state
                .segments
                .range(self.segment_id(from)..=self.segment_id(to))
                .map(|(_, s)| Rc::clone(s))
                .collect(),
            None => state.segments.values().cloned().collect(),
        };
        Ok((segments, state.observed))
    }

    /// Scans the segments the range can reach (`live_only`: skipping entries past retention
    /// in segments still kept).
    fn scan_segments(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
        live_only: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        let (segments, observed) = self.reachable(range)?;
        // Entries past retention in segments still kept are skipped unless asked for.
        let wanted = |k: &[u8]| !live_only || self.live_key(k, observed);
        let mut range = range.clone();
        let mut out: Vec<Entry> = Vec::new();
        if let [segment] = segments.as_slice() {
            // One segment: its entries are in order already; read on past expired ones.
            while out.len() < limit && !range.is_empty() {
                let want = limit - out.len();
                let page = segment.scan(&range, reverse, want)?;
                let next = (page.len() == want)
                    .then(|| page.last().map(|(k, _)| k.clone()))
                    .flatten();
                out.extend(page.into_iter().filter(|(k, _)| wanted(k)));
                match next {
                    Some(last) => range.continue_after(last, reverse),
                    None => break,
                }
            }
            return Ok(out);
        }
        while out.len() < limit && !range.is_empty() {
            let want = limit - out.len();
            let mut pages = Vec::with_capacity(segments.len());
            for segment in &segments {
                let page = segment.scan(&range, reverse, want)?;
                let full = page.len() == want;
                let page = page.into_iter().map(|(k, v)| (k, Some(v))).collect();
                pages.push((page, full));
            }
            let (merged, boundary) = merge_pages(pages, reverse);
            out.extend(merged.into_iter().filter(|(k, _)| wanted(k)));
            // Complete up to `boundary`; read on past it (expired entries may have been
            // filtered out, or several segments filled their pages).
            match boundary {
                Some(b) => {
                    if reverse {
                        range.to = std::ops::Bound::Excluded(b);
                    } else {
                        range.from = std::ops::Bound::Excluded(b);
                    }
                }
                None => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

impl BytesStore for SegmentedStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.time_of(key)?;
        let segment = {
            let state = self.state()?;
            if !self.live(t, state.observed) {
                return Ok(None);
            }
            state.segments.get(&self.segment_id(t)).cloned()
        };
        match segment {
            Some(segment) => segment.get(key),
            None => Ok(None),
        }
    }

    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: Option<i64>,
    ) -> Result<(), StoreError> {
        let t = self.time_of(key)?;
        let segment = {
            let mut state = self.state()?;
            self.segment_for(&mut state, t)?
        };
        match segment {
            Some(segment) => segment.put(key, value, timestamp),
            None => {
                tracing::debug!(store = %self.name, time = t, "skipping a write to an expired window");
                Ok(())
            }
        }
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.scan_segments(range, reverse, limit, true)
    }

    fn scan_retained(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.scan_segments(range, reverse, limit, false)
    }

    fn visit(&self, range: &ByteRange, reverse: bool, f: Visitor<'_>) -> Result<(), StoreError> {
        let (segments, observed) = self.reachable(range)?;
        match segments.as_slice() {
            [] => Ok(()),
            // One segment lends its entries in order; those past retention are skipped.
            [segment] => segment.visit(range, reverse, &mut |k, v| {
                !self.live_key(k, observed) || f(k, v)
            }),
            // Several: their entries interleave, merged page by page.
            _ => visit_pages(self, range, reverse, f),
        }
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        let segments: Vec<_> = self.state()?.segments.values().cloned().collect();
        let mut total = 0u64;
        for segment in segments {
            total = total.saturating_add(segment.approximate_num_entries()?);
        }
        Ok(total)
    }

    fn flush(&self) -> Result<(), StoreError> {
        let (segments, observed) = {
            let state = self.state()?;
            let segments: Vec<_> = state.segments.values().cloned().collect();
            (segments, state.observed)
        };
        if observed > i64::MIN {
            self.backend.save_observed(observed)?;
        }
        segments.iter().try_for_each(|s| s.flush())
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        let mut by_segment: Vec<(Rc<dyn BytesStore>, Vec<RestoreRecord<'_>>)> = Vec::new();
        {
            let mut state = self.state()?;
            for record in batch {
                let t = self.time_of(record.key)?;
                let Some(segment) = self.segment_for(&mut state, t)? else {
                    continue;
                };
                match by_segment.iter_mut().find(|(s, _)| Rc::ptr_eq(s, &segment)) {
                    Some((_, records)) => records.push(*record),
                    None => by_segment.push((segment, vec![*record])),
                }
            }
            // A later record may have expired segments an earlier one was routed to.
            let live: Vec<_> = state.segments.values().cloned().collect();
            by_segment.retain(|(s, _)| live.iter().any(|l| Rc::ptr_eq(l, s)));
        }
        for (segment, records) in by_segment {
            segment.restore(&records)?;
        }
        Ok(())
    }

    fn close(&self) -> Result<(), StoreError> {
        let (segments, observed) = {
            let state = self.state()?;
            let segments: Vec<_> = state.segments.values().cloned().collect();
            (segments, state.observed)
        };
        if observed > i64::MIN {
            self.backend.save_observed(observed)?;
        }
        for segment in segments {
            segment.close()?;
        }
        self.backend.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bytes_sort_numerically() {
        let times = [i64::MIN, -5, -1, 0, 1, 1_000, i64::MAX];
        for pair in times.windows(2) {
            assert!(encode_time(pair[0]) < encode_time(pair[1]));
        }
        for t in times {
            assert_eq!(decode_time(&encode_time(t)), Some(t));
        }
    }
}
