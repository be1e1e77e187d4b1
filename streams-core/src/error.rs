//! Errors at the processing boundary: what a running topology (or the test driver) reports.
//!
//! Topology-building errors live in [`crate::topology::TopologyError`]; codec errors in
//! [`crate::codec::CodecError`]. Nothing on the per-record path panics on bad data: it returns
//! one of these.

use std::error::Error as StdError;
use std::fmt;

use crate::codec::CodecError;
use crate::record::RecordMetadata;

/// Whether a codec failed on the key or the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPart {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl fmt::Display for RecordPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordPart::Key => "key",
            RecordPart::Value => "value",
        })
    }
}

/// An error while processing records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamsError {
    /// A consumed record's key or value could not be decoded.
    #[error(
        "cannot decode the {part} of the record at {metadata} (source node `{node}`): {source}"
    )]
    Deserialization {
        /// The source node that read the record.
        node: String,
        /// Where the record is.
        metadata: RecordMetadata,
        /// Key or value.
        part: RecordPart,
        /// Why.
        source: CodecError,
    },
    /// A key or value could not be encoded at a sink.
    #[error("cannot encode the {part} for topic `{topic}` (sink node `{node}`): {source}")]
    Serialization {
        /// The sink node.
        node: String,
        /// The topic being written.
        topic: String,
        /// Key or value.
        part: RecordPart,
        /// Why.
        source: CodecError,
    },
    /// The timestamp extractor gave a negative timestamp and the source's policy is to fail.
    #[error(
        "invalid (negative) timestamp {timestamp} for the record at {metadata} (source node `{node}`); \
         use a timestamp extractor that gives valid timestamps or set the source's \
         InvalidTimestampPolicy to LogAndSkip or UsePartitionTime"
    )]
    InvalidTimestamp {
        /// The source node.
        node: String,
        /// Where the record is.
        metadata: RecordMetadata,
        /// The invalid timestamp.
        timestamp: i64,
    },
    /// A record with a negative timestamp reached a sink.
    #[error(
        "sink `{node}` cannot write a record with the negative timestamp {timestamp} to topic `{topic}`"
    )]
    NegativeOutputTimestamp {
        /// The sink node.
        node: String,
        /// The topic.
        topic: String,
        /// The timestamp.
        timestamp: i64,
    },
    /// A sink's `StreamPartitioner` chose a partition the topic does not have.
    #[error(
        "sink `{node}`'s partitioner chose partition {partition} of topic `{topic}`, which has {partitions} partitions"
    )]
    PartitionOutOfRange {
        /// The sink node.
        node: String,
        /// The topic.
        topic: String,
        /// The partition chosen.
        partition: i32,
        /// The topic's partition count.
        partitions: i32,
    },
    /// The partition count of a topic a sink writes to could not be read.
    #[error("cannot read the partition count of topic `{topic}`")]
    PartitionCount {
        /// The topic.
        topic: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A processor returned an error.
    #[error("processor `{node}` failed{}: {source}", record_suffix(.metadata))]
    Processing {
        /// The processor node.
        node: String,
        /// The input record being processed; `None` in `init` or a punctuation.
        metadata: Option<RecordMetadata>,
        /// The processor's error.
        source: Box<dyn StdError + Send + Sync>,
    },
    /// A record was written to a topic no source reads, or piped to a topic nothing reads.
    #[error("unknown topic `{topic}`: {reason}")]
    UnknownTopic {
        /// The topic.
        topic: String,
        /// Why it was looked up.
        reason: &'static str,
    },
    /// The topology could not be instantiated.
    #[error("cannot build the topology for task {task}: {reason}")]
    Instantiate {
        /// The task.
        task: crate::task_id::TaskId,
        /// What went wrong.
        reason: String,
    },
    /// A state store could not be opened or used.
    #[error(transparent)]
    Store(#[from] crate::state::StoreError),
    /// The producer refused a record a sink wrote (a running application only).
    #[error("cannot produce a record to topic `{topic}`: {source}")]
    Production {
        /// The topic.
        topic: String,
        /// The producer's error (librdkafka's `KafkaError` in a running application).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn record_suffix(metadata: &Option<RecordMetadata>) -> String {
    match metadata {
        Some(m) => format!(" on the record at {m}"),
        None => " outside record processing (in init or a punctuation)".to_string(),
    }
}

/// The error a [`Processor`](crate::processor::Processor) returns.
///
/// Any error type converts into it with `?`, so processors use their own error types. The
/// runtime turns it into [`StreamsError::Processing`] with the node name and input record.
///
/// ```
/// use streams_core::error::ProcessorError;
/// fn parse(v: &str) -> Result<i64, ProcessorError> {
///     Ok(v.parse::<i64>()?)
/// }
/// assert!(parse("x").is_err());
/// assert_eq!(ProcessorError::msg("bad input").to_string(), "bad input");
/// ```
pub struct ProcessorError(Box<dyn StdError + Send + Sync>);

impl ProcessorError {
    /// An error with a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        ProcessorError(message.to_string().into())
    }

    /// Wraps an error value.
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        ProcessorError(error.into())
    }

    /// The wrapped error.
    pub fn into_inner(self) -> Box<dyn StdError + Send + Sync> {
        self.0
    }

    /// Turns this into a `StreamsError`: a `StreamsError` raised downstream passes through;
    /// anything else becomes [`StreamsError::Processing`] of `node`.
    pub(crate) fn into_streams_error(
        self,
        node: &str,
        metadata: Option<&RecordMetadata>,
    ) -> StreamsError {
        match self.0.downcast::<StreamsError>() {
            Ok(streams) => *streams,
            Err(source) => StreamsError::Processing {
                node: node.to_string(),
                metadata: metadata.cloned(),
                source,
            },
        }
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for ProcessorError {
    fn from(error: E) -> Self {
        ProcessorError(Box::new(error))
    }
}

impl fmt::Debug for ProcessorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ProcessorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<ProcessorError> for Box<dyn StdError + Send + Sync> {
    fn from(error: ProcessorError) -> Self {
        error.0
    }
}
