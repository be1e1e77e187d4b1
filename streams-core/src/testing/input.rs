use std::cell::{Cell, RefCell};
use std::time::Duration;

use crate::codec::{Codec, CodecError};
use crate::error::{RecordPart, StreamsError};
use crate::record::{Headers, Record};

use super::driver::TopologyTestDriver;

/// Encodes with a codec behind a pointer.
pub(super) trait Encode<T> {
    fn encode_into(&self, value: &T, buf: &mut Vec<u8>) -> Result<bool, CodecError>;
}

impl<T, C: Codec<T>> Encode<T> for C {
    fn encode_into(&self, value: &T, buf: &mut Vec<u8>) -> Result<bool, CodecError> {
        Ok(self.encode_nullable(value, buf)?.is_some())
    }
}

/// Pipes typed records into one topic of a [`TopologyTestDriver`] — Kafka Streams'
/// `TestInputTopic`. Each record is encoded with the topic's codecs and processed before the
/// call returns; an error from any stage comes back as a [`StreamsError`].
pub struct TestInputTopic<'d, K, V> {
    driver: &'d TopologyTestDriver,
    topic: String,
    key_codec: Box<dyn Encode<K>>,
    value_codec: Box<dyn Encode<V>>,
    key_buf: RefCell<Vec<u8>>,
    value_buf: RefCell<Vec<u8>>,
    time: Cell<i64>,
    auto_advance: i64,
}

impl<K, V> std::fmt::Debug for TestInputTopic<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestInputTopic")
            .field("topic", &self.topic)
            .field("time", &self.time.get())
            .finish()
    }
}

impl<'d, K: 'static, V: 'static> TestInputTopic<'d, K, V> {
    pub(super) fn new(
        driver: &'d TopologyTestDriver,
        topic: &str,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
        start_ms: i64,
        auto_advance: Duration,
    ) -> Self {
        TestInputTopic {
            driver,
            topic: topic.to_string(),
            key_codec: Box::new(key_codec),
            value_codec: Box::new(value_codec),
            key_buf: RefCell::new(Vec::new()),
            value_buf: RefCell::new(Vec::new()),
            time: Cell::new(start_ms),
            auto_advance: i64::try_from(auto_advance.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    fn next_time(&self) -> i64 {
        let t = self.time.get();
        self.time.set(t.saturating_add(self.auto_advance));
        t
    }

    /// Moves this topic's record time forward.
    pub fn advance_time(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.time.set(self.time.get().saturating_add(by));
    }

    fn encode_error(&self, part: RecordPart, source: CodecError) -> StreamsError {
        StreamsError::Serialization {
            node: "TestInputTopic".to_string(),
            topic: self.topic.clone(),
            part,
            source,
        }
    }

    fn send(
        &self,
        key: Option<&K>,
        value: &V,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        let mut key_buf = self.key_buf.borrow_mut();
        let mut value_buf = self.value_buf.borrow_mut();
        let key_present = match key {
            Some(k) => self
                .key_codec
                .encode_into(k, &mut key_buf)
                .map_err(|e| self.encode_error(RecordPart::Key, e))?,
            None => false,
        };
        let value_present = self
            .value_codec
            .encode_into(value, &mut value_buf)
            .map_err(|e| self.encode_error(RecordPart::Value, e))?;
        self.driver.pipe(
            &self.topic,
            key_present.then_some(key_buf.as_slice()),
            value_present.then_some(value_buf.as_slice()),
            timestamp,
            headers,
        )
    }

    /// Pipes a key and value at this topic's current time (then auto-advances it).
    pub fn pipe_input(&self, key: K, value: V) -> Result<(), StreamsError> {
        let t = self.next_time();
        self.send(Some(&key), &value, t, Headers::new())
    }

    /// Pipes a key and value with an explicit timestamp.
    pub fn pipe_input_at(&self, key: K, value: V, timestamp: i64) -> Result<(), StreamsError> {
        self.send(Some(&key), &value, timestamp, Headers::new())
    }

    /// Pipes a value with a null key.
    pub fn pipe_value(&self, value: V) -> Result<(), StreamsError> {
        let t = self.next_time();
        self.send(None, &value, t, Headers::new())
    }

    /// Pipes a whole record: key, value, timestamp and headers.
    pub fn pipe_record(&self, record: Record<K, V>) -> Result<(), StreamsError> {
        self.send(
            Some(&record.key),
            &record.value,
            record.timestamp,
            record.headers,
        )
    }

    /// Pipes key-value pairs in order, each at the topic's current time.
    pub fn pipe_key_value_list(
        &self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), StreamsError> {
        pairs
            .into_iter()
            .try_for_each(|(k, v)| self.pipe_input(k, v))
    }

    /// Pipes records in order.
    pub fn pipe_records(
        &self,
        records: impl IntoIterator<Item = Record<K, V>>,
    ) -> Result<(), StreamsError> {
        records.into_iter().try_for_each(|r| self.pipe_record(r))
    }
}
