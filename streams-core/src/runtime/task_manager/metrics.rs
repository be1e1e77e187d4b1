//! The metrics snapshot a thread publishes for [`KafkaStreams::metrics`]: about once a second,
//! after rebalances, and when the thread stops.
//!
//! [`KafkaStreams::metrics`]: crate::runtime::KafkaStreams::metrics

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;

use super::super::consumer::StreamConsumer;
use super::super::metrics::ThreadMetrics;
use super::super::state::ThreadState;
use super::TaskManager;

/// How often a running thread publishes its metrics.
const PUBLISH_INTERVAL: Duration = Duration::from_secs(1);

impl TaskManager {
    /// Publishes a snapshot if [`PUBLISH_INTERVAL`] went by since the last one.
    pub(crate) fn publish_if_due(&mut self, consumer: &StreamConsumer, now: Instant) {
        if now.saturating_duration_since(self.last_publish) >= PUBLISH_INTERVAL {
            self.publish(consumer, None);
        }
    }

    /// Publishes a metrics snapshot; `state` overrides the thread state shown.
    pub(crate) fn publish(&mut self, consumer: &StreamConsumer, state: Option<ThreadState>) {
        let now = Instant::now();
        self.last_publish = now;
        let context = consumer.context();
        let fetched = |topic: &str, partition: i32| context.fetched(topic, partition);
        let tasks = self
            .active
            .iter_mut()
            .map(|t| t.metrics(now, &fetched))
            .collect();
        let counts = &mut self.counts;
        let skipped = counts.skipped + self.active.iter().map(|t| t.skipped).sum::<u64>();
        let operator_dropped =
            counts.operator_dropped + self.active.iter().map(|t| t.dropped_records()).sum::<u64>();
        let metrics = ThreadMetrics {
            name: self.name.to_string(),
            state: state.unwrap_or(ThreadState::Running),
            records_processed: counts.processed,
            process_rate: counts.rate.rate(now),
            records_skipped: skipped,
            records_dropped: counts.dropped.load(Ordering::Relaxed),
            dropped_records: operator_dropped,
            aborted_transactions: counts.aborted_transactions,
            production_retries: counts.production_retries,
            commits: counts.commits.count,
            commit_latency_avg: counts.commits.avg(),
            commit_latency_max: counts.commits.max,
            uncommitted_revocations: counts.uncommitted_revocations,
            tasks,
        };
        let mut inner = self.shared.lock();
        let thread_state = inner.threads.get(self.thread).copied();
        if let Some(slot) = inner.metrics.get_mut(self.thread) {
            *slot = ThreadMetrics {
                state: state.or(thread_state).unwrap_or(metrics.state),
                ..metrics
            };
        }
    }
}
