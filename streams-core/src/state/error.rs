use std::path::PathBuf;

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
    /// The storage engine (RocksDB) failed.
    #[error("state store `{store}`: RocksDB: {message}")]
    Backend {
        /// The store.
        store: String,
        /// The engine's message.
        message: String,
    },
    /// A file-system operation on the state directory failed.
    #[error("state store `{store}`: cannot {action} `{}`: {source}", path.display())]
    Io {
        /// The store.
        store: String,
        /// What was attempted (`"create"`, `"remove"`, …).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The store was declared with settings it cannot run with.
    #[error("state store `{store}`: {message}")]
    InvalidConfig {
        /// The store.
        store: String,
        /// What is wrong.
        message: String,
    },
    /// The store was used again while one of its own calls was still running (e.g. a cache
    /// flush listener that writes back into the store being flushed).
    #[error(
        "state store `{store}` was re-entered while busy: a cache flush listener or a processor it \
         forwards to must not write to the store being flushed"
    )]
    Reentrant {
        /// The store.
        store: String,
    },
    /// Bytes in the store do not have the layout of this store kind (e.g. a window key without
    /// its timestamp).
    #[error("state store `{store}`: corrupt entry: {message}")]
    Corrupt {
        /// The store.
        store: String,
        /// What is wrong.
        message: String,
    },
    /// A write could not be handed to the store's changelog topic (the producer refused it).
    #[error("state store `{store}`: cannot log a write to changelog `{topic}`: {reason}")]
    Changelog {
        /// The store.
        store: String,
        /// Its changelog topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// A write to a global store from a task: global stores are read-only for processors
    /// (only the global stream thread writes them, from their source topic).
    #[error(
        "state store `{store}` is a global store: it is read-only for processors (its source \
         topic is the only way to change it)"
    )]
    ReadOnly {
        /// The store.
        store: String,
    },
    /// A store cannot be a global store (only key-value stores can).
    #[error("state store `{store}` cannot be a global store: {reason}")]
    NotGlobal {
        /// The store.
        store: String,
        /// Why.
        reason: String,
    },
}

impl StoreError {
    #[cfg(feature = "rocksdb")]
    pub(crate) fn backend(store: &str, error: impl std::fmt::Display) -> Self {
        StoreError::Backend {
            store: store.to_string(),
            message: error.to_string(),
        }
    }

    pub(crate) fn reentrant(store: &str) -> Self {
        StoreError::Reentrant {
            store: store.to_string(),
        }
    }

    pub(crate) fn corrupt(store: &str, message: impl Into<String>) -> Self {
        StoreError::Corrupt {
            store: store.to_string(),
            message: message.into(),
        }
    }
}
