//! Codecs for any `serde` type.

use std::fmt;
use std::marker::PhantomData;

use serde::{Serialize, de::DeserializeOwned};

use super::{Codec, CodecError};

macro_rules! phantom_codec {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<T>(PhantomData<fn() -> T>);

        impl<T> $name<T> {
            /// The codec.
            pub const fn new() -> Self {
                $name(PhantomData)
            }
        }

        impl<T> Default for $name<T> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<T> Copy for $name<T> {}

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}<{}>", stringify!($name), std::any::type_name::<T>())
            }
        }
    };
}

phantom_codec!(
    /// JSON through `serde_json`.
    ///
    /// ```
    /// use streams_core::codec::{Codec, Json};
    /// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    /// struct View { page: String, ms: u32 }
    /// let codec = Json::<View>::new();
    /// let mut buf = Vec::new();
    /// codec.encode(&View { page: "/".into(), ms: 7 }, &mut buf).unwrap();
    /// assert_eq!(buf, br#"{"page":"/","ms":7}"#);
    /// assert!(codec.decode(b"{not json").is_err());
    /// ```
    Json
);

phantom_codec!(
    /// Compact binary through `bincode` 2 (standard configuration: little-endian varints).
    /// Decoding rejects trailing bytes.
    ///
    /// ```
    /// use streams_core::codec::{Bincode, Codec};
    /// let codec = Bincode::<(u32, String)>::new();
    /// let mut buf = Vec::new();
    /// codec.encode(&(7, "a".to_string()), &mut buf).unwrap();
    /// assert_eq!(codec.decode(&buf).unwrap(), (7, "a".to_string()));
    /// ```
    Bincode
);

impl<T: Serialize + DeserializeOwned + 'static> Codec<T> for Json<T> {
    fn encode(&self, value: &T, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        serde_json::to_writer(buf, value)?;
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Codec<T> for Bincode<T> {
    fn encode(&self, value: &T, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        bincode::serde::encode_into_std_write(value, buf, bincode::config::standard())
            .map(drop)
            .map_err(|e| CodecError::Bincode(e.to_string()))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let (value, read) = bincode::serde::decode_from_slice(bytes, bincode::config::standard())
            .map_err(|e| CodecError::Bincode(e.to_string()))?;
        if read != bytes.len() {
            return Err(CodecError::TrailingBytes {
                type_name: std::any::type_name::<T>(),
                remaining: bytes.len() - read,
            });
        }
        Ok(value)
    }
}
