use crate::codec::CodecError;

/// An error from a state store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The processor asked for a store that is not connected to it.
    #[error(
        "processor `{processor}` has no access to state store `{store}`; connect the store to the \
         processor when building the topology (connected stores: {connected:?})"
    )]
    NotConnected {
        /// The processor asking.
        processor: String,
        /// The store asked for.
        store: String,
        /// The stores that are connected to the processor.
        connected: Vec<String>,
    },
    /// The store exists, but with other key/value types or of another kind.
    #[error(
        "state store `{store}` is not a `{requested}`: it was declared with another kind or other key/value types"
    )]
    WrongType {
        /// The store.
        store: String,
        /// What the processor asked for.
        requested: String,
    },
    /// A key or value in the store could not be encoded or decoded.
    #[error("state store `{store}`: {source}")]
    Codec {
        /// The store.
        store: String,
        /// The codec's error.
        source: CodecError,
    },
}
