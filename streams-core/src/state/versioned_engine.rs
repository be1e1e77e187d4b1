//! The bytes layers of versioned key-value stores (Kafka Streams' `RocksDBVersionedStore` and
//! `ChangeLoggingVersionedKeyValueBytesStore`): every version of a key, each valid from its own
//! timestamp until the next version's.
//!
//! Layout, on either engine (a `BTreeMap` or a RocksDB database):
//!
//! - the **latest store** (RocksDB: column family `latest-values`) holds each key's newest
//!   version if it is a value: `[key] → [valid from: 8 bytes BE][value]`. The newest version
//!   never expires, however old.
//! - **history segments** (RocksDB: a column family `segment-<id>` each) hold the older versions
//!   and newest tombstones, in the segment of their *valid-to* time (`valid_to / segment
//!   interval`): `[key length: 4 bytes BE][key][valid from: 8 bytes, sign-flipped BE] →
//!   [valid to: 8 bytes BE][1: value | 0: tombstone][value]`. A newest tombstone has no
//!   successor; it is stored with valid-to = valid-from. Valid-to grows with valid-from, so a
//!   newer segment only holds newer versions: a reverse seek per segment, newest segment first,
//!   finds the version as of a time.
//!
//! Stream time is the largest timestamp written. Segments whose versions all ended before
//! `stream time − history retention` are dropped whole; writes older than that bound are refused
//! ([`PutOutcome::Expired`]) and reads older than it see only the newest version.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;

use super::bytes::{ByteRange, BytesStore, RestoreRecord};
use super::error::StoreError;
use super::logging::{ChangelogRecord, ChangelogSink};
use super::segments::{SegmentBackend, decode_time, encode_time};
use super::versioned::PutOutcome;

/// A version as stored: value bytes, valid from (inclusive), valid to (exclusive; `None` for the
/// newest version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawVersion {
    pub(crate) value: Vec<u8>,
    pub(crate) valid_from: i64,
    pub(crate) valid_to: Option<i64>,
}

/// What a delete did: whether it was written (not older than the history retention), and the
/// version it replaced as of its timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deletion {
    pub(crate) performed: bool,
    pub(crate) previous: Option<RawVersion>,
}

/// A versioned store of bytes. Engines are at the bottom, [`VersionedLogging`] wraps one.
pub(crate) trait VersionedBytesStore {
    /// Writes a version of `key` valid from `timestamp` (`None`: a tombstone).
    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<PutOutcome, StoreError>;

    /// Writes a tombstone at `timestamp`; returns the version it replaced as of `timestamp`.
    fn delete(&self, key: &[u8], timestamp: i64) -> Result<Deletion, StoreError>;

    /// The newest version, if it is a value.
    fn get(&self, key: &[u8]) -> Result<Option<RawVersion>, StoreError>;

    /// The version valid at `as_of`, if it is a value.
    fn get_as_of(&self, key: &[u8], as_of: i64) -> Result<Option<RawVersion>, StoreError>;

    /// Writes buffered state down (and the stream time, for a reopened store).
    fn flush(&self) -> Result<(), StoreError>;

    /// Replays changelog records (key, value or tombstone, timestamp = valid from), in order,
    /// without logging them.
    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError>;

    /// Flushes and releases the engine.
    fn close(&self) -> Result<(), StoreError>;
}

/// A version found in a history segment.
struct HistoryEntry {
    segment: i64,
    valid_from: i64,
    valid_to: i64,
    value: Option<Vec<u8>>,
}

struct EngineState {
    segments: BTreeMap<i64, Rc<dyn BytesStore>>,
    /// The largest timestamp written (`i64::MIN` before any).
    observed: i64,
}

/// The versioned engine; see the [module docs](self).
pub(crate) struct VersionedEngine {
    name: String,
    history_ms: i64,
    segment_interval_ms: i64,
    latest: Rc<dyn BytesStore>,
    backend: Box<dyn SegmentBackend>,
    state: RefCell<EngineState>,
}

/// Bytes of a history value before the value itself: valid-to and the value/tombstone tag.
const HISTORY_HEADER: usize = 9;

impl VersionedEngine {
    /// Kafka Streams' default segment interval for a history retention (ms).
    pub(crate) fn default_segment_interval(history_ms: i64) -> i64 {
        if history_ms <= 60_000 {
            (history_ms / 3).max(2_000)
        } else if history_ms <= 300_000 {
            (history_ms / 5).max(20_000)
        } else if history_ms <= 3_600_000 {
            (history_ms / 12).max(60_000)
        } else {
            (history_ms / 24).max(300_000)
        }
    }

