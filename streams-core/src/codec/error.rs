use std::error::Error as StdError;

/// Why a value could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A fixed-size type got the wrong number of bytes.
    #[error("expected {expected} bytes for {type_name}, got {actual}")]
    Size {
        /// The Rust type being decoded.
        type_name: &'static str,
        /// How many bytes the type takes.
        expected: usize,
        /// How many bytes there were.
        actual: usize,
    },
    /// Bytes that are not valid UTF-8 where a string was expected.
    #[error("invalid UTF-8: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    /// A Kafka null where the type has no null.
    #[error(
        "null where a `{type_name}` was expected; declare the type as `Option<_>` with the `Nullable` codec to accept nulls"
    )]
    Null {
        /// The Rust type being decoded.
        type_name: &'static str,
    },
    /// Bytes where only null is allowed (the [`Void`](super::Void) codec).
    #[error("expected null for `()`, got {0} bytes")]
    NotNull(usize),
    /// A byte that is neither 0 nor 1 for a `bool`.
    #[error("invalid bool byte {0:#04x}: expected 0x00 or 0x01")]
    Bool(u8),
    /// JSON that does not parse as the type, or a value that cannot become JSON.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Bincode that does not decode as the type, or a value bincode cannot encode.
    #[error("bincode: {0}")]
    Bincode(String),
    /// Input left over after a complete value: the bytes are not one value of this type.
    #[error("{remaining} trailing bytes after a complete `{type_name}`")]
    TrailingBytes {
        /// The Rust type decoded.
        type_name: &'static str,
        /// How many bytes were left.
        remaining: usize,
    },
    /// Bytes that do not follow the type's layout (e.g. a table change without its flag byte).
    #[error("malformed `{type_name}`: {problem}")]
    Malformed {
        /// The Rust type being decoded.
        type_name: &'static str,
        /// What is wrong with the bytes.
        problem: &'static str,
    },
    /// An error from a user codec.
    #[error(transparent)]
    Custom(Box<dyn StdError + Send + Sync>),
}

impl CodecError {
    /// Wraps an error from a user-written codec.
    pub fn custom(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        CodecError::Custom(error.into())
    }
}
