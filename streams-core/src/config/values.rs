//! The enumerated settings: processing guarantee, offset reset and the error handlers.

use std::fmt;

/// `processing.guarantee`: what a crash may do to outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProcessingGuarantee {
    /// `at_least_once` (default): outputs are acknowledged before offsets are committed, so a
    /// crash replays records since the last commit and may write some outputs twice, never
    /// lose them.
    #[default]
    AtLeastOnce,
    /// `exactly_once_v2` (KIP-447): each stream thread writes its outputs, changelog records and
    /// input offsets in one Kafka transaction per commit, and reads `read_committed`; a crash
    /// aborts what the interrupted transaction wrote, so every record's effects are visible
    /// exactly once.
    ExactlyOnceV2,
}

impl ProcessingGuarantee {
    /// Whether this is exactly-once.
    pub fn is_exactly_once(self) -> bool {
        matches!(self, ProcessingGuarantee::ExactlyOnceV2)
    }
}

impl fmt::Display for ProcessingGuarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProcessingGuarantee::AtLeastOnce => "at_least_once",
            ProcessingGuarantee::ExactlyOnceV2 => "exactly_once_v2",
        })
    }
}

/// `auto.offset.reset`: where a task starts reading a partition the group has no committed
/// offset for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AutoOffsetReset {
    /// `earliest` (Kafka Streams' default): from the beginning.
    #[default]
    Earliest,
    /// `latest`: only records written from now on.
    Latest,
    /// `none`: the stream thread fails (`RuntimeError::NoCommittedOffset`, Kafka Streams'
    /// `NoOffsetForPartitionException`).
    None,
}

impl AutoOffsetReset {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AutoOffsetReset::Earliest => "earliest",
            AutoOffsetReset::Latest => "latest",
            AutoOffsetReset::None => "error",
        }
    }
}

impl fmt::Display for AutoOffsetReset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AutoOffsetReset::Earliest => "earliest",
            AutoOffsetReset::Latest => "latest",
            AutoOffsetReset::None => "none",
        })
    }
}

/// What to do with a consumed record that cannot be decoded
/// (`deserialization.exception.handler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DeserializationHandler {
    /// `log-and-fail` (default): the stream thread stops with the error.
    #[default]
    LogAndFail,
    /// `log-and-continue`: log a warning, count the record as skipped, go on.
    LogAndContinue,
}

/// What to do when a processor returns an error (`processing.exception.handler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProcessingHandler {
    /// `log-and-fail` (default): the stream thread stops with the error.
    #[default]
    LogAndFail,
    /// `log-and-continue`: log a warning, count the record as skipped, go on.
    LogAndContinue,
}

/// A value among named choices; `names` lists (accepted spelling, value).
pub(crate) fn choose<T: Copy>(value: &str, names: &[(&str, T)]) -> Option<T> {
    let v = value.trim();
    names
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|&(_, t)| t)
}

/// The accepted spellings, for error messages.
pub(crate) fn accepted<T>(names: &[(&str, T)]) -> String {
    names
        .iter()
        .map(|(n, _)| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) const OFFSET_RESETS: &[(&str, AutoOffsetReset)] = &[
    ("earliest", AutoOffsetReset::Earliest),
    ("latest", AutoOffsetReset::Latest),
    ("none", AutoOffsetReset::None),
];

pub(crate) const DESERIALIZATION_HANDLERS: &[(&str, DeserializationHandler)] = &[
    ("log-and-fail", DeserializationHandler::LogAndFail),
    ("log-and-continue", DeserializationHandler::LogAndContinue),
    (
        "org.apache.kafka.streams.errors.LogAndFailExceptionHandler",
        DeserializationHandler::LogAndFail,
    ),
    (
        "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler",
        DeserializationHandler::LogAndContinue,
    ),
];

pub(crate) const PROCESSING_HANDLERS: &[(&str, ProcessingHandler)] = &[
    ("log-and-fail", ProcessingHandler::LogAndFail),
    ("log-and-continue", ProcessingHandler::LogAndContinue),
    (
        "org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler",
        ProcessingHandler::LogAndFail,
    ),
    (
        "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler",
        ProcessingHandler::LogAndContinue,
    ),
];

/// What a user's exception handler answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandlerResponse {
    /// Skip the record (logged, counted in `records_skipped`; written to the dead-letter queue
    /// if one is set) and go on.
    Continue,
    /// Stop the stream thread with the error (the record is written to the dead-letter queue
    /// first, if one is set).
    Fail,
}

/// A user's exception handler for records that fail to decode or to process — Kafka Streams'
/// `DeserializationExceptionHandler` and `ProcessingExceptionHandler`. The error says which
/// record (topic, partition, offset), which node and why. Any
/// `Fn(&StreamsError) -> HandlerResponse` is one.
///
/// ```
/// use streams_core::config::{HandlerResponse, StreamsConfig};
/// use streams_core::error::StreamsError;
/// let config = StreamsConfig::builder()
///     .application_id("app")
///     .bootstrap_servers("localhost:9092")
///     // Skip records that do not decode, except keys: a bad key is a producer bug.
///     .deserialization_exception_handler_with(|error: &StreamsError| match error {
///         StreamsError::Deserialization { part, .. } if part.to_string() == "key" => {
///             HandlerResponse::Fail
///         }
///         _ => HandlerResponse::Continue,
///     })
///     .build()?;
/// # let _ = config;
/// # Ok::<(), streams_core::config::ConfigError>(())
/// ```
pub trait RecordErrorHandler: Send + Sync + 'static {
    /// Whether to go on or stop.
    fn handle(&self, error: &crate::error::StreamsError) -> HandlerResponse;
}

impl<F> RecordErrorHandler for F
where
    F: Fn(&crate::error::StreamsError) -> HandlerResponse + Send + Sync + 'static,
{
    fn handle(&self, error: &crate::error::StreamsError) -> HandlerResponse {
        self(error)
    }
}