    /// Opens the engine over a latest store and a segment backend (reopening the segments and
    /// stream time a persistent backend kept).
    pub(crate) fn open(
        name: &str,
        history_ms: i64,
        segment_interval_ms: i64,
        latest: Rc<dyn BytesStore>,
        backend: Box<dyn SegmentBackend>,
    ) -> Result<Self, StoreError> {
        let interval = segment_interval_ms.max(1);
        let mut segments = BTreeMap::new();
        for id in backend.existing()? {
            segments.insert(id, backend.open(id)?);
        }
        // Without a saved stream time, the newest segment's start is a lower bound of it (every
        // valid-to is the timestamp of a write).
        let observed = match backend.load_observed()? {
            Some(t) => t,
            None => segments
                .keys()
                .next_back()
                .map_or(i64::MIN, |id| id.saturating_mul(interval)),
        };
        Ok(VersionedEngine {
            name: name.to_string(),
            history_ms,
            segment_interval_ms: interval,
            latest,
            backend,
            state: RefCell::new(EngineState { segments, observed }),
        })
    }

    fn state(&self) -> Result<std::cell::RefMut<'_, EngineState>, StoreError> {
        self.state
            .try_borrow_mut()
            .map_err(|_| StoreError::reentrant(&self.name))
    }

    fn segment_id(&self, t: i64) -> i64 {
        t.div_euclid(self.segment_interval_ms)
    }

    /// The oldest timestamp still within the history retention.
    fn bound(&self, observed: i64) -> i64 {
        observed.saturating_sub(self.history_ms)
    }

    /// Moves stream time to `t` and drops the segments whose versions all ended before the
    /// history bound.
    fn advance(&self, state: &mut EngineState, t: i64) -> Result<(), StoreError> {
        if t <= state.observed {
            return Ok(());
        }
        state.observed = t;
        let first_live = self.segment_id(self.bound(t));
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

    fn corrupt(&self, what: &str) -> StoreError {
        StoreError::corrupt(&self.name, what)
    }

    fn latest_get(&self, key: &[u8]) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        match self.latest.get(key)? {
            None => Ok(None),
            Some(mut bytes) => {
                let Some((ts, _)) = bytes.split_first_chunk::<8>() else {
                    return Err(self.corrupt("latest value shorter than its 8-byte timestamp"));
                };
                let ts = i64::from_be_bytes(*ts);
                bytes.drain(..8);
                Ok(Some((ts, bytes)))
            }
        }
    }

    fn latest_put(&self, key: &[u8], valid_from: i64, value: &[u8]) -> Result<(), StoreError> {
        let mut bytes = Vec::with_capacity(8 + value.len());
        bytes.extend_from_slice(&valid_from.to_be_bytes());
        bytes.extend_from_slice(value);
        self.latest.put(key, Some(&bytes), None)
    }

    fn history_key(key: &[u8], valid_from: i64) -> Vec<u8> {
        let mut out = history_prefix(key);
        out.extend_from_slice(&encode_time(valid_from));
        out
    }

    fn decode_history(
        &self,
        segment: i64,
        prefix_len: usize,
        (key, value): (Vec<u8>, Vec<u8>),
    ) -> Result<HistoryEntry, StoreError> {
        let valid_from = key
            .get(prefix_len..)
            .and_then(decode_time)
            .ok_or_else(|| self.corrupt("history key without its 8-byte valid-from time"))?;
        if value.len() < HISTORY_HEADER {
            return Err(self.corrupt("history value shorter than its 9-byte header"));
        }
        let mut valid_to = [0; 8];
        valid_to.copy_from_slice(&value[..8]);
        let value = match value[8] {
            0 => None,
            1 => Some(value[HISTORY_HEADER..].to_vec()),
            _ => return Err(self.corrupt("history value with an unknown tag")),
        };
        Ok(HistoryEntry {
            segment,
            valid_from,
            valid_to: i64::from_be_bytes(valid_to),
            value,
        })
    }

    /// The history version of `key` with the largest valid-from ≤ `t`, searching the segments
    /// from `min_segment` on (newest first: the first hit is the largest).
    fn predecessor(
        &self,
        segments: &[(i64, Rc<dyn BytesStore>)],
        key: &[u8],
        t: i64,
        min_segment: i64,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let prefix = history_prefix(key);
        let range =
            ByteRange::inclusive(Self::history_key(key, i64::MIN), Self::history_key(key, t));
        for (id, segment) in segments.iter().rev() {
            if *id < min_segment {
                break;
            }
            if let Some(entry) = segment.scan(&range, true, 1)?.pop() {
                return self.decode_history(*id, prefix.len(), entry).map(Some);
            }
        }
        Ok(None)
    }

    /// The history version of `key` with the smallest valid-from > `t` (oldest segment that can
    /// hold one first: the first hit is the smallest).
    fn successor(
        &self,
        segments: &[(i64, Rc<dyn BytesStore>)],
        key: &[u8],
        t: i64,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        if t == i64::MAX {
            return Ok(None);
        }
        let prefix = history_prefix(key);
        let range = ByteRange {
            from: Bound::Excluded(Self::history_key(key, t)),
            to: Bound::Included(Self::history_key(key, i64::MAX)),
        };
        let first = self.segment_id(t);
        for (id, segment) in segments {
            if *id < first {
                continue;
            }
            if let Some(entry) = segment.scan(&range, false, 1)?.pop() {
                return self.decode_history(*id, prefix.len(), entry).map(Some);
            }
        }
        Ok(None)
    }

    fn history_put(
        &self,
        state: &mut EngineState,
        key: &[u8],
        valid_from: i64,
        valid_to: i64,
        value: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let id = self.segment_id(valid_to);
        if id < self.segment_id(self.bound(state.observed)) {
            tracing::debug!(store = %self.name, valid_to, "skipping a version that ended before the history retention");
            return Ok(());
        }
        let segment = match state.segments.get(&id) {
            Some(segment) => Rc::clone(segment),
            None => {
                let segment = self.backend.open(id)?;
                state.segments.insert(id, Rc::clone(&segment));
                segment
            }
        };
        let mut bytes = Vec::with_capacity(HISTORY_HEADER + value.map_or(0, <[u8]>::len));
        bytes.extend_from_slice(&valid_to.to_be_bytes());
        match value {
            Some(v) => {
                bytes.push(1);
                bytes.extend_from_slice(v);
            }
            None => bytes.push(0),
        }
        segment.put(&Self::history_key(key, valid_from), Some(&bytes), None)
    }

    fn history_remove(
        &self,
        state: &EngineState,
        key: &[u8],
        entry: &HistoryEntry,
    ) -> Result<(), StoreError> {
        match state.segments.get(&entry.segment) {
            Some(segment) => segment.put(&Self::history_key(key, entry.valid_from), None, None),
            None => Ok(()),
        }
    }

    /// Makes `(valid_from, value)` the newest version (a tombstone goes to the history).
    fn put_newest(
        &self,
        state: &mut EngineState,
        key: &[u8],
        valid_from: i64,
        value: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        match value {
            Some(value) => self.latest_put(key, valid_from, value),
            None => {
                self.latest.put(key, None, None)?;
                self.history_put(state, key, valid_from, valid_from, None)
            }
        }
    }

    fn segments(state: &EngineState) -> Vec<(i64, Rc<dyn BytesStore>)> {
        state
            .segments
            .iter()
            .map(|(id, s)| (*id, Rc::clone(s)))
            .collect()
    }

    fn do_put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<PutOutcome, StoreError> {
        let mut state = self.state()?;
        if timestamp < self.bound(state.observed) {
            tracing::debug!(store = %self.name, timestamp, "skipping a write older than the history retention");
            return Ok(PutOutcome::Expired);
        }
        self.advance(&mut state, timestamp)?;
        let latest = self.latest_get(key)?;
        if let Some((from, old)) = &latest
            && *from <= timestamp
        {
            if *from < timestamp {
                self.history_put(&mut state, key, *from, timestamp, Some(old))?;
            }
            self.put_newest(&mut state, key, timestamp, value)?;
            return Ok(PutOutcome::Latest);
        }
        let segments = Self::segments(&state);
        let predecessor = self.predecessor(&segments, key, timestamp, i64::MIN)?;
        // History versions are all older than the latest store's.
        let successor = match self.successor(&segments, key, timestamp)? {
            Some(entry) => Some(entry.valid_from),
            None => latest.map(|(from, _)| from),
        };
        if let Some(p) = predecessor {
            if p.valid_from == timestamp {
                self.history_remove(&state, key, &p)?;
            } else if p.valid_to != timestamp {
                self.history_remove(&state, key, &p)?;
                self.history_put(&mut state, key, p.valid_from, timestamp, p.value.as_deref())?;
            }
        }
        match successor {
            Some(valid_to) => {
                self.history_put(&mut state, key, timestamp, valid_to, value)?;
                Ok(PutOutcome::ValidTo(valid_to))
            }
            None => {
                self.put_newest(&mut state, key, timestamp, value)?;
                Ok(PutOutcome::Latest)
            }
        }
    }
}

