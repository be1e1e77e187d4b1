//! Record time: which timestamp a record carries through the topology.
//!
//! By default a record's time is the Kafka record timestamp ([`RecordTimestamp`]). A source can
//! take event time from the key or value instead, with a closure or a type implementing
//! [`TimestampExtractor`]. A negative timestamp is invalid; what happens then is the source's
//! [`InvalidTimestampPolicy`] — fail by default, as Kafka Streams' `FailOnInvalidTimestamp`.

/// Chooses the timestamp of a consumed record, as Kafka Streams' `TimestampExtractor`.
///
/// `record_timestamp` is the Kafka record timestamp; `partition_time` is the highest timestamp
/// seen so far on the record's partition (-1 before the first).
///
/// Any `Fn(&K, &V, i64, i64) -> i64` is an extractor:
/// ```
/// use streams_core::timestamp::TimestampExtractor;
/// struct Click { at_ms: i64 }
/// let event_time = |_k: &String, v: &Click, _record_ts: i64, _partition_time: i64| v.at_ms;
/// assert_eq!(event_time.extract(&"k".to_string(), &Click { at_ms: 5 }, 9, -1), 5);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a timestamp extractor for keys `{K}` and values `{V}`",
    note = "use a closure `|key: &K, value: &V, record_ts: i64, partition_time: i64| -> i64`"
)]
pub trait TimestampExtractor<K, V>: Send + Sync + 'static {
    /// The timestamp to give this record; negative means invalid.
    fn extract(&self, key: &K, value: &V, record_timestamp: i64, partition_time: i64) -> i64;
}

/// The Kafka record timestamp (producer or log-append time): the default extractor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordTimestamp;

impl<K, V> TimestampExtractor<K, V> for RecordTimestamp {
    fn extract(&self, _key: &K, _value: &V, record_timestamp: i64, _partition_time: i64) -> i64 {
        record_timestamp
    }
}

impl<K, V, F> TimestampExtractor<K, V> for F
where
    F: Fn(&K, &V, i64, i64) -> i64 + Send + Sync + 'static,
{
    fn extract(&self, key: &K, value: &V, record_timestamp: i64, partition_time: i64) -> i64 {
        self(key, value, record_timestamp, partition_time)
    }
}

/// What a source does with a record whose extracted timestamp is negative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidTimestampPolicy {
    /// Stop with [`StreamsError::InvalidTimestamp`](crate::error::StreamsError::InvalidTimestamp)
    /// (Kafka Streams' `FailOnInvalidTimestamp`, the default).
    #[default]
    Fail,
    /// Drop the record with a warning in the log (`LogAndSkipOnInvalidTimestamp`).
    LogAndSkip,
    /// Use the partition's time instead; fail if the partition has no time yet
    /// (`UsePartitionTimeOnInvalidTimestamp`).
    UsePartitionTime,
}
