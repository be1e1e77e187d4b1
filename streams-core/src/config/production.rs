//! What happens to a record the producer cannot send or deliver: Kafka Streams'
//! `production.exception.handler`, named or written as code.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// What to do when the producer cannot deliver a record (`production.exception.handler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProductionHandler {
    /// `default` (Kafka Streams' `DefaultProductionExceptionHandler`): retry when the error is
    /// retriable (the thread's tasks start again from their committed offsets, so the record
    /// is produced again), else fail.
    #[default]
    Default,
    /// `fail`: the stream thread stops with the error, before committing offsets past the
    /// lost record, so it is processed again after a restart.
    Fail,
    /// `continue`: log an error, count the record as dropped, go on.
    Continue,
}

pub(crate) const PRODUCTION_HANDLERS: &[(&str, ProductionHandler)] = &[
    ("default", ProductionHandler::Default),
    ("fail", ProductionHandler::Fail),
    ("continue", ProductionHandler::Continue),
    (
        "org.apache.kafka.streams.errors.DefaultProductionExceptionHandler",
        ProductionHandler::Default,
    ),
];

impl ProductionHandler {
    /// The name `production.exception.handler` takes for this handler.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ProductionHandler::Default => "default",
            ProductionHandler::Fail => "fail",
            ProductionHandler::Continue => "continue",
        }
    }
}

/// What a production exception handler answers (Kafka Streams' `ProductionExceptionHandler`
/// `Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProductionResponse {
    /// Stop the stream thread with the error; offsets past the record are not committed.
    Fail,
    /// Drop the record (logged, counted in `dropped_records`) and go on.
    Continue,
    /// Produce the record again: the thread's tasks are closed and start again from their
    /// committed offsets (under exactly-once the open transaction is aborted first). Only for
    /// [retriable](ProductionFailure::is_retriable) errors; for others it means `Fail`.
    Retry,
}

/// A record the producer could not send or deliver, as a production exception handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct ProductionFailure<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    pub(crate) error: &'a KafkaError,
}

impl<'a> ProductionFailure<'a> {
    /// The topic the record was for.
    pub fn topic(&self) -> &'a str {
        self.topic
    }

    /// The partition, if it was chosen.
    pub fn partition(&self) -> Option<i32> {
        self.partition
    }

    /// The record's key bytes.
    pub fn key(&self) -> Option<&'a [u8]> {
        self.key
    }

    /// The record's value bytes.
    pub fn value(&self) -> Option<&'a [u8]> {
        self.value
    }

    /// librdkafka's error (its code is [`KafkaError::rdkafka_error_code`]).
    pub fn error(&self) -> &'a KafkaError {
        self.error
    }

    /// Whether the error may go away by itself: a timeout, a broker or leader that is not
    /// available, too few in-sync replicas, a full queue — the Java client's
    /// `RetriableException`s. An unknown topic is not retriable here (it is a configuration
    /// error, reported at once instead of retried forever).
    pub fn is_retriable(&self) -> bool {
        is_retriable(self.error)
    }
}

/// Whether a producer error is transient (see [`ProductionFailure::is_retriable`]).
pub(crate) fn is_retriable(error: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        error.rdkafka_error_code(),
        Some(
            C::MessageTimedOut
                | C::RequestTimedOut
                | C::OperationTimedOut
                | C::TimedOutQueue
                | C::QueueFull
                | C::NotEnoughReplicas
                | C::NotEnoughReplicasAfterAppend
                | C::LeaderNotAvailable
                | C::NotLeaderForPartition
                | C::BrokerNotAvailable
                | C::ReplicaNotAvailable
                | C::NetworkException
                | C::BrokerTransportFailure
                | C::AllBrokersDown
                | C::KafkaStorageError
                | C::Retry
        )
    )
}

