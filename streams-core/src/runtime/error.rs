//! Errors of the runtime: refusing to start, and what stops a stream thread.

use std::path::PathBuf;

use rdkafka::error::KafkaError;

use crate::error::StreamsError;
use crate::kafka::AdminError;
use crate::processor::TaskId;
use crate::state::StoreError;

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
    /// An admin call at start failed (the broker is unreachable, a topic cannot be created).
    #[error(transparent)]
    Admin(#[from] AdminError),
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
    /// The inputs of a join (a co-partition group) have different partition counts.
    #[error(
        "the inputs of a join in sub-topology {subtopology} must have the same number of \
         partitions (a task joins partition N of each): {}",
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
    /// The partition count of an internal topic cannot be derived from the topology.
    #[error(
        "cannot tell the partition count of internal topic `{topic}`: the sub-topologies \
         that write it read only internal topics, in a cycle"
    )]
    InternalTopicCycle {
        /// The topic.
        topic: String,
    },
    /// A stream thread could not be started.
    #[error("cannot start a stream thread: {source}")]
    Spawn {
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A Kafka client needed at start could not be made or used.
    #[error("{operation} failed: {source}")]
    Kafka {
        /// What was being done.
        operation: &'static str,
        /// librdkafka's error.
        source: KafkaError,
    },
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
    #[error("cannot use the state directory `{}`: {source}", path.display())]
    StateDir {
        /// The application's state directory.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The global stream thread failed before the global stores were restored: the instance
    /// is in [`StreamsState::Error`] and no stream thread was started. The same error is
    /// [`KafkaStreams::error`](super::KafkaStreams::error).
    #[error("the global stores could not be restored: {source}")]
    GlobalThread {
        /// A [`RuntimeError::GlobalThread`].
        source: std::sync::Arc<RuntimeError>,
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
/// [`StreamsState::Error`]). Each variant keeps the underlying error as its
/// [`source`](std::error::Error::source), so librdkafka's error code
/// ([`KafkaError::rdkafka_error_code`]) and the whole chain stay available.
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
        "cannot deliver a record to topic `{topic}`: {source} (the production handler says fail)"
    )]
    Production {
        /// The topic.
        topic: String,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// The producer could not be flushed before a commit.
    #[error("flushing the producer before a commit failed: {source}")]
    Flush {
        /// librdkafka's error.
        source: KafkaError,
    },
    /// A record could not be written to the dead-letter queue.
    #[error("writing a failed record to the dead-letter queue `{topic}` failed: {source}")]
    DeadLetter {
        /// The dead-letter queue topic.
        topic: String,
        /// Why.
        #[source]
        source: Box<StreamsError>,
    },
    /// A transaction could not be ended and the thread could not recover (exactly-once).
    #[error("exactly-once transaction failed: {source}")]
    Transaction {
        /// What failed.
        #[source]
        source: super::TransactionError,
    },
    /// Offsets could not be committed (and the error is not one a rebalance explains).
    #[error("committing offsets failed: {source}")]
    Commit {
        /// librdkafka's error.
        source: KafkaError,
    },
    /// A Kafka client failed fatally.
    #[error("{operation} failed: {source}")]
    Kafka {
        /// What was being done.
        operation: &'static str,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// The group's committed offsets of the thread's assigned partitions stayed unknown for
    /// `default.api.timeout.ms` (no group coordinator answered), or the coordinator refused.
    #[error(
        "fetching the committed offsets of the assigned partitions failed for {timeout:?}: {source}"
    )]
    CommittedOffsets {
        /// `default.api.timeout.ms`.
        timeout: std::time::Duration,
        /// librdkafka's last error.
        source: KafkaError,
    },
    /// An input partition has no committed offset and `auto.offset.reset` is `none` (Kafka
    /// Streams' `NoOffsetForPartitionException`).
    #[error(
        "no committed offset for input topic `{topic}` partition {partition} and `auto.offset.reset` is none: set it to `earliest` or `latest`"
    )]
    NoCommittedOffset {
        /// The input topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// The restore consumer failed reading changelogs.
    #[error("restoring state stores: {operation} failed: {source}")]
    Restore {
        /// What was being done.
        operation: &'static str,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// The end offset of a changelog partition stayed unknown for `default.api.timeout.ms`.
    #[error(
        "restoring state stores: the end offset of changelog `{topic}` partition {partition} is unknown: {source}"
    )]
    ChangelogEnd {
        /// The changelog topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// Restored records could not be written into a store.
    #[error("task {task}: restoring store `{store}` failed: {source}")]
    RestoreWrite {
        /// The task.
        task: TaskId,
        /// The store.
        store: String,
        /// The store's error.
        source: StoreError,
    },
    /// A task's stores could not be flushed.
    #[error("task {task}: flushing its stores failed: {source}")]
    State {
        /// The task.
        task: TaskId,
        /// The store's error.
        source: StoreError,
    },
    /// A task's checkpoint file could not be written.
    #[error("task {task}: writing the checkpoint `{}` failed: {source}", path.display())]
    Checkpoint {
        /// The task.
        task: TaskId,
        /// The checkpoint file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stream thread panicked (a bug, in a processor or here).
    #[error("stream thread `{thread}` panicked: {message}")]
    Panic {
        /// The thread.
        thread: String,
        /// The panic message.
        message: String,
    },
    /// The global stream thread, which keeps the global stores, failed: the instance shuts
    /// down (Kafka Streams' global thread failures are fatal to the client too).
    #[error("global stream thread `{thread}` failed: {source}")]
    GlobalThread {
        /// The thread.
        thread: String,
        /// What failed.
        source: Box<GlobalThreadError>,
    },
    /// Another instance's uncaught exception handler answered
    /// [`ShutdownApplication`](super::StreamThreadExceptionResponse::ShutdownApplication).
    #[error("stream thread `{requested_by}` asked the application to shut down after: {message}")]
    ShutdownRequested {
        /// The stream thread that failed (its name starts with its instance's client id).
        requested_by: String,
        /// Its error, as that instance wrote it (with its causes, one per line).
        message: String,
    },
}

/// What stopped the global stream thread — the thread that restores the global stores from
/// their topics and keeps them up to date (see [`RuntimeError::GlobalThread`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GlobalThreadError {
    /// A global store's topic has no partitions (it does not exist, or is not visible).
    #[error("global topic `{topic}` has no partitions: {reason}")]
    NoPartitions {
        /// The topic.
        topic: String,
        /// What the cluster answered.
        reason: String,
    },
    /// The end offset of a global topic partition stayed unknown for `default.api.timeout.ms`.
    #[error("the end offset of global topic `{topic}` partition {partition} is unknown: {source}")]
    EndOffset {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// The global consumer failed.
    #[error("{operation} failed: {source}")]
    Kafka {
        /// What was being done.
        operation: &'static str,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// The global stores or their processors could not be made.
    #[error("cannot make the global stores: {reason}")]
    Instantiate {
        /// Why.
        reason: String,
    },
    /// A record of a global topic failed (and the deserialization handler, for a record that
    /// could not be read, says fail; processing errors in global stores always fail).
    #[error("processing a record of a global topic failed: {source}")]
    Process {
        /// The error.
        source: StreamsError,
    },
    /// The global stores could not be flushed.
    #[error("flushing the global stores failed: {source}")]
    Store {
        /// The store's error.
        source: StoreError,
    },
    /// The global checkpoint file could not be written.
    #[error("writing the global checkpoint `{}` failed: {source}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The global thread panicked (a bug, in a global store's processor or here).
    #[error("panicked: {message}")]
    Panic {
        /// The panic message.
        message: String,
    },
}
