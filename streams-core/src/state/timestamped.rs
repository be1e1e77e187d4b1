//! Timestamped key-value stores: each value with the timestamp of the record that last wrote it,
//! as KTables keep them.

use crate::codec::{Codec, CodecError};

use super::key_value::KeyValueStore;

/// A value and its timestamp (ms) — Kafka Streams' `ValueAndTimestamp<V>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ValueAndTimestamp<V> {
    /// The value.
    pub value: V,
    /// The timestamp of the record that wrote it.
    pub timestamp: i64,
}

impl<V> ValueAndTimestamp<V> {
    /// Pairs a value with its timestamp.
    pub fn make(value: V, timestamp: i64) -> Self {
        ValueAndTimestamp { value, timestamp }
    }
}

/// A key-value store of [`ValueAndTimestamp`]s — Kafka Streams' `TimestampedKeyValueStore`,
/// which likewise is a `KeyValueStore<K, ValueAndTimestamp<V>>`.
///
/// ```
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::state::{TimestampedKeyValueStore, ValueAndTimestampCodec, ValueAndTimestamp};
///
/// let table: TimestampedKeyValueStore<String, i64> =
///     TimestampedKeyValueStore::in_memory("table", Utf8, ValueAndTimestampCodec(I64));
/// table.put(&"k".to_string(), &ValueAndTimestamp::make(7, 1_000)).unwrap();
/// let got = table.get(&"k".to_string()).unwrap().unwrap();
/// assert_eq!((got.value, got.timestamp), (7, 1_000));
/// ```
pub type TimestampedKeyValueStore<K, V> = KeyValueStore<K, ValueAndTimestamp<V>>;

/// Encodes a [`ValueAndTimestamp`] as the timestamp (8 bytes, big-endian) followed by the value
/// as `C` encodes it — the layout of Kafka Streams' timestamped stores. A value `C` writes as
/// null makes the whole entry null (a delete).
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueAndTimestampCodec<C>(pub C);

impl<V, C: Codec<V>> Codec<ValueAndTimestamp<V>> for ValueAndTimestampCodec<C> {
    fn encode(&self, value: &ValueAndTimestamp<V>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        buf.extend_from_slice(&value.timestamp.to_be_bytes());
        self.0.encode(&value.value, buf)
    }

    fn decode(&self, bytes: &[u8]) -> Result<ValueAndTimestamp<V>, CodecError> {
        let Some((ts, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(CodecError::Size {
                type_name: std::any::type_name::<ValueAndTimestamp<V>>(),
                expected: 8,
                actual: bytes.len(),
            });
        };
        Ok(ValueAndTimestamp {
            value: self.0.decode(rest)?,
            timestamp: i64::from_be_bytes(*ts),
        })
    }

    fn is_null(&self, value: &ValueAndTimestamp<V>) -> bool {
        self.0.is_null(&value.value)
    }
}
