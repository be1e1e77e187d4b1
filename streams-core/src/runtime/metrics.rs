//! Metrics of a running application: records processed and process rate per thread and task,
//! commit latency, consumer lag per partition. Threads publish a snapshot about once a second
//! and after every commit; [`KafkaStreams::metrics`](super::KafkaStreams::metrics) returns the
//! latest.

use std::time::{Duration, Instant};

use crate::processor::TaskId;

use super::state::ThreadState;

/// A snapshot of every stream thread's metrics.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct StreamsMetrics {
    /// One entry per stream thread.
    pub threads: Vec<ThreadMetrics>,
}

impl StreamsMetrics {
    /// Records processed by all threads.
    pub fn records_processed(&self) -> u64 {
        self.threads.iter().map(|t| t.records_processed).sum()
    }

    /// Records operators dropped on purpose, over all threads (see
    /// [`ThreadMetrics::dropped_records`]).
    pub fn dropped_records(&self) -> u64 {
        self.threads.iter().map(|t| t.dropped_records).sum()
    }

    /// Revocations in which a thread could not commit what it processed (see
    /// [`ThreadMetrics::uncommitted_revocations`]): while zero, every record was processed once.
    pub fn uncommitted_revocations(&self) -> u64 {
        self.threads.iter().map(|t| t.uncommitted_revocations).sum()
    }

    /// The ids of the tasks this instance runs, sorted.
    pub fn task_ids(&self) -> Vec<TaskId> {
        let mut ids: Vec<TaskId> = self
            .threads
            .iter()
            .flat_map(|t| t.tasks.iter().map(|task| task.id))
            .collect();
        ids.sort();
        ids
    }
}

/// One stream thread's metrics.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ThreadMetrics {
    /// The thread's name (`<client.id>-StreamThread-<n>`).
    pub name: String,
    /// Its state.
    pub state: ThreadState,
    /// Records processed since the thread started (tasks come and go; this does not).
    pub records_processed: u64,
    /// Records processed per second over the last window (about one second).
    pub process_rate: f64,
    /// Records skipped by a `log-and-continue` handler.
    pub records_skipped: u64,
    /// Records the producer failed to deliver and a `continue` handler dropped.
    pub records_dropped: u64,
    /// Records operators dropped on purpose — Kafka Streams' `dropped-records`: a null key or
    /// value at an aggregation, a null a DSL source's types cannot hold.
    pub dropped_records: u64,
    /// Transactions that failed and were aborted (exactly-once): their tasks started again
    /// from the committed offsets.
    pub aborted_transactions: u64,
    /// Times the production handler said retry: the thread's tasks started again from their
    /// committed offsets to produce what failed again.
    pub production_retries: u64,
    /// Commits done.
    pub commits: u64,
    /// Mean commit latency: from the start of a commit until its offsets are committed (the
    /// wait for the acknowledgement of the records sent before it, and the offset commit).
    pub commit_latency_avg: Duration,
    /// Highest commit latency.
    pub commit_latency_max: Duration,
    /// Revocations in which the thread could not commit what its tasks processed: it had lost
    /// its partitions already (its session with the group expired, e.g. the broker was
    /// unreachable), or the commit failed. Those records are processed again (at-least-once);
    /// while this is zero, every record was processed once.
    pub uncommitted_revocations: u64,
    /// The thread's active tasks.
    pub tasks: Vec<TaskMetrics>,
}

impl ThreadMetrics {
    pub(crate) fn new(name: String) -> Self {
        ThreadMetrics {
            name,
            state: ThreadState::Starting,
            records_processed: 0,
            process_rate: 0.0,
            records_skipped: 0,
            records_dropped: 0,
            dropped_records: 0,
            aborted_transactions: 0,
            production_retries: 0,
            commits: 0,
            commit_latency_avg: Duration::ZERO,
            commit_latency_max: Duration::ZERO,
            uncommitted_revocations: 0,
            tasks: Vec::new(),
        }
    }
}

/// One task's metrics.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskMetrics {
    /// The task.
    pub id: TaskId,
    /// Records processed since the task was created on this thread.
    pub records_processed: u64,
    /// Records processed per second over the last window.
    pub process_rate: f64,
    /// The task's input partitions.
    pub partitions: Vec<PartitionMetrics>,
}

/// One input partition of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionMetrics {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The next offset to process (last processed + 1), if any record was processed.
    pub position: Option<i64>,
    /// The last committed offset, if any.
    pub committed: Option<i64>,
    /// Records between the position and the partition's end, per the consumer's last fetch
    /// statistics; `None` until known.
    pub lag: Option<i64>,
}

/// Counts events and turns them into a per-second rate over windows of about a second.
#[derive(Debug, Clone)]
pub(crate) struct RateMeter {
    window_start: Instant,
    in_window: u64,
    rate: f64,
}

impl RateMeter {
    pub(crate) fn new(now: Instant) -> Self {
        RateMeter {
            window_start: now,
            in_window: 0,
            rate: 0.0,
        }
    }

    pub(crate) fn record(&mut self, n: u64) {
        self.in_window += n;
    }

    /// The rate of the last completed window, closing the current one if a second has passed.
    pub(crate) fn rate(&mut self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= Duration::from_secs(1) {
            self.rate = self.in_window as f64 / elapsed.as_secs_f64();
            self.in_window = 0;
            self.window_start = now;
        }
        self.rate
    }
}

/// Commit latency bookkeeping.
#[derive(Debug, Clone, Default)]
pub(crate) struct CommitStats {
    pub(crate) count: u64,
    total: Duration,
    pub(crate) max: Duration,
}

impl CommitStats {
    pub(crate) fn record(&mut self, latency: Duration) {
        self.count += 1;
        self.total += latency;
        self.max = self.max.max(latency);
    }

    pub(crate) fn avg(&self) -> Duration {
        if self.count == 0 {
            Duration::ZERO
        } else {
            self.total / u32::try_from(self.count).unwrap_or(u32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_a_window() {
        let start = Instant::now();
        let mut meter = RateMeter::new(start);
        meter.record(500);
        assert_eq!(meter.rate(start + Duration::from_millis(500)), 0.0);
        meter.record(500);
        let rate = meter.rate(start + Duration::from_secs(2));
        assert!((rate - 500.0).abs() < 1e-9, "{rate}");
    }

    #[test]
    fn commit_latency() {
        let mut stats = CommitStats::default();
        stats.record(Duration::from_millis(10));
        stats.record(Duration::from_millis(30));
        assert_eq!(stats.avg(), Duration::from_millis(20));
        assert_eq!(stats.max, Duration::from_millis(30));
    }
}
