//! What the typed store handles share: the codecs behind pointers, reused buffers, and the
//! stack of bytes layers underneath.

use std::cell::Cell;
use std::ops::Bound;
use std::rc::Rc;

use crate::codec::{Codec, CodecError};

use super::bytes::{ByteRange, BytesStore};
use super::error::StoreError;

/// A codec behind a pointer (the `Codec` trait itself is `Clone`, so not object-safe).
pub(crate) trait ErasedCodec<T> {
    /// Encodes into `buf` (cleared first); `Ok(false)` for a null.
    fn encode_into(&self, value: &T, buf: &mut Vec<u8>) -> Result<bool, CodecError>;
    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError>;
}

impl<T, C: Codec<T>> ErasedCodec<T> for C {
    fn encode_into(&self, value: &T, buf: &mut Vec<u8>) -> Result<bool, CodecError> {
        Ok(self.encode_nullable(value, buf)?.is_some())
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        Codec::decode(self, bytes)
    }
}

/// The shared core of a typed store handle.
pub(crate) struct Core<K, V> {
    pub(crate) name: String,
    pub(crate) store: Rc<dyn BytesStore>,
    key_codec: Box<dyn ErasedCodec<K>>,
    value_codec: Box<dyn ErasedCodec<V>>,
    /// Reused encode buffers, taken out while in use (a re-entrant call just allocates).
    key_buf: Cell<Vec<u8>>,
    value_buf: Cell<Vec<u8>>,
    /// Reused bounds of [`with_range`](Self::with_range).
    range_bufs: Cell<(Vec<u8>, Vec<u8>)>,
}

impl<K: 'static, V: 'static> Core<K, V> {
    pub(crate) fn new(
        name: &str,
        store: Rc<dyn BytesStore>,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Self {
        Core {
            name: name.to_string(),
            store,
            key_codec: Box::new(key_codec),
            value_codec: Box::new(value_codec),
            key_buf: Cell::default(),
            value_buf: Cell::default(),
            range_bufs: Cell::default(),
        }
    }

    pub(crate) fn codec_error(&self, source: CodecError) -> StoreError {
        StoreError::Codec {
            store: self.name.clone(),
            source,
        }
    }

    /// Encodes a key (null keys are an error) into `buf`, after clearing it.
    pub(crate) fn encode_key_into(&self, key: &K, buf: &mut Vec<u8>) -> Result<(), StoreError> {
        match self.key_codec.encode_into(key, buf) {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.codec_error(CodecError::Null {
                type_name: std::any::type_name::<K>(),
            })),
            Err(e) => Err(self.codec_error(e)),
        }
    }

    pub(crate) fn encode_key(&self, key: &K) -> Result<Vec<u8>, StoreError> {
        let mut buf = Vec::new();
        self.encode_key_into(key, &mut buf)?;
        Ok(buf)
    }

    /// Runs `f` with the key's bytes in the reused key buffer.
    pub(crate) fn with_key<R>(
        &self,
        key: &K,
        suffix: &[u8],
        f: impl FnOnce(&[u8]) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut buf = self.key_buf.take();
        let result = self.encode_key_into(key, &mut buf).and_then(|()| {
            buf.extend_from_slice(suffix);
            f(&buf)
        });
        self.key_buf.set(buf);
        result
    }

    /// Runs `f` with the range from `[key][from]` to `[key][to]` (both included), its bounds in
    /// reused buffers, and the key's length in bytes.
    pub(crate) fn with_range<R>(
        &self,
        key: &K,
        from: &[u8],
        to: &[u8],
        f: impl FnOnce(&ByteRange, usize) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let (mut lo, mut hi) = self.range_bufs.take();
        self.encode_key_into(key, &mut lo)?;
        let key_len = lo.len();
        hi.clear();
        hi.extend_from_slice(&lo);
        lo.extend_from_slice(from);
        hi.extend_from_slice(to);
        let range = ByteRange::inclusive(lo, hi);
        let result = f(&range, key_len);
        if let (Bound::Included(lo), Bound::Included(hi)) = (range.from, range.to) {
            self.range_bufs.set((lo, hi));
        }
        result
    }

    /// Runs `f` with the value's bytes (`None` for a null) in the reused value buffer.
    pub(crate) fn with_value<R>(
        &self,
        value: &V,
        f: impl FnOnce(Option<&[u8]>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut buf = self.value_buf.take();
        let result = match self.value_codec.encode_into(value, &mut buf) {
            Ok(true) => f(Some(&buf)),
            Ok(false) => f(None),
            Err(e) => Err(self.codec_error(e)),
        };
        self.value_buf.set(buf);
        result
    }

    pub(crate) fn decode_key(&self, bytes: &[u8]) -> Result<K, StoreError> {
        self.key_codec
            .decode(bytes)
            .map_err(|e| self.codec_error(e))
    }

    pub(crate) fn decode_value(&self, bytes: &[u8]) -> Result<V, StoreError> {
        self.value_codec
            .decode(bytes)
            .map_err(|e| self.codec_error(e))
    }

    /// Writes a typed value at raw key bytes (a null value deletes).
    pub(crate) fn put_raw(&self, key: &[u8], value: &V) -> Result<(), StoreError> {
        self.with_value(value, |v| self.store.put(key, v, None))
    }

    /// Puts `value` (a delete for `None`) with the timestamp of the write, which a cache keeps
    /// for its flush listener.
    pub(crate) fn put_raw_at(
        &self,
        key: &[u8],
        value: Option<&V>,
        timestamp: i64,
    ) -> Result<(), StoreError> {
        match value {
            Some(value) => self.with_value(value, |v| self.store.put(key, v, Some(timestamp))),
            None => self.store.put(key, None, Some(timestamp)),
        }
    }
}