/// `[key length: 4 bytes BE][key]`: the prefix of one key's history entries (the length keeps a
/// key's versions apart from a longer key's).
fn history_prefix(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + key.len() + 8);
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out
}

impl VersionedBytesStore for VersionedEngine {
    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<PutOutcome, StoreError> {
        self.do_put(key, value, timestamp)
    }

    fn delete(&self, key: &[u8], timestamp: i64) -> Result<Deletion, StoreError> {
        {
            let state = self.state()?;
            if timestamp < self.bound(state.observed) {
                return Ok(Deletion {
                    performed: false,
                    previous: None,
                });
            }
        }
        let previous = self.get_as_of(key, timestamp)?;
        let outcome = self.do_put(key, None, timestamp)?;
        Ok(Deletion {
            performed: outcome != PutOutcome::Expired,
            previous,
        })
    }

    fn get(&self, key: &[u8]) -> Result<Option<RawVersion>, StoreError> {
        Ok(self.latest_get(key)?.map(|(valid_from, value)| RawVersion {
            value,
            valid_from,
            valid_to: None,
        }))
    }

    fn get_as_of(&self, key: &[u8], as_of: i64) -> Result<Option<RawVersion>, StoreError> {
        let (segments, observed) = {
            let state = self.state()?;
            (Self::segments(&state), state.observed)
        };
        if let Some((valid_from, value)) = self.latest_get(key)?
            && valid_from <= as_of
        {
            return Ok(Some(RawVersion {
                value,
                valid_from,
                valid_to: None,
            }));
        }
        if as_of < self.bound(observed) {
            // Older than the history retention: only the newest version is still answered for.
            return Ok(None);
        }
        let found = self.predecessor(&segments, key, as_of, self.segment_id(as_of))?;
        Ok(match found {
            Some(HistoryEntry {
                valid_from,
                valid_to,
                value: Some(value),
                ..
            }) if valid_to > as_of => Some(RawVersion {
                value,
                valid_from,
                valid_to: Some(valid_to),
            }),
            _ => None,
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        let (segments, observed) = {
            let state = self.state()?;
            (Self::segments(&state), state.observed)
        };
        if observed > i64::MIN {
            self.backend.save_observed(observed)?;
        }
        self.latest.flush()?;
        segments.iter().try_for_each(|(_, s)| s.flush())
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        for record in batch {
            self.do_put(record.key, record.value, record.timestamp)?;
        }
        Ok(())
    }

    fn close(&self) -> Result<(), StoreError> {
        self.flush()?;
        let segments = Self::segments(&*self.state()?);
        for (_, segment) in segments {
            segment.close()?;
        }
        self.latest.close()?;
        self.backend.close()
    }
}

/// Logs every write the store takes (value or tombstone, with its timestamp as the record's) —
/// Kafka Streams' `ChangeLoggingVersionedKeyValueBytesStore`. Writes refused as older than the
/// history retention are not logged (restoring them would refuse them again).
pub(crate) struct VersionedLogging {
    name: String,
    inner: Rc<dyn VersionedBytesStore>,
    sink: Option<Rc<dyn ChangelogSink>>,
}

impl VersionedLogging {
    pub(crate) fn new(
        name: &str,
        inner: Rc<dyn VersionedBytesStore>,
        sink: Option<Rc<dyn ChangelogSink>>,
    ) -> Self {
        VersionedLogging {
            name: name.to_string(),
            inner,
            sink,
        }
    }

    fn log(&self, key: &[u8], value: Option<&[u8]>, timestamp: i64) -> Result<(), StoreError> {
        match &self.sink {
            Some(sink) => sink.send(ChangelogRecord {
                store: &self.name,
                key,
                value,
                timestamp: Some(timestamp),
            }),
            None => Ok(()),
        }
    }
}

impl VersionedBytesStore for VersionedLogging {
    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<PutOutcome, StoreError> {
        let outcome = self.inner.put(key, value, timestamp)?;
        if outcome != PutOutcome::Expired {
            self.log(key, value, timestamp)?;
        }
        Ok(outcome)
    }

    fn delete(&self, key: &[u8], timestamp: i64) -> Result<Deletion, StoreError> {
        let deletion = self.inner.delete(key, timestamp)?;
        if deletion.performed {
            self.log(key, None, timestamp)?;
        }
        Ok(deletion)
    }

    fn get(&self, key: &[u8]) -> Result<Option<RawVersion>, StoreError> {
        self.inner.get(key)
    }

    fn get_as_of(&self, key: &[u8], as_of: i64) -> Result<Option<RawVersion>, StoreError> {
        self.inner.get_as_of(key, as_of)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        self.inner.restore(batch)
    }

    fn close(&self) -> Result<(), StoreError> {
        self.inner.close()
    }
}
