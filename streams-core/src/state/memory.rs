use std::collections::BTreeMap;
use std::ops::Bound;

/// A key-value store of bytes, ordered by key bytes: what the typed [`KeyValueStore`]
/// (super::KeyValueStore) sits on.
pub(crate) trait BytesKeyValue {
    fn get(&self, key: &[u8]) -> Option<&[u8]>;
    fn put(&mut self, key: &[u8], value: &[u8]) -> Option<Vec<u8>>;
    fn delete(&mut self, key: &[u8]) -> Option<Vec<u8>>;
    /// The entries in a key range, copied out (a snapshot, as Kafka Streams' in-memory store).
    fn range(&self, from: Bound<&[u8]>, to: Bound<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)>;
    fn len(&self) -> usize;
}

/// The in-memory key-value store: a `BTreeMap` of bytes.
#[derive(Debug, Default)]
pub(crate) struct InMemoryKeyValue {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl BytesKeyValue for InMemoryKeyValue {
    fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.map.get(key).map(Vec::as_slice)
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Option<Vec<u8>> {
        if let Some(slot) = self.map.get_mut(key) {
            return Some(std::mem::replace(slot, value.to_vec()));
        }
        self.map.insert(key.to_vec(), value.to_vec())
    }

    fn delete(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        self.map.remove(key)
    }

    fn range(&self, from: Bound<&[u8]>, to: Bound<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
        if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) =
            (from, to)
            && a > b
        {
            return Vec::new();
        }
        self.map
            .range::<[u8], _>((from, to))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}