/// A production exception handler of your own — Kafka Streams' `ProductionExceptionHandler`.
/// Any `Fn(&ProductionFailure<'_>) -> ProductionResponse` is one.
///
/// ```
/// use streams_core::config::{ProductionFailure, ProductionResponse, StreamsConfig};
/// let config = StreamsConfig::builder()
///     .application_id("app")
///     .bootstrap_servers("localhost:9092")
///     // Retry what may go away, drop records too large for the broker, fail on the rest.
///     .production_exception_handler_with(|failure: &ProductionFailure<'_>| {
///         if failure.is_retriable() {
///             ProductionResponse::Retry
///         } else if failure.error().to_string().contains("too large") {
///             ProductionResponse::Continue
///         } else {
///             ProductionResponse::Fail
///         }
///     })
///     .build()?;
/// # let _ = config;
/// # Ok::<(), streams_core::config::ConfigError>(())
/// ```
pub trait ProductionErrorHandler: Send + Sync + 'static {
    /// What to do with the record.
    fn handle(&self, failure: &ProductionFailure<'_>) -> ProductionResponse;
}

impl<F> ProductionErrorHandler for F
where
    F: Fn(&ProductionFailure<'_>) -> ProductionResponse + Send + Sync + 'static,
{
    fn handle(&self, failure: &ProductionFailure<'_>) -> ProductionResponse {
        self(failure)
    }
}

/// The response to `failure`: the user's handler if there is one (a handler that panics
/// fails the record), else the named one; `Retry` for an error that is not retriable is
/// `Fail`, as in Kafka Streams.
pub(crate) fn respond(
    named: ProductionHandler,
    user: Option<&dyn ProductionErrorHandler>,
    failure: &ProductionFailure<'_>,
) -> ProductionResponse {
    let response = match user {
        Some(handler) => {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.handle(failure)))
                .unwrap_or(ProductionResponse::Fail)
        }
        None => match named {
            ProductionHandler::Default if failure.is_retriable() => ProductionResponse::Retry,
            ProductionHandler::Default | ProductionHandler::Fail => ProductionResponse::Fail,
            ProductionHandler::Continue => ProductionResponse::Continue,
        },
    };
    if response == ProductionResponse::Retry && !failure.is_retriable() {
        tracing::warn!(topic = failure.topic, error = %failure.error,
            "the production exception handler answered retry for an error that is not \
             retriable: failing instead");
        return ProductionResponse::Fail;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(error: &KafkaError) -> ProductionFailure<'_> {
        ProductionFailure {
            topic: "out",
            partition: Some(0),
            key: Some(b"k"),
            value: None,
            error,
        }
    }

    #[test]
    fn the_default_retries_transient_errors_and_fails_on_the_rest() {
        let timeout = KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut);
        let too_large = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        let unknown = KafkaError::MessageProduction(RDKafkaErrorCode::UnknownTopic);
        let default = ProductionHandler::Default;
        assert_eq!(
            respond(default, None, &failure(&timeout)),
            ProductionResponse::Retry
        );
        assert_eq!(
            respond(default, None, &failure(&too_large)),
            ProductionResponse::Fail
        );
        assert_eq!(
            respond(default, None, &failure(&unknown)),
            ProductionResponse::Fail
        );
        assert_eq!(
            respond(ProductionHandler::Fail, None, &failure(&timeout)),
            ProductionResponse::Fail
        );
        assert_eq!(
            respond(ProductionHandler::Continue, None, &failure(&too_large)),
            ProductionResponse::Continue
        );
    }

    #[test]
    fn a_user_handler_decides_but_cannot_retry_what_is_not_retriable() {
        let too_large = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        let retry = |_: &ProductionFailure<'_>| ProductionResponse::Retry;
        assert_eq!(
            respond(
                ProductionHandler::Continue,
                Some(&retry),
                &failure(&too_large)
            ),
            ProductionResponse::Fail
        );
        let keep_going = |f: &ProductionFailure<'_>| {
            assert_eq!(
                (f.topic(), f.partition(), f.key()),
                ("out", Some(0), Some(&b"k"[..]))
            );
            ProductionResponse::Continue
        };
        assert_eq!(
            respond(
                ProductionHandler::Fail,
                Some(&keep_going),
                &failure(&too_large)
            ),
            ProductionResponse::Continue
        );
        let panics = |_: &ProductionFailure<'_>| -> ProductionResponse { panic!("a bug") };
        assert_eq!(
            respond(
                ProductionHandler::Continue,
                Some(&panics),
                &failure(&too_large)
            ),
            ProductionResponse::Fail
        );
    }
}
