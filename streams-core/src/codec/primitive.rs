//! Codecs byte-compatible with Kafka's Java serdes.

use super::{Codec, CodecError};

/// UTF-8 strings, byte-identical to Java's `Serdes.String()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Utf8;

impl Codec<String> for Utf8 {
    fn encode(&self, value: &String, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        buf.extend_from_slice(value.as_bytes());
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<String, CodecError> {
        Ok(std::str::from_utf8(bytes)?.to_owned())
    }
}

/// Raw bytes, as Java's `Serdes.ByteArray()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bytes;

impl Codec<Vec<u8>> for Bytes {
    fn encode(&self, value: &Vec<u8>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        buf.extend_from_slice(value);
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>, CodecError> {
        Ok(bytes.to_vec())
    }
}

fn fixed<const N: usize>(bytes: &[u8], type_name: &'static str) -> Result<[u8; N], CodecError> {
    bytes.try_into().map_err(|_| CodecError::Size {
        type_name,
        expected: N,
        actual: bytes.len(),
    })
}

macro_rules! big_endian {
    ($($(#[$doc:meta])* $name:ident => $t:ty),* $(,)?) => {
        $($(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl Codec<$t> for $name {
            fn encode(&self, value: &$t, buf: &mut Vec<u8>) -> Result<(), CodecError> {
                buf.extend_from_slice(&value.to_be_bytes());
                Ok(())
            }

            fn decode(&self, bytes: &[u8]) -> Result<$t, CodecError> {
                Ok(<$t>::from_be_bytes(fixed(bytes, stringify!($t))?))
            }
        })*
    };
}

big_endian!(
    /// `i16`, 2 bytes big-endian: Java's `Serdes.Short()`.
    I16 => i16,
    /// `i32`, 4 bytes big-endian: Java's `Serdes.Integer()`.
    I32 => i32,
    /// `i64`, 8 bytes big-endian: Java's `Serdes.Long()`.
    I64 => i64,
    /// `f32`, IEEE 754 bits big-endian: Java's `Serdes.Float()`.
    F32 => f32,
    /// `f64`, IEEE 754 bits big-endian: Java's `Serdes.Double()`.
    F64 => f64,
);

/// `bool` as one byte, 0x01 or 0x00: Java's `Serdes.Boolean()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bool;

impl Codec<bool> for Bool {
    fn encode(&self, value: &bool, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        buf.push(u8::from(*value));
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<bool, CodecError> {
        match fixed::<1>(bytes, "bool")? {
            [0] => Ok(false),
            [1] => Ok(true),
            [b] => Err(CodecError::Bool(b)),
        }
    }
}

/// The unit type, always Kafka's null: Java's `Serdes.Void()`. For keyless topics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Void;

impl Codec<()> for Void {
    fn encode(&self, _value: &(), _buf: &mut Vec<u8>) -> Result<(), CodecError> {
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<(), CodecError> {
        Err(CodecError::NotNull(bytes.len()))
    }

    fn is_null(&self, _value: &()) -> bool {
        true
    }

    fn decode_null(&self) -> Result<(), CodecError> {
        Ok(())
    }
}

/// `Option<T>` over another codec: `None` is Kafka's null, so a `None` value is a tombstone.
///
/// ```
/// use streams_core::codec::{Codec, Nullable, Utf8};
/// let codec = Nullable(Utf8);
/// assert_eq!(codec.decode_nullable(None).unwrap(), None);
/// assert_eq!(codec.decode_nullable(Some(b"x")).unwrap(), Some("x".to_string()));
/// assert!(codec.is_null(&None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nullable<C>(pub C);

impl<T, C: Codec<T>> Codec<Option<T>> for Nullable<C> {
    fn encode(&self, value: &Option<T>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        match value {
            Some(v) => self.0.encode(v, buf),
            None => Ok(()),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<Option<T>, CodecError> {
        self.0.decode(bytes).map(Some)
    }

    fn is_null(&self, value: &Option<T>) -> bool {
        value.as_ref().is_none_or(|v| self.0.is_null(v))
    }

    fn decode_null(&self) -> Result<Option<T>, CodecError> {
        Ok(None)
    }
}
