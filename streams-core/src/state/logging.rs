//! Changelog logging: a store layer that hands every write to the task's [`ChangelogSink`].

use std::borrow::Cow;
use std::rc::Rc;

use super::bytes::{ByteRange, BytesStore, Entry, FlushListener, RestoreRecord, Visitor};
use super::error::StoreError;

/// One write to a store, as its changelog records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangelogRecord<'a> {
    /// The store written to (its changelog topic is `<application.id>-<store>-changelog`).
    pub store: &'a str,
    /// The changelog key: the store key's bytes; for window and session stores, Kafka Streams'
    /// layouts — the record key, then the window start (big-endian) and a 4-byte sequence
    /// number 0, or the session's end and start (big-endian).
    pub key: &'a [u8],
    /// The new value's bytes; `None` is a tombstone.
    pub value: Option<&'a [u8]>,
    /// The record timestamp to produce with: the value's timestamp for timestamped key-value
    /// stores; `None` means "the timestamp of the record being processed", which the sink
    /// knows.
    pub timestamp: Option<i64>,
}

/// Where a task's stores send their changelog writes; the runtime implements it with the
/// task's producer (one sink per task, writing to the task's partition of each store's
/// changelog topic). Stores call it synchronously on every write that reaches the logging
/// layer — with caching on, that is on cache flush and eviction, so writes are folded per key.
///
/// ```
/// use std::cell::RefCell;
/// use streams_core::state::{ChangelogRecord, ChangelogSink, StoreError};
///
/// #[derive(Default)]
/// struct Recorder(RefCell<Vec<(String, Vec<u8>, Option<Vec<u8>>)>>);
///
/// impl ChangelogSink for Recorder {
///     fn send(&self, record: ChangelogRecord<'_>) -> Result<(), StoreError> {
///         self.0.borrow_mut().push((
///             record.store.to_string(),
///             record.key.to_vec(),
///             record.value.map(<[u8]>::to_vec),
///         ));
///         Ok(())
///     }
/// }
/// ```
pub trait ChangelogSink {
    /// Records one write.
    fn send(&self, record: ChangelogRecord<'_>) -> Result<(), StoreError>;
}

/// How a store's values map to changelog values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueFormat {
    /// Store and changelog values are the same bytes.
    Plain,
    /// The store value is `[timestamp: 8 bytes BE][value]`; the changelog value is the value
    /// alone, with the timestamp as the record's timestamp (as Kafka Streams' timestamped
    /// stores).
    TimestampPrefixed,
}

/// How a store's keys map to changelog keys. Window and session stores keep their timestamps
/// sign-flipped (so byte order is numeric order, negative times included); their changelogs hold
/// Kafka Streams' layouts, so a Kafka Streams application can restore from them and vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFormat {
    /// Store and changelog keys are the same bytes.
    Plain,
    /// Store `[key][start]` ↔ changelog `[key][start][sequence number]`: Kafka Streams'
    /// `WindowKeySchema.toStoreKeyBinary`, big-endian start, sequence number 0 (4 bytes).
    Window,
    /// Store `[key][end][start]` ↔ changelog `[key][end][start]`, big-endian: Kafka Streams'
    /// `SessionKeySchema.toBinary`.
    Session,
    /// Store `[key][start][sequence number]` ↔ changelog the same with a big-endian start: a
    /// window store that keeps duplicates.
    WindowWithSeq,
    /// Store `[time][rest]` ↔ changelog the same with a big-endian time: a time-ordered buffer
    /// (Kafka Streams' `TimeFirstWindowKeySchema`, the grace-period buffer of a stream-table
    /// join).
    TimeFirst,
}

/// Bytes of the sequence number after a window changelog key's start.
const SEQNUM_BYTES: usize = 4;

impl KeyFormat {
    /// Timestamps at the end of a store key.
    fn times(self) -> usize {
        match self {
            KeyFormat::Plain | KeyFormat::TimeFirst => 0,
            KeyFormat::Window | KeyFormat::WindowWithSeq => 1,
            KeyFormat::Session => 2,
        }
    }

