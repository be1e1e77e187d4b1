//! A task's input partitions and their buffered records — Kafka Streams' `PartitionGroup`.
//!
//! The next record a task processes is the head with the lowest timestamp among its
//! partitions. While some partition has nothing buffered, the task may wait for it, as
//! `max.task.idle.ms` says: `-1` never waits; `0` waits only while that partition is known to
//! have more data (its end offset, from the consumer's statistics, is past the task's
//! position); a positive value waits that long at most, then processes what it has.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::record::Headers;

/// A consumed record, copied out of the consumer to be buffered.
#[derive(Debug)]
pub(crate) struct OwnedRecord {
    pub(crate) offset: i64,
    /// The record's own (Kafka) timestamp.
    pub(crate) timestamp: i64,
    /// What the task orders by: the source's extracted timestamp.
    pub(crate) extracted: i64,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) headers: Headers,
}

/// One input partition of a task.
#[derive(Debug)]
pub(crate) struct InputPartition {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    /// The task graph's source input for the topic.
    pub(crate) source: usize,
    pub(crate) queue: VecDeque<OwnedRecord>,
    /// Last processed offset + 1.
    pub(crate) position: Option<i64>,
    /// Last committed offset.
    pub(crate) committed: Option<i64>,
    /// Paused on the consumer because its queue is full.
    pub(crate) paused: bool,
}

impl InputPartition {
    pub(crate) fn new(topic: Arc<str>, partition: i32, source: usize) -> Self {
        InputPartition {
            topic,
            partition,
            source,
            queue: VecDeque::new(),
            position: None,
            committed: None,
            paused: false,
        }
    }
}

/// Picks which buffered record a task processes next.
#[derive(Debug)]
pub(crate) struct PartitionGroup {
    pub(crate) partitions: Vec<InputPartition>,
    max_idle_ms: i64,
    /// Since when the task has been waiting for an empty partition.
    idle_since: Option<Instant>,
}

impl PartitionGroup {
    pub(crate) fn new(partitions: Vec<InputPartition>, max_idle_ms: i64) -> Self {
        PartitionGroup {
            partitions,
            max_idle_ms,
            idle_since: None,
        }
    }

    /// Records buffered over all partitions.
    pub(crate) fn buffered(&self) -> usize {
        self.partitions.iter().map(|p| p.queue.len()).sum()
    }

    /// The partition whose head is next, or `None` to wait. `end_offset(topic, partition)`
    /// gives the partition's end offset as last seen by the consumer, if known.
    pub(crate) fn next_partition(
        &mut self,
        now: Instant,
        end_offset: impl Fn(&str, i32) -> Option<i64>,
    ) -> Option<usize> {
        let lowest = self
            .partitions
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.queue.front().map(|r| (r.extracted, i)))
            .min()
            .map(|(_, i)| i)?;
        let must_wait = self.max_idle_ms >= 0
            && self.partitions.iter().any(|p| {
                p.queue.is_empty()
                    && match (end_offset(&p.topic, p.partition), p.position) {
                        // Caught up: nothing more to wait for.
                        (Some(end), Some(position)) => end > position,
                        (Some(end), None) => end > p.committed.unwrap_or(0),
                        (None, _) => true,
                    }
            });
        if !must_wait {
            self.idle_since = None;
            return Some(lowest);
        }
        if self.max_idle_ms == 0 {
            return None;
        }
        let since = *self.idle_since.get_or_insert(now);
        let waited = now.saturating_duration_since(since);
        if waited >= Duration::from_millis(u64::try_from(self.max_idle_ms).unwrap_or(0)) {
            // Enforced processing: waited long enough for the empty partitions.
            Some(lowest)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: i64, timestamp: i64) -> OwnedRecord {
        OwnedRecord {
            offset,
            timestamp,
            extracted: timestamp,
            key: None,
            value: None,
            headers: Headers::new(),
        }
    }

    fn group(max_idle_ms: i64) -> PartitionGroup {
        PartitionGroup::new(
            vec![
                InputPartition::new(Arc::from("a"), 0, 0),
                InputPartition::new(Arc::from("b"), 0, 1),
            ],
            max_idle_ms,
        )
    }

    #[test]
    fn lowest_timestamp_head_goes_first() {
        let mut g = group(0);
        g.partitions[0].queue.push_back(record(0, 20));
        g.partitions[1].queue.push_back(record(0, 10));
        assert_eq!(g.next_partition(Instant::now(), |_, _| None), Some(1));
    }

    #[test]
    fn idle_zero_waits_only_for_data_on_the_way() {
        let mut g = group(0);
        g.partitions[0].queue.push_back(record(0, 20));
        let now = Instant::now();
        // Partition b has records past its position: wait.
        assert_eq!(g.next_partition(now, |t, _| (t == "b").then_some(5)), None);
        // Partition b is empty on the broker: go.
        assert_eq!(
            g.next_partition(now, |t, _| (t == "b").then_some(0)),
            Some(0)
        );
    }

    #[test]
    fn idle_positive_waits_then_enforces_processing() {
        let mut g = group(100);
        g.partitions[0].queue.push_back(record(0, 20));
        let now = Instant::now();
        assert_eq!(g.next_partition(now, |_, _| None), None);
        assert_eq!(
            g.next_partition(now + Duration::from_millis(50), |_, _| None),
            None
        );
        assert_eq!(
            g.next_partition(now + Duration::from_millis(100), |_, _| None),
            Some(0)
        );
    }

    #[test]
    fn idle_minus_one_never_waits() {
        let mut g = group(-1);
        g.partitions[1].queue.push_back(record(0, 20));
        assert_eq!(g.next_partition(Instant::now(), |_, _| None), Some(1));
    }
}
