//! Codecs of windowed keys, byte-compatible with Kafka Streams' `WindowedSerdes`.

use crate::codec::{Codec, CodecError};
use crate::state::{Window, Windowed};

/// Encodes a time-windowed key as Kafka Streams' `TimeWindowedSerializer` does: the key's bytes,
/// then the window start as 8 big-endian bytes. The window end is not written; decoding adds the
/// window size to the start (Kafka Streams' `TimeWindowedDeserializer` with a window size), so
/// the codec carries the size.
///
/// Windowed aggregations make tables whose key codec is this one, so `to_stream().to(topic)`
/// writes the same bytes as Kafka Streams'
/// `Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), ...)`.
///
/// ```
/// use streams_core::codec::{Codec, Utf8};
/// use streams_core::dsl::TimeWindowedCodec;
/// use streams_core::state::{Window, Windowed};
///
/// let codec = TimeWindowedCodec::new(Utf8, 10_000);
/// let key = Windowed { key: "A".to_string(), window: Window { start_ms: 10_000, end_ms: 20_000 } };
/// let mut buf = Vec::new();
/// codec.encode(&key, &mut buf).unwrap();
/// assert_eq!(buf, [b'A', 0, 0, 0, 0, 0, 0, 0x27, 0x10]);
/// assert_eq!(codec.decode(&buf).unwrap(), key);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindowedCodec<C> {
    inner: C,
    window_size_ms: i64,
}

impl<C> TimeWindowedCodec<C> {
    /// Keys encoded by `inner`, windows of `window_size_ms`.
    pub fn new(inner: C, window_size_ms: i64) -> Self {
        TimeWindowedCodec {
            inner,
            window_size_ms,
        }
    }

    /// The codec of the keys inside the windows.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The window size decoded windows get (ms).
    pub fn window_size_ms(&self) -> i64 {
        self.window_size_ms
    }
}

/// Splits `bytes` into the key's bytes and the trailing big-endian timestamps.
fn split<const N: usize>(bytes: &[u8]) -> Result<(&[u8], [i64; N]), CodecError> {
    let at = bytes
        .len()
        .checked_sub(8 * N)
        .ok_or_else(|| CodecError::Malformed {
            type_name: std::any::type_name::<Windowed<()>>(),
            problem: "shorter than its window timestamps",
        })?;
    let (key, times) = bytes.split_at(at);
    let mut out = [0; N];
    for (i, chunk) in times.chunks_exact(8).enumerate() {
        let mut array = [0; 8];
        array.copy_from_slice(chunk);
        out[i] = i64::from_be_bytes(array);
    }
    Ok((key, out))
}

impl<K, C: Codec<K>> Codec<Windowed<K>> for TimeWindowedCodec<C> {
    fn encode(&self, value: &Windowed<K>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        self.inner.encode(&value.key, buf)?;
        buf.extend_from_slice(&value.window.start_ms.to_be_bytes());
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Windowed<K>, CodecError> {
        let (key, [start_ms]) = split::<1>(bytes)?;
        // Kafka Streams' `timeWindowForSize`: an end past the range of time is the end of time.
        let end_ms = start_ms
            .checked_add(self.window_size_ms)
            .unwrap_or(i64::MAX);
        Ok(Windowed {
            key: self.inner.decode(key)?,
            window: Window { start_ms, end_ms },
        })
    }
}

/// Encodes a session-windowed key as Kafka Streams' `SessionWindowedSerializer` does: the key's
/// bytes, then the session's end and start, each as 8 big-endian bytes.
///
/// ```
/// use streams_core::codec::{Codec, Utf8};
/// use streams_core::dsl::SessionWindowedCodec;
/// use streams_core::state::{Window, Windowed};
///
/// let codec = SessionWindowedCodec::new(Utf8);
/// let key = Windowed { key: "A".to_string(), window: Window { start_ms: 1_000, end_ms: 3_000 } };
/// let mut buf = Vec::new();
/// codec.encode(&key, &mut buf).unwrap();
/// assert_eq!(buf, [b'A', 0, 0, 0, 0, 0, 0, 0x0b, 0xb8, 0, 0, 0, 0, 0, 0, 0x03, 0xe8]);
/// assert_eq!(codec.decode(&buf).unwrap(), key);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionWindowedCodec<C> {
    inner: C,
}

impl<C> SessionWindowedCodec<C> {
    /// Keys encoded by `inner`.
    pub fn new(inner: C) -> Self {
        SessionWindowedCodec { inner }
    }

    /// The codec of the keys inside the sessions.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

impl<K, C: Codec<K>> Codec<Windowed<K>> for SessionWindowedCodec<C> {
    fn encode(&self, value: &Windowed<K>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        self.inner.encode(&value.key, buf)?;
        buf.extend_from_slice(&value.window.end_ms.to_be_bytes());
        buf.extend_from_slice(&value.window.start_ms.to_be_bytes());
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Windowed<K>, CodecError> {
        let (key, [end_ms, start_ms]) = split::<2>(bytes)?;
        Ok(Windowed {
            key: self.inner.decode(key)?,
            window: Window { start_ms, end_ms },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{I64, Utf8};

    #[test]
    fn short_input_is_an_error() {
        let time = TimeWindowedCodec::new(Utf8, 10);
        assert!(Codec::<Windowed<String>>::decode(&time, &[0; 7]).is_err());
        let session = SessionWindowedCodec::new(Utf8);
        assert!(Codec::<Windowed<String>>::decode(&session, &[0; 15]).is_err());
    }

    #[test]
    fn ends_past_the_range_of_time_saturate() {
        let codec = TimeWindowedCodec::new(I64, 10);
        let mut buf = Vec::new();
        let key = Windowed {
            key: 7i64,
            window: Window {
                start_ms: i64::MAX - 5,
                end_ms: i64::MAX,
            },
        };
        codec.encode(&key, &mut buf).unwrap();
        assert_eq!(codec.decode(&buf).unwrap(), key);
    }
}
