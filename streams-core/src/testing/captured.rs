//! What sinks wrote in the test driver, as bytes: records in a queue, their keys and values in
//! one growing buffer, so capturing a record allocates nothing once the buffer has grown.

use std::collections::VecDeque;

use crate::record::Headers;

/// One captured record; its key and value are ranges of the owning [`Captured::bytes`].
#[derive(Debug)]
struct Entry {
    /// The interned topic (see the driver's collector).
    topic: usize,
    has_key: bool,
    has_value: bool,
    start: usize,
    key_len: usize,
    value_len: usize,
    timestamp: i64,
    headers: Headers,
}

/// A captured record, borrowed from its buffer.
#[derive(Debug)]
pub(crate) struct CapturedRecord<'a> {
    pub(crate) topic: usize,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) timestamp: i64,
    pub(crate) headers: Headers,
}

/// Records in write order, their bytes in one buffer that is emptied (keeping its capacity)
/// whenever the last record is taken.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    bytes: Vec<u8>,
    entries: VecDeque<Entry>,
}

impl Captured {
    /// Appends a record of this buffer's own topic.
    pub(crate) fn push(
        &mut self,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: Headers,
    ) {
        self.push_to(0, key, value, timestamp, headers);
    }

    /// Appends a record of topic `topic` (an index the owner gives meaning to).
    pub(crate) fn push_to(
        &mut self,
        topic: usize,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: Headers,
    ) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key.unwrap_or_default());
        self.bytes.extend_from_slice(value.unwrap_or_default());
        self.entries.push_back(Entry {
            topic,
            has_key: key.is_some(),
            has_value: value.is_some(),
            start,
            key_len: key.map_or(0, <[u8]>::len),
            value_len: value.map_or(0, <[u8]>::len),
            timestamp,
            headers,
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Takes the oldest record and hands it to `f`.
    pub(crate) fn pop_front_with<R>(
        &mut self,
        f: impl FnOnce(CapturedRecord<'_>) -> R,
    ) -> Option<R> {
        let entry = self.entries.pop_front()?;
        let result = f(view(&self.bytes, entry));
        if self.entries.is_empty() {
            self.bytes.clear();
        }
        Some(result)
    }

    /// Hands every record to `f`, oldest first, and empties the buffer, keeping its capacity
    /// for the next records.
    pub(crate) fn drain_with(&mut self, mut f: impl FnMut(CapturedRecord<'_>)) {
        for entry in self.entries.drain(..) {
            f(view(&self.bytes, entry));
        }
        self.bytes.clear();
    }
}

#[inline]
fn view(bytes: &[u8], entry: Entry) -> CapturedRecord<'_> {
    let key_end = entry.start + entry.key_len;
    CapturedRecord {
        topic: entry.topic,
        key: entry.has_key.then(|| &bytes[entry.start..key_end]),
        value: entry
            .has_value
            .then(|| &bytes[key_end..key_end + entry.value_len]),
        timestamp: entry.timestamp,
        headers: entry.headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_nulls_empties_and_order() {
        let mut c = Captured::default();
        c.push(Some(b"k1"), Some(b"v1"), 1, Headers::new());
        c.push_to(1, None, Some(b""), 2, Headers::new());
        c.push(Some(b""), None, 3, Headers::new());
        assert_eq!(c.len(), 3);
        let first = c.pop_front_with(|r| {
            (
                r.topic,
                r.key.map(<[u8]>::to_vec),
                r.value.map(<[u8]>::to_vec),
                r.timestamp,
            )
        });
        assert_eq!(
            first,
            Some((0, Some(b"k1".to_vec()), Some(b"v1".to_vec()), 1))
        );
        let mut rest = Vec::new();
        c.drain_with(|r| {
            rest.push((
                r.topic,
                r.key.map(<[u8]>::to_vec),
                r.value.map(<[u8]>::to_vec),
                r.timestamp,
            ))
        });
        assert_eq!(
            rest,
            vec![
                (1, None, Some(Vec::new()), 2),
                (0, Some(Vec::new()), None, 3)
            ]
        );
        assert_eq!(c.len(), 0);
        assert_eq!(c.pop_front_with(|_| ()), None);
    }
}
