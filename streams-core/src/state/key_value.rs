use std::cell::RefCell;
use std::fmt;
use std::ops::Bound;
use std::rc::Rc;

use crate::codec::{Codec, CodecError};

use super::error::StoreError;
use super::memory::BytesKeyValue;

/// A codec behind a pointer (the `Codec` trait itself is `Clone`, so not object-safe).
trait ErasedCodec<T> {
    fn encode(&self, value: &T, buf: &mut Vec<u8>) -> Result<Option<()>, CodecError>;
    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError>;
}

impl<T, C: Codec<T>> ErasedCodec<T> for C {
    fn encode(&self, value: &T, buf: &mut Vec<u8>) -> Result<Option<()>, CodecError> {
        Ok(self.encode_nullable(value, buf)?.map(drop))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        Codec::decode(self, bytes)
    }
}

struct Inner<K, V> {
    name: String,
    store: RefCell<Box<dyn BytesKeyValue>>,
    key_codec: Box<dyn ErasedCodec<K>>,
    value_codec: Box<dyn ErasedCodec<V>>,
    key_buf: RefCell<Vec<u8>>,
    value_buf: RefCell<Vec<u8>>,
}

/// A typed key-value state store, as a processor sees it — Kafka Streams' `KeyValueStore<K, V>`.
///
/// A cheap handle: clones share the same store. Keys are ordered by their encoded bytes, so
/// ranges follow the key codec's byte order (big-endian integers sort numerically when
/// non-negative; UTF-8 strings sort by code point). Writing a value the value codec encodes as
/// null (e.g. `None` with [`Nullable`](crate::codec::Nullable)) deletes the key, as in Kafka
/// Streams.
pub struct KeyValueStore<K, V> {
    inner: Rc<Inner<K, V>>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        KeyValueStore {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<K, V> fmt::Debug for KeyValueStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValueStore")
            .field("name", &self.inner.name)
            .field("entries", &self.inner.store.borrow().len())
            .finish()
    }
}

impl<K: 'static, V: 'static> KeyValueStore<K, V> {
    pub(crate) fn new(
        name: String,
        store: Box<dyn BytesKeyValue>,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Self {
        KeyValueStore {
            inner: Rc::new(Inner {
                name,
                store: RefCell::new(store),
                key_codec: Box::new(key_codec),
                value_codec: Box::new(value_codec),
                key_buf: RefCell::new(Vec::new()),
                value_buf: RefCell::new(Vec::new()),
            }),
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    fn codec_error(&self, source: CodecError) -> StoreError {
        StoreError::Codec {
            store: self.inner.name.clone(),
            source,
        }
    }

    fn with_key<R>(
        &self,
        key: &K,
        f: impl FnOnce(&[u8]) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut buf = self.inner.key_buf.borrow_mut();
        match self.inner.key_codec.encode(key, &mut buf) {
            Ok(Some(())) => f(&buf),
            Ok(None) => Err(self.codec_error(CodecError::Null {
                type_name: std::any::type_name::<K>(),
            })),
            Err(e) => Err(self.codec_error(e)),
        }
    }

    fn decode_value(&self, bytes: &[u8]) -> Result<V, StoreError> {
        self.inner
            .value_codec
            .decode(bytes)
            .map_err(|e| self.codec_error(e))
    }

    fn decode_old(&self, old: Option<Vec<u8>>) -> Result<Option<V>, StoreError> {
        old.map(|bytes| self.decode_value(&bytes)).transpose()
    }

    /// The value for `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, StoreError> {
        self.with_key(key, |k| {
            let store = self.inner.store.borrow();
            store.get(k).map(|v| self.decode_value(v)).transpose()
        })
    }

    /// Sets the value for `key`; a null value deletes it.
    pub fn put(&self, key: &K, value: &V) -> Result<(), StoreError> {
        self.put_returning_old(key, value).map(drop)
    }

    fn put_returning_old(&self, key: &K, value: &V) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_key(key, |k| {
            let mut buf = self.inner.value_buf.borrow_mut();
            let is_value = self
                .inner
                .value_codec
                .encode(value, &mut buf)
                .map_err(|e| self.codec_error(e))?;
            let mut store = self.inner.store.borrow_mut();
            Ok(match is_value {
                Some(()) => store.put(k, &buf),
                None => store.delete(k),
            })
        })
    }

    /// Sets the value only if `key` has none; returns the value already there, if any.
    pub fn put_if_absent(&self, key: &K, value: &V) -> Result<Option<V>, StoreError> {
        if let Some(existing) = self.get(key)? {
            return Ok(Some(existing));
        }
        self.put(key, value)?;
        Ok(None)
    }

    /// Removes `key`; returns its old value.
    pub fn delete(&self, key: &K) -> Result<Option<V>, StoreError> {
        let old = self.with_key(key, |k| Ok(self.inner.store.borrow_mut().delete(k)))?;
        self.decode_old(old)
    }

    /// The entries from `from` to `to`, both included, in key byte order.
    pub fn range(&self, from: &K, to: &K) -> Result<KeyValueIter<K, V>, StoreError> {
        let from_bytes = self.with_key(from, |k| Ok(k.to_vec()))?;
        let entries = self.with_key(to, |to| {
            Ok(self
                .inner
                .store
                .borrow()
                .range(Bound::Included(&from_bytes), Bound::Included(to)))
        })?;
        Ok(self.iter(entries))
    }

    /// All entries, in key byte order.
    pub fn all(&self) -> KeyValueIter<K, V> {
        let entries = self
            .inner
            .store
            .borrow()
            .range(Bound::Unbounded, Bound::Unbounded);
        self.iter(entries)
    }

    /// How many entries the store holds (exact for in-memory stores).
    pub fn approximate_num_entries(&self) -> u64 {
        self.inner.store.borrow().len() as u64
    }

    fn iter(&self, entries: Vec<(Vec<u8>, Vec<u8>)>) -> KeyValueIter<K, V> {
        KeyValueIter {
            store: self.clone(),
            entries: entries.into_iter(),
        }
    }
}

/// Entries of a [`KeyValueStore`], decoded as they are read. A snapshot: writes made while
/// iterating are not seen.
pub struct KeyValueIter<K, V> {
    store: KeyValueStore<K, V>,
    entries: std::vec::IntoIter<(Vec<u8>, Vec<u8>)>,
}

impl<K: 'static, V: 'static> Iterator for KeyValueIter<K, V> {
    type Item = Result<(K, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (k, v) = self.entries.next()?;
        let inner = &self.store.inner;
        let key = inner
            .key_codec
            .decode(&k)
            .map_err(|e| self.store.codec_error(e));
        Some(key.and_then(|key| Ok((key, self.store.decode_value(&v)?))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl<K, V> fmt::Debug for KeyValueIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValueIter")
            .field("remaining", &self.entries.len())
            .finish()
    }
}
