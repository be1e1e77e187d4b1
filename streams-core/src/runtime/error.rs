//! Errors of the runtime: refusing to start, and what stops a stream thread.

use std::time::Duration;

use crate::error::StreamsError;
use crate::processor::TaskId;

use super::StreamsState;

/// Why [`KafkaStreams::new`](super::KafkaStreams::new) or
/// [`start`](super::KafkaStreams::start) refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The call does not fit the current state (e.g. `start` twice).
    #[error("cannot {operation} in state {state:?}")]
    IllegalState {
        /// What was asked.
        operation: &'static str,
        /// The state then.
        state: StreamsState,
    },
    /// No broker answered within the bound.
    #[error(
        "no Kafka broker reachable at `{bootstrap_servers}` within {timeout:?} ({reason}); \
         check `bootstrap.servers`, that the cluster is up, and the security settings"
    )]
    BrokerUnreachable {
        /// `bootstrap.servers`.
        bootstrap_servers: String,
        /// How long it waited (`default.api.timeout.ms`).
        timeout: Duration,
        /// librdkafka's reason.
        reason: String,
    },
    /// Topics the topology reads do not exist.
    #[error(
        "source topic(s) missing on the cluster: {}; create them first (only topics that the \
         topology both writes and reads and whose names end in `-repartition` are created \
         automatically)",
        quoted(.topics)
    )]
    MissingSourceTopics {
        /// The missing topics, sorted.
        topics: Vec<String>,
    },
    /// Inputs that one sub-topology reads together have different partition counts.
    #[error(
        "the input topics of sub-topology {subtopology} must have the same number of partitions \
         (a task reads partition N of each): {}",
        counts(.topics)
    )]
    CoPartitioning {
        /// The sub-topology.
        subtopology: u32,
        /// Each input topic and its partition count.
        topics: Vec<(String, i32)>,
    },
    /// An internal topic exists with another partition count than the topology needs.
    #[error(
        "internal topic `{topic}` has {actual} partitions but the topology needs {expected}; \
         delete it (or reset the application) and start again"
    )]
    InternalTopicPartitions {
        /// The topic.
        topic: String,
        /// What the topology needs.
        expected: i32,
        /// What the cluster has.
        actual: i32,
    },
    /// An internal topic could not be created.
    #[error("cannot create internal topic `{topic}`: {reason}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// A Kafka client could not be created or an admin call failed.
    #[error("{operation} failed: {reason}")]
    Kafka {
        /// What was being done.
        operation: String,
        /// librdkafka's reason.
        reason: String,
    },
    /// A stream thread could not be started.
    #[error("cannot start a stream thread: {0}")]
    Spawn(String),
    /// Another instance (in this process or another) uses the same state directory.
    #[error(
        "the state directory `{}` is locked by another instance of this application; \
         give each instance its own `state.dir`", path.display()
    )]
    StateDirLocked {
        /// The application's state directory.
        path: std::path::PathBuf,
    },
    /// The state directory could not be created or locked.
    #[error("cannot use the state directory `{}`: {reason}", path.display())]
    StateDir {
        /// The application's state directory.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
}

fn quoted(topics: &[String]) -> String {
    topics
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn counts(topics: &[(String, i32)]) -> String {
    topics
        .iter()
        .map(|(t, n)| format!("`{t}` has {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What stopped a stream thread (and so put the application in
/// [`StreamsState::Error`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// A task failed processing a record or a punctuation and the handler says fail.
    #[error("task {task} failed: {source}")]
    Task {
        /// The task.
        task: TaskId,
        /// The error.
        source: StreamsError,
    },
    /// The producer could not deliver a record and the production handler says fail.
    #[error(
        "cannot deliver a record to topic `{topic}`: {reason} \
         (production.exception.handler = fail)"
    )]
    Production {
        /// The topic.
        topic: String,
        /// librdkafka's reason.
        reason: String,
    },
    /// Offsets could not be committed.
    #[error("commit failed: {0}")]
    Commit(String),
    /// A Kafka client failed fatally.
    #[error("{operation} failed: {reason}")]
    Kafka {
        /// What was being done.
        operation: String,
        /// librdkafka's reason.
        reason: String,
    },
    /// State stores could not be restored from their changelogs.
    #[error("restoring state stores failed: {reason}")]
    Restore {
        /// What went wrong.
        reason: String,
    },
    /// A task's state could not be saved (checkpoint, store flush).
    #[error("task {task}: saving its state failed: {reason}")]
    State {
        /// The task.
        task: crate::processor::TaskId,
        /// What went wrong.
        reason: String,
    },
    /// A stream thread panicked (a bug, in a processor or here).
    #[error("stream thread `{thread}` panicked: {message}")]
    Panic {
        /// The thread.
        thread: String,
        /// The panic message.
        message: String,
    },
}
