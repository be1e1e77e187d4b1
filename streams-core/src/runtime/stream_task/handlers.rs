//! What happens to a record that fails: Kafka Streams' deserialization and processing
//! exception handlers.

use std::sync::Arc;

use tracing::warn;

use crate::config::{DeserializationHandler, HandlerResponse, ProcessingHandler, UserHandlers};
use crate::error::StreamsError;
use crate::processor::TaskId;
use crate::processor::task_state::{OutputRecord, RecordCollector};
use crate::record::Headers;

use super::super::RuntimeError;

/// What to do with records that fail (`*.exception.handler`,
/// `errors.dead.letter.queue.topic.name`).
#[derive(Clone)]
pub(crate) struct Handlers {
    pub(crate) deserialization: DeserializationHandler,
    pub(crate) processing: ProcessingHandler,
    pub(crate) dead_letter_queue: Option<Arc<str>>,
    /// Handlers given as code; they take precedence over the named ones.
    pub(crate) user: UserHandlers,
}

/// The input record that failed, as it was read (for the dead-letter queue).
pub(crate) struct FailedRecord<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) headers: Headers,
}

impl Handlers {
    /// The handlers `config` names or gives as code.
    pub(crate) fn from_config(config: &crate::config::StreamsConfig) -> Self {
        Handlers {
            deserialization: config.deserialization_handler(),
            processing: config.processing_handler(),
            dead_letter_queue: config.dead_letter_queue().map(Arc::from),
            user: config.user_handlers().clone(),
        }
    }

    /// Writes `record` to the dead-letter queue, if there is one: its raw key, value and
    /// headers, plus Kafka Streams' `__streams.errors.*` headers saying why (KIP-1034).
    pub(super) fn dead_letter(
        &self,
        record: FailedRecord<'_>,
        error: &StreamsError,
        collector: &mut dyn RecordCollector,
    ) -> Result<(), RuntimeError> {
        let Some(topic) = &self.dead_letter_queue else {
            return Ok(());
        };
        let mut headers = record.headers;
        let kind = match error {
            StreamsError::Deserialization { .. } => "streams::error::StreamsError::Deserialization",
            StreamsError::Processing { .. } => "streams::error::StreamsError::Processing",
            _ => "streams::error::StreamsError",
        };
        let mut chain = Vec::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = source {
            chain.push(e.to_string());
            source = e.source();
        }
        headers
            .add("__streams.errors.exception", kind)
            .add("__streams.errors.message", error.to_string())
            .add("__streams.errors.stacktrace", chain.join("\ncaused by: "))
            .add("__streams.errors.topic", record.topic)
            .add("__streams.errors.partition", record.partition.to_string())
            .add("__streams.errors.offset", record.offset.to_string());
        collector
            .send(OutputRecord {
                topic,
                partition: None,
                key: record.key,
                value: record.value,
                timestamp: record.timestamp.max(0),
                headers: &headers,
            })
            .map_err(|source| RuntimeError::DeadLetter {
                topic: topic.to_string(),
                source: Box::new(source),
            })
    }

    /// `Ok(())` if the error is to be skipped (logged), else the error that stops the thread.
    pub(super) fn handle(&self, task: TaskId, error: StreamsError) -> Result<(), RuntimeError> {
        if self.skips(&error) {
            warn!(%task, %error, "skipping a record (exception handler = log-and-continue)");
            Ok(())
        } else {
            Err(RuntimeError::Task {
                task,
                source: error,
            })
        }
    }

    /// Whether the handlers say to skip the record that failed with `error`.
    pub(crate) fn skips(&self, error: &StreamsError) -> bool {
        let user = match error {
            StreamsError::Deserialization { .. } => self.user.deserialization.as_ref(),
            StreamsError::Processing { .. } => self.user.processing.as_ref(),
            _ => None,
        };
        match (user, error) {
            // A handler that panics fails the record.
            (Some(handler), _) => {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.handle(error)))
                    .is_ok_and(|r| r == HandlerResponse::Continue)
            }
            (None, StreamsError::Deserialization { .. }) => {
                self.deserialization == DeserializationHandler::LogAndContinue
            }
            (None, StreamsError::Processing { .. }) => {
                self.processing == ProcessingHandler::LogAndContinue
            }
            (None, _) => false,
        }
    }
}
