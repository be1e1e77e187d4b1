//! The consumer side of a stream thread: its librdkafka context, which runs the rebalance
//! callbacks (inside `poll`, on the stream thread) and keeps the end offsets reported in the
//! consumer's statistics.

use std::collections::HashMap;
use std::sync::Mutex;

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use tracing::warn;

use super::task_manager::with_task_manager;

/// A stream thread's consumer.
pub(crate) type StreamConsumer = BaseConsumer<StreamsConsumerContext>;

/// The consumer context of a stream thread.
#[derive(Default)]
pub(crate) struct StreamsConsumerContext {
    /// End (high watermark) offsets by topic, indexed by partition; -1 when unknown.
    end_offsets: Mutex<HashMap<String, Vec<i64>>>,
}

impl StreamsConsumerContext {
    /// The end offset of a partition per the last statistics, if known.
    pub(crate) fn end_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        let offsets = self.end_offsets.lock().unwrap_or_else(|p| p.into_inner());
        let i = usize::try_from(partition).ok()?;
        offsets
            .get(topic)
            .and_then(|v| v.get(i))
            .copied()
            .filter(|o| *o >= 0)
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
            let slot = offsets.entry(topic.clone()).or_default();
            for (p, stats) in partitions {
                let (Ok(p), Some(hi)) = (
                    p.parse::<usize>(),
                    stats.get("hi_offset").and_then(serde_json::Value::as_i64),
                ) else {
                    continue;
                };
                if slot.len() <= p {
                    slot.resize(p + 1, -1);
                }
                slot[p] = hi;
            }
        }
    }
}

impl ConsumerContext for StreamsConsumerContext {
    fn pre_rebalance(&self, consumer: &StreamConsumer, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                with_task_manager(|tm| tm.on_revoked(consumer, partitions));
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(e) => warn!(error = %e, "rebalance error"),
        }
    }

    fn post_rebalance(&self, consumer: &StreamConsumer, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            with_task_manager(|tm| tm.on_assigned(consumer, partitions));
        }
    }
}
