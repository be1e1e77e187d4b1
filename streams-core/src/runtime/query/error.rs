//! Why an interactive query got no answer.

use std::fmt;
use std::time::Duration;

use crate::processor::TaskId;
use crate::runtime::StreamsState;
use crate::state::StoreError;

#[cfg(doc)]
use crate::runtime::{KafkaStreams, ReadOnlyKeyValueStore};

/// Why an interactive query got no answer — Kafka Streams' `InvalidStateStoreException` family.
///
/// [`is_retryable`](Self::is_retryable) tells the transient cases (the store is restoring, the
/// tasks are moving, a thread is busy) from mistakes and a stopped application.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The topology has no store of that name.
    #[error("no state store named `{store}` in the topology ({})", known_stores(.known))]
    UnknownStore {
        /// The name asked for.
        store: String,
        /// The topology's stores.
        known: Vec<String>,
    },
    /// The store is of another kind, or holds other key or value types, than asked.
    #[error("state store `{store}` is a {found}, not a {expected}")]
    WrongType {
        /// The store.
        store: String,
        /// What was asked, e.g. `key-value store of (String, i64)`.
        expected: String,
        /// What the store is.
        found: String,
    },
    /// The application is not started, or is closing, closed or failed. Not retryable on this
    /// instance (except [`Created`](StreamsState::Created): call
    /// [`start`](KafkaStreams::start) first).
    #[error("{}", not_running(*.state))]
    NotRunning {
        /// The application's state.
        state: StreamsState,
    },
    /// The store cannot answer right now; retry later.
    #[error("state store `{store}` is not ready for queries: {reason}; retry later")]
    StoreNotReady {
        /// The store.
        store: String,
        /// Why.
        reason: NotReadyReason,
    },
    /// Reading the store failed (an engine or codec error).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stream thread did not answer in time (a long commit, rebalance or restoration); retry
    /// later, or give the handle a longer [`with_timeout`](ReadOnlyKeyValueStore::with_timeout).
    #[error("no answer for state store `{store}` within {timeout:?}: a stream thread is busy")]
    Timeout {
        /// The store.
        store: String,
        /// How long the query waited.
        timeout: Duration,
    },
    /// The read panicked on the stream thread (a codec bug); the thread carries on.
    #[error("reading state store `{store}` panicked: {message}")]
    Panic {
        /// The store.
        store: String,
        /// The panic message.
        message: String,
    },
}

impl QueryError {
    /// Whether the same query may succeed if retried later:
    /// [`StoreNotReady`](Self::StoreNotReady) and [`Timeout`](Self::Timeout).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            QueryError::StoreNotReady { .. } | QueryError::Timeout { .. }
        )
    }
}

fn known_stores(known: &[String]) -> String {
    if known.is_empty() {
        "it has none".to_string()
    } else {
        let names: Vec<String> = known.iter().map(|s| format!("`{s}`")).collect();
        format!("stores: {}", names.join(", "))
    }
}

fn not_running(state: StreamsState) -> String {
    match state {
        StreamsState::Created => {
            "the application is not started (state Created): call start() before querying"
                .to_string()
        }
        state => format!(
            "the application is not running (state {state:?}): stores answer queries only in \
             state Running"
        ),
    }
}

/// Why a store is [not ready](QueryError::StoreNotReady) for queries. All are transient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotReadyReason {
    /// The application is rebalancing: tasks are being revoked or assigned.
    Rebalancing,
    /// A task holding the store is restoring it from its changelog.
    Restoring {
        /// The task.
        task: TaskId,
    },
    /// Tasks moved between threads or instances while the query ran: the answer could miss or
    /// repeat entries, so there is none.
    Migrated,
    /// No task of this instance holds the store: its partitions are on other instances (ask
    /// those), or none is assigned here yet.
    NotHosted,
    /// A global store that the global stream thread has not finished restoring from its topic.
    GlobalRestoring,
}

impl fmt::Display for NotReadyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReadyReason::Rebalancing => f.write_str("the application is rebalancing"),
            NotReadyReason::Restoring { task } => {
                write!(f, "task {task} is restoring it from its changelog")
            }
            NotReadyReason::Migrated => f.write_str("its tasks moved while the query ran"),
            NotReadyReason::NotHosted => f.write_str("no task of this instance holds it"),
            NotReadyReason::GlobalRestoring => {
                f.write_str("the global stream thread is restoring it from its topic")
            }
        }
    }
}

pub(super) fn not_ready(store: &str, reason: NotReadyReason) -> QueryError {
    QueryError::StoreNotReady {
        store: store.to_string(),
        reason,
    }
}
