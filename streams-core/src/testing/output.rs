use std::collections::HashMap;
use std::hash::Hash;

use crate::codec::{Codec, CodecError};
use crate::error::RecordPart;
use crate::record::Record;

use super::captured::CapturedRecord;
use super::driver::TopologyTestDriver;

/// Why a [`TestOutputTopic`] read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Nothing (more) was written to the topic.
    #[error("no record in output topic `{topic}`")]
    Empty {
        /// The topic.
        topic: String,
    },
    /// A record's key or value does not decode with the topic's codecs.
    #[error("cannot decode the {part} of a record in output topic `{topic}`: {source}")]
    Decode {
        /// The topic.
        topic: String,
        /// Key or value.
        part: RecordPart,
        /// Why.
        source: CodecError,
    },
}

trait Decode<T> {
    fn decode_from(&self, bytes: Option<&[u8]>) -> Result<T, CodecError>;
}

impl<T, C: Codec<T>> Decode<T> for C {
    fn decode_from(&self, bytes: Option<&[u8]>) -> Result<T, CodecError> {
        self.decode_nullable(bytes)
    }
}

/// Reads, in order, the records sinks wrote to one topic — Kafka Streams' `TestOutputTopic`.
/// Reading consumes: each record is returned once.
pub struct TestOutputTopic<'d, K, V> {
    driver: &'d TopologyTestDriver,
    topic: String,
    key_codec: Box<dyn Decode<K>>,
    value_codec: Box<dyn Decode<V>>,
}

impl<K, V> std::fmt::Debug for TestOutputTopic<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestOutputTopic")
            .field("topic", &self.topic)
            .finish()
    }
}

impl<'d, K: 'static, V: 'static> TestOutputTopic<'d, K, V> {
    pub(super) fn new(
        driver: &'d TopologyTestDriver,
        topic: &str,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Self {
        TestOutputTopic {
            driver,
            topic: topic.to_string(),
            key_codec: Box::new(key_codec),
            value_codec: Box::new(value_codec),
        }
    }

    fn decode(&self, p: CapturedRecord<'_>) -> Result<Record<K, V>, ReadError> {
        let error = |part, source| ReadError::Decode {
            topic: self.topic.clone(),
            part,
            source,
        };
        Ok(Record {
            key: self
                .key_codec
                .decode_from(p.key)
                .map_err(|e| error(RecordPart::Key, e))?,
            value: self
                .value_codec
                .decode_from(p.value)
                .map_err(|e| error(RecordPart::Value, e))?,
            timestamp: p.timestamp,
            headers: p.headers,
        })
    }

    /// The next record: key, value, timestamp and headers.
    pub fn read_record(&self) -> Result<Record<K, V>, ReadError> {
        self.driver
            .with_output(&self.topic, |q| q.pop_front_with(|r| self.decode(r)))
            .unwrap_or_else(|| {
                Err(ReadError::Empty {
                    topic: self.topic.clone(),
                })
            })
    }

    /// The next record's key and value.
    pub fn read_key_value(&self) -> Result<(K, V), ReadError> {
        self.read_record().map(|r| (r.key, r.value))
    }

    /// The next record's value.
    pub fn read_value(&self) -> Result<V, ReadError> {
        self.read_record().map(|r| r.value)
    }

    /// All remaining records. A record that does not decode stops the read with its error;
    /// the records after it stay queued.
    pub fn read_records_to_list(&self) -> Result<Vec<Record<K, V>>, ReadError> {
        // Decode in place: the queue keeps its capacity for the records written next.
        self.driver.with_output(&self.topic, |queue| {
            let mut all = Vec::with_capacity(queue.len());
            // The records after a bad one stay queued.
            while let Some(record) = queue.pop_front_with(|r| self.decode(r)) {
                all.push(record?);
            }
            Ok(all)
        })
    }

    /// All remaining keys and values.
    pub fn read_key_values_to_list(&self) -> Result<Vec<(K, V)>, ReadError> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|r| (r.key, r.value))
            .collect())
    }

    /// All remaining values.
    pub fn read_values_to_list(&self) -> Result<Vec<V>, ReadError> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|r| r.value)
            .collect())
    }

    /// All remaining records folded into a map: the latest value per key wins.
    pub fn read_key_values_to_map(&self) -> Result<HashMap<K, V>, ReadError>
    where
        K: Eq + Hash,
    {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|r| (r.key, r.value))
            .collect())
    }

    /// Whether every record has been read.
    pub fn is_empty(&self) -> bool {
        self.queue_size() == 0
    }

    /// How many records are left to read.
    pub fn queue_size(&self) -> usize {
        self.driver.with_output(&self.topic, |q| q.len())
    }
}
