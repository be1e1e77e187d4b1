//! Where an assigned input partition starts: the group's committed offset, asked for by the
//! stream thread itself, or `auto.offset.reset` when the group never committed one.
//!
//! The thread does not leave this to librdkafka's assignment (`assign` with no offset): its
//! OffsetFetch gives up for good on a request-level error — the group coordinator moving or
//! still loading, as just after a broker restart — and the partition is then never fetched
//! while the consumer looks healthy. Here such errors are retried for
//! `default.api.timeout.ms`, as Kafka Streams' consumer does, and then fail the thread; a
//! thread asked to stop meanwhile stops waiting.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};
use tracing::{debug, warn};

use super::consumer::StreamConsumer;
use super::error::RuntimeError;
use crate::config::AutoOffsetReset;

/// The first wait between two attempts; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long one OffsetFetch may take before it is asked again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The offsets `partitions` start from, in their order: each one's committed offset, else
/// where `reset` says (`earliest`: the beginning, `latest`: the end, `none`: an error).
/// `None` when `stop` was set while waiting for the broker.
pub(crate) fn start_offsets(
    consumer: &StreamConsumer,
    partitions: &[(&str, i32)],
    reset: AutoOffsetReset,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Option<Vec<Offset>>, RuntimeError> {
    if partitions.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut asked = TopicPartitionList::with_capacity(partitions.len());
    for &(topic, partition) in partitions {
        asked.add_partition(topic, partition);
    }
    let Some(committed) = fetch(consumer, &asked, timeout, stop)? else {
        return Ok(None);
    };
    partitions
        .iter()
        .map(|&(topic, partition)| {
            match committed
                .find_partition(topic, partition)
                .map(|e| e.offset())
            {
                Some(Offset::Offset(offset)) => Ok(Offset::Offset(offset)),
                _ => match reset {
                    AutoOffsetReset::Earliest => Ok(Offset::Beginning),
                    AutoOffsetReset::Latest => Ok(Offset::End),
                    AutoOffsetReset::None => Err(RuntimeError::NoCommittedOffset {
                        topic: topic.to_owned(),
                        partition,
                    }),
                },
            }
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// The group's committed offsets of `asked`, retrying what a coordinator change explains
/// until `timeout` has passed or `stop` is set (`None`).
fn fetch(
    consumer: &StreamConsumer,
    asked: &TopicPartitionList,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Option<TopicPartitionList>, RuntimeError> {
    let deadline = Instant::now() + timeout;
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let error = match consumer.committed_offsets(asked.clone(), left.min(ATTEMPT_TIMEOUT)) {
            Ok(committed) => match partition_error(&committed) {
                None => {
                    if attempts > 1 {
                        debug!(attempts, "committed offsets fetched");
                    }
                    return Ok(Some(committed));
                }
                Some(e) => e,
            },
            Err(e) => e,
        };
        if fatal(&error) || Instant::now() + backoff >= deadline {
            return Err(RuntimeError::CommittedOffsets {
                timeout,
                source: error,
            });
        }
        if attempts == 1 {
            warn!(error = %error, "fetching the committed offsets failed; asking again");
        }
        if stop.load(Ordering::Acquire) {
            return Ok(None);
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The first partition-level error of an OffsetFetch answer.
fn partition_error(committed: &TopicPartitionList) -> Option<KafkaError> {
    committed.elements().iter().find_map(|e| e.error().err())
}

/// Errors no retry mends.
fn fatal(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::Fatal
        )
    )
}
