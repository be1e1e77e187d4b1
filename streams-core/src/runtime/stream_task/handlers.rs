//! What happens to a record that fails: Kafka Streams' deserialization and processing
//! exception handlers.

use tracing::warn;

use crate::config::{DeserializationHandler, ProcessingHandler};
use crate::error::StreamsError;
use crate::processor::TaskId;

use super::super::RuntimeError;

/// What to do with records that fail (`*.exception.handler`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Handlers {
    pub(crate) deserialization: DeserializationHandler,
    pub(crate) processing: ProcessingHandler,
}

impl Handlers {
    /// `Ok(())` if the error is to be skipped (logged), else the error that stops the thread.
    pub(super) fn handle(&self, task: TaskId, error: StreamsError) -> Result<(), RuntimeError> {
        let skip = match &error {
            StreamsError::Deserialization { .. } => {
                self.deserialization == DeserializationHandler::LogAndContinue
            }
            StreamsError::Processing { .. } => self.processing == ProcessingHandler::LogAndContinue,
            _ => false,
        };
        if skip {
            warn!(%task, %error, "skipping a record (exception handler = log-and-continue)");
            Ok(())
        } else {
            Err(RuntimeError::Task {
                task,
                source: error,
            })
        }
    }
}
