//! Exactly-once (`processing.guarantee=exactly_once_v2`, KIP-447): the calls that end a stream
//! thread's transactions, each bounded by a deadline of our own (librdkafka can block past the
//! timeout it is given, e.g. in `send_offsets_to_transaction`), and what their failures mean.
//!
//! A commit is: the stores flushed (their changelog writes and forwarded updates join the open
//! transaction), the offsets after the last processed record of every input partition sent to
//! the transaction with the consumer's group metadata of that moment, then the transaction
//! committed. An abortable failure aborts the transaction: the tasks' records since the last
//! commit are processed again from the committed offsets, their state restored. A fatal one
//! (the producer fenced, or a call past its deadline) does the same with a new producer.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::producer::Producer as _;

use super::collector::Producer;

/// How much longer than the timeout it is given a transactional call may take before the
/// thread stops waiting for it.
const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// Why a transactional call failed (exactly-once only).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The transaction must be aborted; the producer stays usable.
    #[error("the transaction must be aborted: {source}")]
    Abortable {
        /// The error.
        #[source]
        source: KafkaError,
    },
    /// The producer is unusable (fenced by a newer instance, or another fatal error).
    #[error("the transactional producer failed for good: {source}")]
    Fatal {
        /// The error.
        #[source]
        source: KafkaError,
    },
    /// The consumer had no group metadata to send the offsets with (it is not in the group).
    #[error("the consumer has no group metadata (it is not a member of the group)")]
    NoGroupMetadata,
    /// The call did not return within its deadline.
    #[error("`{operation}` did not return within {deadline:?}")]
    Deadline {
        /// The call.
        operation: &'static str,
        /// How long the thread waited.
        deadline: Duration,
    },
}

impl TransactionError {
    /// Whether the producer must be replaced.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            TransactionError::Fatal { .. } | TransactionError::Deadline { .. }
        )
    }
}

/// What a failed transactional call means.
pub(crate) fn classify(error: KafkaError) -> TransactionError {
    match &error {
        KafkaError::Transaction(e) if e.txn_requires_abort() && !e.is_fatal() => {
            TransactionError::Abortable { source: error }
        }
        KafkaError::Transaction(e) if e.is_fatal() => TransactionError::Fatal { source: error },
        // Anything else ends the transaction too: abort it and go on from the committed offsets.
        _ => TransactionError::Abortable { source: error },
    }
}

/// Runs `call` on the producer from a helper thread, retrying retriable errors, and waits at
/// most `timeout` plus a margin.
pub(crate) fn call(
    producer: &Arc<Producer>,
    operation: &'static str,
    timeout: Duration,
    call: impl Fn(&Producer, Duration) -> KafkaResult<()> + Send + 'static,
) -> Result<(), TransactionError> {
    let deadline = timeout + DEADLINE_MARGIN;
    let (reply, answer) = mpsc::channel();
    let producer = Arc::clone(producer);
    let spawned = std::thread::Builder::new()
        .name(format!("txn-{operation}"))
        .spawn(move || {
            let start = Instant::now();
            let result = loop {
                let left = timeout.saturating_sub(start.elapsed());
                match call(&producer, left) {
                    Err(KafkaError::Transaction(e))
                        if e.is_retriable() && !e.is_fatal() && !left.is_zero() =>
                    {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    other => break other,
                }
            };
            let _ = reply.send(result);
        });
    if spawned.is_err() {
        return Err(TransactionError::Deadline {
            operation,
            deadline: Duration::ZERO,
        });
    }
    match answer.recv_timeout(deadline) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(classify(e)),
        Err(_) => Err(TransactionError::Deadline {
            operation,
            deadline,
        }),
    }
}

/// `init_transactions`: fences the previous producer with the same transactional id and
/// aborts its open transaction.
pub(crate) fn init(producer: &Arc<Producer>, timeout: Duration) -> Result<(), TransactionError> {
    call(producer, "init_transactions", timeout, |p, t| {
        p.init_transactions(t)
    })
}

/// Aborts the open transaction, if any.
pub(crate) fn abort(producer: &Arc<Producer>, timeout: Duration) -> Result<(), TransactionError> {
    if !producer.context().in_transaction() {
        return Ok(());
    }
    let result = call(producer, "abort_transaction", timeout, |p, t| {
        p.abort_transaction(t)
    });
    producer.context().transaction_ended();
    result
}
