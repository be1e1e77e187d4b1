//! The in-memory engine: a `BTreeMap` of bytes.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::bytes::{ByteRange, BytesStore, Entry, RestoreRecord, Visitor};
use super::error::StoreError;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// The in-memory key-value engine, ordered by key bytes (as Kafka Streams' in-memory store).
#[derive(Debug, Default)]
pub(crate) struct InMemoryStore {
    name: String,
    map: RefCell<Map>,
}

impl InMemoryStore {
    pub(crate) fn new(name: &str) -> Self {
        InMemoryStore {
            name: name.to_string(),
            map: RefCell::default(),
        }
    }

    fn map_mut(&self) -> Result<std::cell::RefMut<'_, Map>, StoreError> {
        self.map
            .try_borrow_mut()
            .map_err(|_| StoreError::reentrant(&self.name))
    }

    /// Sets (or with `None` removes) `key`; returns the bytes (key and value) it held before.
    pub(crate) fn replace(&self, key: &[u8], value: Option<&[u8]>) -> Result<usize, StoreError> {
        let mut map = self.map_mut()?;
        let old = match value {
            Some(value) => match map.get_mut(key) {
                Some(slot) => {
                    let old = slot.len();
                    slot.clear();
                    slot.extend_from_slice(value);
                    Some(old)
                }
                None => {
                    map.insert(key.to_vec(), value.to_vec());
                    None
                }
            },
            None => map.remove(key).map(|v| v.len()),
        };
        Ok(old.map_or(0, |v| key.len() + v))
    }

    /// Removes every entry.
    #[cfg(feature = "rocksdb")]
    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.map_mut() {
            *map = Map::new();
        }
    }

    fn map(&self) -> Result<std::cell::Ref<'_, Map>, StoreError> {
        self.map
            .try_borrow()
            .map_err(|_| StoreError::reentrant(&self.name))
    }
}

impl BytesStore for InMemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map()?.get(key).cloned())
    }

    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        _timestamp: Option<i64>,
    ) -> Result<(), StoreError> {
        self.replace(key, value).map(|_| ())
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let map = self.map()?;
        let iter = map.range::<[u8], _>(range.bounds());
        let clone = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if reverse {
            iter.rev().take(limit).map(clone).collect()
        } else {
            iter.take(limit).map(clone).collect()
        })
    }

    fn visit(&self, range: &ByteRange, reverse: bool, f: Visitor<'_>) -> Result<(), StoreError> {
        if range.is_empty() {
            return Ok(());
        }
        let map = self.map()?;
        let mut iter = map.range::<[u8], _>(range.bounds());
        let mut call = |(k, v): (&Vec<u8>, &Vec<u8>)| f(k, v);
        if reverse {
            let _ = iter.rev().all(&mut call);
        } else {
            let _ = iter.all(&mut call);
        }
        Ok(())
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        Ok(self.map()?.len() as u64)
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        let mut map = self.map_mut()?;
        for record in batch {
            match record.value {
                Some(value) => map.insert(record.key.to_vec(), value.to_vec()),
                None => map.remove(record.key),
            };
        }
        Ok(())
    }
}