    /// Bytes after the timestamps of a store key.
    fn trailer(self) -> usize {
        if self == KeyFormat::WindowWithSeq {
            SEQNUM_BYTES
        } else {
            0
        }
    }

    /// The changelog key of a store key (`None` if the key is too short for its timestamps).
    pub(crate) fn changelog_key(self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        match self {
            KeyFormat::Plain => return Some(Cow::Borrowed(key)),
            KeyFormat::TimeFirst => return flip_first_time(key),
            _ => {}
        }
        let at = key.len().checked_sub(8 * self.times() + self.trailer())?;
        let mut out = Vec::with_capacity(key.len() + SEQNUM_BYTES);
        out.extend_from_slice(key);
        for i in 0..self.times() {
            out[at + 8 * i] ^= 0x80;
        }
        if self == KeyFormat::Window {
            out.extend_from_slice(&[0; SEQNUM_BYTES]);
        }
        Some(Cow::Owned(out))
    }

    /// The store key of a changelog key (`None` if the key is too short for its timestamps).
    pub(crate) fn store_key(self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        match self {
            KeyFormat::Plain => return Some(Cow::Borrowed(key)),
            KeyFormat::TimeFirst => return flip_first_time(key),
            _ => {}
        }
        let key = match self {
            KeyFormat::Window => &key[..key.len().checked_sub(SEQNUM_BYTES)?],
            _ => key,
        };
        let at = key.len().checked_sub(8 * self.times() + self.trailer())?;
        let mut out = key.to_vec();
        for i in 0..self.times() {
            out[at + 8 * i] ^= 0x80;
        }
        Some(Cow::Owned(out))
    }
}

/// A key whose first 8 bytes are a time, with the time's sign bit flipped (store ↔ changelog).
fn flip_first_time(key: &[u8]) -> Option<Cow<'_, [u8]>> {
    if key.len() < 8 {
        return None;
    }
    let mut out = key.to_vec();
    out[0] ^= 0x80;
    Some(Cow::Owned(out))
}

/// Logs every write (and restores through the value format) — Kafka Streams'
/// `ChangeLogging*Store`.
pub(crate) struct LoggingStore {
    name: String,
    inner: Rc<dyn BytesStore>,
    sink: Option<Rc<dyn ChangelogSink>>,
    format: ValueFormat,
    keys: KeyFormat,
}

impl LoggingStore {
    pub(crate) fn new(
        name: &str,
        inner: Rc<dyn BytesStore>,
        sink: Option<Rc<dyn ChangelogSink>>,
        format: ValueFormat,
        keys: KeyFormat,
    ) -> Self {
        LoggingStore {
            name: name.to_string(),
            inner,
            sink,
            format,
            keys,
        }
    }
}

impl BytesStore for LoggingStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }

    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: Option<i64>,
    ) -> Result<(), StoreError> {
        self.inner.put(key, value, timestamp)?;
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let (value, timestamp) = match (self.format, value) {
            (ValueFormat::TimestampPrefixed, Some(v)) => {
                let (ts, rest) = split_timestamp(&self.name, v)?;
                (Some(rest), Some(ts))
            }
            (_, value) => (value, timestamp),
        };
        let key = self.keys.changelog_key(key).ok_or_else(|| {
            StoreError::corrupt(&self.name, "store key shorter than its timestamps")
        })?;
        sink.send(ChangelogRecord {
            store: &self.name,
            key: &key,
            value,
            timestamp,
        })
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan(range, reverse, limit)
    }

    fn scan_retained(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan_retained(range, reverse, limit)
    }

    fn visit(&self, range: &ByteRange, reverse: bool, f: Visitor<'_>) -> Result<(), StoreError> {
        self.inner.visit(range, reverse, f)
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.inner.approximate_num_entries()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn flush_cache(&self) -> Result<(), StoreError> {
        self.inner.flush_cache()
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        match self.format {
            ValueFormat::Plain => self.inner.restore(batch),
            ValueFormat::TimestampPrefixed => {
                let values: Vec<Option<Vec<u8>>> = batch
                    .iter()
                    .map(|r| {
                        r.value.map(|v| {
                            let mut out = Vec::with_capacity(8 + v.len());
                            out.extend_from_slice(&r.timestamp.to_be_bytes());
                            out.extend_from_slice(v);
                            out
                        })
                    })
                    .collect();
                let records: Vec<RestoreRecord<'_>> = batch
                    .iter()
                    .zip(&values)
                    .map(|(r, v)| RestoreRecord {
                        key: r.key,
                        value: v.as_deref(),
                        timestamp: r.timestamp,
                    })
                    .collect();
                self.inner.restore(&records)
            }
        }
    }

    fn set_flush_listener(&self, listener: FlushListener) -> bool {
        self.inner.set_flush_listener(listener)
    }

    fn close(&self) -> Result<(), StoreError> {
        self.inner.close()
    }
}

