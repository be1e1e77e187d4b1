//! Codecs: how keys and values become bytes on Kafka topics and come back.
//!
//! A [`Codec<T>`] encodes into a buffer the caller reuses and decodes from a borrowed slice, so
//! the per-record path allocates only what the decoded value itself owns.
//!
//! | codec | Rust type | bytes |
//! |---|---|---|
//! | [`Utf8`] | `String` | UTF-8, as Java's `Serdes.String()` |
//! | [`Bytes`] | `Vec<u8>` | as is, as `Serdes.ByteArray()` |
//! | [`I16`], [`I32`], [`I64`] | `i16`, `i32`, `i64` | big-endian, as `Serdes.Short()`, `Integer()`, `Long()` |
//! | [`F32`], [`F64`] | `f32`, `f64` | IEEE 754 big-endian, as `Serdes.Float()`, `Double()` |
//! | [`Bool`] | `bool` | one byte, as `Serdes.Boolean()` |
//! | [`Void`] | `()` | always null, as `Serdes.Void()` |
//! | [`Nullable<C>`] | `Option<T>` | `None` is Kafka's null (a tombstone as a value) |
//! | [`Json<T>`] | any `serde` type | JSON |
//! | [`Bincode<T>`] | any `serde` type | bincode 2, standard configuration |
//!
//! A Rust application and a Java one can share a topic when both use the matching codec and serde.
//! Two deliberate differences from Java: invalid UTF-8 is an error (Java substitutes U+FFFD,
//! silently changing data), and a Kafka null is an error unless the type can hold it
//! (`Option<T>` with [`Nullable`], or `()` with [`Void`]) — Java hands the processor a `null`.
//!
//! ```
//! use streams_core::codec::{Codec, I64, Utf8};
//! let mut buf = Vec::new();
//! I64.encode(&42, &mut buf).unwrap();
//! assert_eq!(buf, [0, 0, 0, 0, 0, 0, 0, 42]);
//! let back = I64.decode(&buf).unwrap();
//! assert_eq!(back, 42);
//!
//! buf.clear();
//! Utf8.encode(&"héllo".to_string(), &mut buf).unwrap();
//! assert_eq!(Utf8.decode(&buf).unwrap(), "héllo");
//! ```

mod error;
mod primitive;
mod serde_codecs;

pub use error::CodecError;
pub use primitive::{Bool, Bytes, F32, F64, I16, I32, I64, Nullable, Utf8, Void};
pub use serde_codecs::{Bincode, Json};

/// Turns values of type `T` into bytes and back.
///
/// Codecs are shared by every task of an application, so they are `Send + Sync`; they are
/// cloned into each source and sink node, so they should be cheap to clone (most are unit
/// structs).
///
/// Kafka keys and values can be null. A codec meets null through [`Codec::decode_null`] (on read)
/// and [`Codec::is_null`] (on write). Most codecs reject null with [`CodecError::Null`];
/// [`Nullable`] maps it to `None` and [`Void`] to `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a codec for `{T}`",
    label = "this codec cannot encode or decode `{T}`",
    note = "built-in codecs: Utf8 (String), Bytes (Vec<u8>), I16/I32/I64/F32/F64/Bool (Java-compatible big-endian), Void (()), Nullable<C> (Option<T>), Json<T> and Bincode<T> (serde types)"
)]
pub trait Codec<T>: Clone + Send + Sync + 'static {
    /// Appends the bytes of `value` to `buf` (which the caller has cleared).
    fn encode(&self, value: &T, buf: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Reads a value from `bytes`, which must hold exactly one encoded value.
    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError>;

    /// Whether `value` is written as Kafka's null rather than as bytes.
    fn is_null(&self, value: &T) -> bool {
        let _ = value;
        false
    }

    /// The value a Kafka null stands for; by default null is an error.
    fn decode_null(&self) -> Result<T, CodecError> {
        Err(CodecError::Null {
            type_name: std::any::type_name::<T>(),
        })
    }

    /// Encodes into `buf` (cleared first) and returns `None` for a null.
    fn encode_nullable<'b>(
        &self,
        value: &T,
        buf: &'b mut Vec<u8>,
    ) -> Result<Option<&'b [u8]>, CodecError> {
        buf.clear();
        if self.is_null(value) {
            return Ok(None);
        }
        self.encode(value, buf)?;
        Ok(Some(buf.as_slice()))
    }

    /// Decodes bytes, or a Kafka null as `None`.
    fn decode_nullable(&self, bytes: Option<&[u8]>) -> Result<T, CodecError> {
        match bytes {
            Some(bytes) => self.decode(bytes),
            None => self.decode_null(),
        }
    }
}

/// The codec a type uses when none is named: `String` → [`Utf8`], `Vec<u8>` → [`Bytes`],
/// `i16`/`i32`/`i64`/`f32`/`f64`/`bool` → [`I16`]/[`I32`]/[`I64`]/[`F32`]/[`F64`]/[`Bool`],
/// `()` → [`Void`], `Option<T>` → [`Nullable`].
///
/// ```
/// use streams_core::codec::{Codec, DefaultCodec};
/// let codec = <i64 as DefaultCodec>::codec();
/// let mut buf = Vec::new();
/// codec.encode(&-1, &mut buf).unwrap();
/// assert_eq!(buf, [0xff; 8]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no default codec",
    note = "name a codec for it, e.g. Json<{Self}> or Bincode<{Self}> for serde types"
)]
pub trait DefaultCodec: Sized {
    /// The codec type.
    type Codec: Codec<Self> + Default;

    /// A codec instance.
    fn codec() -> Self::Codec {
        Self::Codec::default()
    }
}

macro_rules! default_codec {
    ($codec:ty => $($t:ty),*) => {
        $(impl DefaultCodec for $t {
            type Codec = $codec;
        })*
    };
}
default_codec!(Utf8 => String);
default_codec!(Bytes => Vec<u8>);
default_codec!(I16 => i16);
default_codec!(I32 => i32);
default_codec!(I64 => i64);
default_codec!(F32 => f32);
default_codec!(F64 => f64);
default_codec!(Bool => bool);
default_codec!(Void => ());

impl<T: DefaultCodec> DefaultCodec for Option<T> {
    type Codec = Nullable<T::Codec>;
}

/// The codec of a type's [`DefaultCodec`], as a codec of its own: what the DSL uses wherever no
/// codec was named (`KStream<K, V>` is `KStream<K, V, Inferred, Inferred>`). It is a codec of `T`
/// only when `T` has a default codec, so a missing codec is a compile error where it is needed.
///
/// ```
/// use streams_core::codec::{Codec, Inferred};
/// let mut buf = Vec::new();
/// Codec::<i64>::encode(&Inferred, &7, &mut buf).unwrap();
/// assert_eq!(buf, [0, 0, 0, 0, 0, 0, 0, 7]);
/// assert!(Codec::<Option<String>>::is_null(&Inferred, &None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inferred;

impl<T: DefaultCodec + 'static> Codec<T> for Inferred {
    fn encode(&self, value: &T, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        T::Codec::default().encode(value, buf)
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        T::Codec::default().decode(bytes)
    }

    fn is_null(&self, value: &T) -> bool {
        T::Codec::default().is_null(value)
    }

    fn decode_null(&self) -> Result<T, CodecError> {
        T::Codec::default().decode_null()
    }
}
