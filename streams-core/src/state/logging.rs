//! Changelog logging: a store layer that hands every write to the task's [`ChangelogSink`].

use std::rc::Rc;

use super::bytes::{ByteRange, BytesStore, Entry, FlushListener, RestoreRecord};
use super::error::StoreError;

/// One write to a store, as its changelog records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangelogRecord<'a> {
    /// The store written to (its changelog topic is `<application.id>-<store>-changelog`).
    pub store: &'a str,
    /// The changelog key: the store key's bytes (for window and session stores, the record key
    /// followed by the window's timestamps).
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

/// Logs every write (and restores through the value format) — Kafka Streams'
/// `ChangeLogging*Store`.
pub(crate) struct LoggingStore {
    name: String,
    inner: Rc<dyn BytesStore>,
    sink: Option<Rc<dyn ChangelogSink>>,
    format: ValueFormat,
}

impl LoggingStore {
    pub(crate) fn new(
        name: &str,
        inner: Rc<dyn BytesStore>,
        sink: Option<Rc<dyn ChangelogSink>>,
        format: ValueFormat,
    ) -> Self {
        LoggingStore {
            name: name.to_string(),
            inner,
            sink,
            format,
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
        sink.send(ChangelogRecord {
            store: &self.name,
            key,
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
