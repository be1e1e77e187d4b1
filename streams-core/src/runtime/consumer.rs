//! The consumer side of a stream thread: its librdkafka context, which turns the group's
//! rebalance callbacks into [`Rebalance`] events for the thread's step loop, and keeps the end
//! offsets reported in the consumer's statistics.
//!
//! librdkafka runs the rebalance callback inside `poll`. The context only records what
//! happened; the step loop handles it after `poll` returns (commit and close revoked tasks,
//! create assigned ones) and then tells librdkafka (`unassign`, `assign`): until it does, the
//! group waits for this member (librdkafka's `WAIT_UNASSIGN_CALL` / `WAIT_ASSIGN_CALL`), so a
//! revocation is still committed before the group moves on.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::topic_partition_list::TopicPartitionList;
use rdkafka::types::RDKafkaRespErr;
use tracing::warn;

use super::partitions::{PartitionMap, TopicPartition};

/// A stream thread's consumer.
pub(crate) type StreamConsumer = BaseConsumer<StreamsConsumerContext>;

/// What the group did to this member's assignment (eager rebalancing: all or nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rebalance {
    /// Every partition of the member is being taken away; `lost` when the member was already
    /// out of the group (session timeout, fenced), so its offsets can no longer be committed.
    Revoked {
        partitions: Vec<TopicPartition>,
        lost: bool,
    },
    /// The member's new assignment.
    Assigned { partitions: Vec<TopicPartition> },
}

/// The consumer context of a stream thread.
/// What the consumer's statistics say of a partition.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fetched {
    /// The end (high watermark) offset.
    pub(crate) end: Option<i64>,
    /// How many records the application has not received yet.
    pub(crate) lag: Option<i64>,
}

#[derive(Default)]
pub(crate) struct StreamsConsumerContext {
    /// Rebalance events not yet handled by the step loop, oldest first.
    rebalances: Mutex<VecDeque<Rebalance>>,
    /// The thread has closed its tasks and is leaving the group: revocations need no handling.
    leaving: AtomicBool,
    /// End (high watermark) offsets and consumer lags, per the consumer's statistics.
    end_offsets: Mutex<PartitionMap<Fetched>>,
}

impl StreamsConsumerContext {
    /// The oldest rebalance event not yet handled.
    pub(crate) fn take_rebalance(&self) -> Option<Rebalance> {
        self.rebalances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }

    /// From now on, revocations (the one leaving the group makes) are acknowledged at once.
    pub(crate) fn leave(&self) {
        self.leaving.store(true, Ordering::Release);
    }

    /// The end offset and lag of a partition per the last statistics, as far as known.
    pub(crate) fn fetched(&self, topic: &str, partition: i32) -> Fetched {
        let offsets = self.end_offsets.lock().unwrap_or_else(|p| p.into_inner());
        offsets.get(topic, partition).copied().unwrap_or_default()
    }
}

impl ClientContext for StreamsConsumerContext {
    fn stats_raw(&self, statistics: &[u8]) {
        // Only the end offsets are needed: read them without parsing all of the statistics.
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(statistics) else {
            return;
        };
        let Some(topics) = value.get("topics").and_then(|t| t.as_object()) else {
            return;
        };
        let mut offsets = self.end_offsets.lock().unwrap_or_else(|p| p.into_inner());
        for (topic, stats) in topics {
            let Some(partitions) = stats.get("partitions").and_then(|p| p.as_object()) else {
                continue;
            };
            for (p, stats) in partitions {
                let (Ok(p), Some(hi)) = (
                    p.parse::<i32>(),
                    stats.get("hi_offset").and_then(serde_json::Value::as_i64),
                ) else {
                    continue;
                };
                // librdkafka's `consumer_lag`: the end offset minus the next offset the
                // application gets (or, before it got any, the group's committed offset).
                let lag = stats
                    .get("consumer_lag")
                    .and_then(serde_json::Value::as_i64)
                    .filter(|l| *l >= 0);
                let fetched = Fetched {
                    end: (hi >= 0).then_some(hi),
                    lag,
                };
                offsets.insert(topic, p, fetched);
            }
        }
    }
}

impl ConsumerContext for StreamsConsumerContext {
    /// Records the event for the step loop instead of assigning at once (see the module docs).
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let partitions = TopicPartition::list(tpl);
        let event = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                Rebalance::Assigned { partitions }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => Rebalance::Revoked {
                partitions,
                lost: consumer.assignment_lost(),
            },
            other => {
                // Not an assignment change: librdkafka asks for an unassign to resynchronize.
                warn!(error = ?other, "rebalance error");
                Rebalance::Revoked {
                    partitions,
                    lost: true,
                }
            }
        };
        if self.leaving.load(Ordering::Acquire) || std::thread::panicking() {
            // The thread closed its tasks already (or dropped them, unwinding from a panic):
            // nobody will take the event, and librdkafka's close waits for the unassign. It
            // treats an assign as an unassign while the consumer closes.
            if let Err(e) = consumer.unassign() {
                warn!(error = %e, "unassign while leaving the group failed");
            }
            return;
        }
        self.rebalances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(event);
    }
}