/// Changelog records with their keys in the store's layout, for restoration through the layers
/// (the record cache invalidates store keys).
pub(crate) fn restore_keys(
    store: &str,
    keys: KeyFormat,
    batch: &[RestoreRecord<'_>],
) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
    if keys == KeyFormat::Plain {
        return Ok(None);
    }
    batch
        .iter()
        .map(|r| {
            keys.store_key(r.key).map(Cow::into_owned).ok_or_else(|| {
                StoreError::corrupt(store, "changelog key shorter than its timestamps")
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Splits a timestamp-prefixed value.
pub(crate) fn split_timestamp<'v>(
    store: &str,
    value: &'v [u8],
) -> Result<(i64, &'v [u8]), StoreError> {
    match value.split_first_chunk::<8>() {
        Some((ts, rest)) => Ok((i64::from_be_bytes(*ts), rest)),
        None => Err(StoreError::corrupt(
            store,
            "timestamped value shorter than its 8-byte timestamp",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::KeyFormat;
    use crate::state::segments::encode_time;

    #[test]
    fn window_and_session_changelog_keys_are_kafka_streams_layouts() {
        // Kafka Streams' window changelog key: key bytes, 8-byte big-endian start, 4-byte
        // sequence number (0 without duplicates).
        let store = [b"A".as_slice(), &encode_time(10_000)].concat();
        let changelog = KeyFormat::Window.changelog_key(&store).unwrap();
        assert_eq!(
            &*changelog,
            [0x41, 0, 0, 0, 0, 0, 0, 0x27, 0x10, 0, 0, 0, 0]
        );
        assert_eq!(&*KeyFormat::Window.store_key(&changelog).unwrap(), store);

        // Session: key bytes, end, start, big-endian.
        let store = [b"A".as_slice(), &encode_time(3_000), &encode_time(1_000)].concat();
        let changelog = KeyFormat::Session.changelog_key(&store).unwrap();
        let mut expected = vec![0x41];
        expected.extend_from_slice(&3_000i64.to_be_bytes());
        expected.extend_from_slice(&1_000i64.to_be_bytes());
        assert_eq!(&*changelog, expected);
        assert_eq!(&*KeyFormat::Session.store_key(&changelog).unwrap(), store);

        // Time first (a join's grace-period buffer): big-endian time, key, sequence number.
        let store = [&encode_time(2_000)[..], b"A", &[0, 0, 0, 1]].concat();
        let changelog = KeyFormat::TimeFirst.changelog_key(&store).unwrap();
        assert_eq!(
            &*changelog,
            [0, 0, 0, 0, 0, 0, 0x07, 0xd0, 0x41, 0, 0, 0, 1]
        );
        assert_eq!(&*KeyFormat::TimeFirst.store_key(&changelog).unwrap(), store);
        assert!(KeyFormat::TimeFirst.store_key(b"short").is_none());

        assert_eq!(&*KeyFormat::Plain.changelog_key(b"k").unwrap(), b"k");
        assert!(KeyFormat::Window.changelog_key(b"short").is_none());
        assert!(KeyFormat::Window.store_key(b"0123456789a").is_none());
        assert!(KeyFormat::Session.store_key(b"0123456789abcde").is_none());
    }
}
