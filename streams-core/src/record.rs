//! Records, headers and the metadata of the input record being processed.

use std::sync::Arc;

/// One Kafka record header: a key and an optional value (Kafka allows null header values).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// The header key.
    pub key: String,
    /// The header value; `None` is Kafka's null.
    pub value: Option<Vec<u8>>,
}

/// The headers of a record, in order; keys may repeat, as in Kafka.
///
/// An empty `Headers` does not allocate, so records without headers cost nothing extra.
///
/// ```
/// use streams_core::record::Headers;
/// let mut headers = Headers::new();
/// headers.add("trace-id", b"abc".to_vec());
/// headers.add("trace-id", b"def".to_vec());
/// assert_eq!(headers.last_value("trace-id"), Some(&b"def"[..]));
/// assert_eq!(headers.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// No headers.
    pub const fn new() -> Self {
        Headers(Vec::new())
    }

    /// Appends a header with a value.
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.0.push(Header {
            key: key.into(),
            value: Some(value.into()),
        });
        self
    }

    /// Appends a header whose value is null.
    pub fn add_null(&mut self, key: impl Into<String>) -> &mut Self {
        self.0.push(Header {
            key: key.into(),
            value: None,
        });
        self
    }

    /// Removes every header with this key.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.0.retain(|h| h.key != key);
        self
    }

    /// The last header with this key, as Kafka's `Headers.lastHeader`.
    pub fn last(&self, key: &str) -> Option<&Header> {
        self.0.iter().rev().find(|h| h.key == key)
    }

    /// The value of the last header with this key, if it has one.
    pub fn last_value(&self, key: &str) -> Option<&[u8]> {
        self.last(key).and_then(|h| h.value.as_deref())
    }

    /// Every header with this key, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.0.iter().filter(move |h| h.key == key)
    }

    /// All headers, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<T: IntoIterator<Item = Header>>(iter: T) -> Self {
        Headers(iter.into_iter().collect())
    }
}

/// A typed record flowing through a topology: key, value, timestamp (ms since the epoch) and
/// headers — Kafka Streams' `Record<K, V>`.
///
/// The `with_*` methods build a changed copy, so a processor forwards
/// `record.with_value(new_value)` and keeps the timestamp and headers, as in Kafka Streams.
///
/// ```
/// use streams_core::record::Record;
/// let record = Record::new("user-1".to_string(), 3_i64, 1_000);
/// let doubled = record.map_value(|v| v * 2);
/// assert_eq!(doubled.value, 6);
/// assert_eq!(doubled.timestamp, 1_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// The record's timestamp in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The record's headers.
    pub headers: Headers,
}

impl<K, V> Record<K, V> {
    /// A record without headers.
    pub fn new(key: K, value: V, timestamp: i64) -> Self {
        Record {
            key,
            value,
            timestamp,
            headers: Headers::new(),
        }
    }

    /// The same record with another key (of any type).
    pub fn with_key<K2>(self, key: K2) -> Record<K2, V> {
        Record {
            key,
            value: self.value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The same record with another value (of any type).
    pub fn with_value<V2>(self, value: V2) -> Record<K, V2> {
        Record {
            key: self.key,
            value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The same record with another timestamp.
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// The same record with other headers.
    pub fn with_headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    /// Maps the value, keeping key, timestamp and headers.
    pub fn map_value<V2>(self, f: impl FnOnce(V) -> V2) -> Record<K, V2> {
        Record {
            key: self.key,
            value: f(self.value),
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// Maps key and value together, keeping timestamp and headers.
    pub fn map<K2, V2>(self, f: impl FnOnce(K, V) -> (K2, V2)) -> Record<K2, V2> {
        let (key, value) = f(self.key, self.value);
        Record {
            key,
            value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }
}

/// Where the record being processed came from: Kafka Streams' `RecordMetadata`.
///
/// Absent while a punctuation runs, since no input record is being processed then.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordMetadata {
    /// The topic the record was read from.
    pub topic: Arc<str>,
    /// The partition the record was read from.
    pub partition: i32,
    /// The record's offset in its partition.
    pub offset: i64,
}

impl std::fmt::Display for RecordMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}@{}", self.topic, self.partition, self.offset)
    }
}
