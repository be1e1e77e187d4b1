//! A task's input partitions and their buffered records — Kafka Streams' `PartitionGroup` —
//! and back-pressure: a partition whose buffer is full is paused on the consumer until the task
//! drained it, and all of them are held while the task restores its stores.
//!
//! librdkafka keeps an application's pause across rebalances (unlike Java's consumer, which
//! forgets the pause of a revoked partition): a partition paused when it was revoked would never
//! be fetched again if it came back. So a group releases every pause before its task leaves.
//!
//! The next record a task processes is the head with the lowest timestamp among its
//! partitions. While some partition has nothing buffered, the task may wait for it, as
//! `max.task.idle.ms` says: `-1` never waits; `0` waits only while that partition is known to
//! have more data (its end offset, from the consumer's statistics, is past the task's
//! position); a positive value waits that long at most, then processes what it has.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::TopicPartitionList;
use rdkafka::error::KafkaResult;

use crate::record::Headers;

use super::consumer::Fetched;
use super::partitions::partition_list;

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
    /// Last committed offset (before the task received a record: where it starts).
    pub(crate) committed: Option<i64>,
    /// Paused on the consumer (its queue is full, or the task is restoring).
    paused: bool,
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

/// Pausing and resuming the fetch of partitions: the stream thread's consumer.
pub(crate) trait Fetch {
    /// Stops fetching `partitions` (what is prefetched is dropped).
    fn pause(&self, partitions: &TopicPartitionList) -> KafkaResult<()>;
    /// Fetches `partitions` again.
    fn resume(&self, partitions: &TopicPartitionList) -> KafkaResult<()>;
}

impl<C: rdkafka::consumer::ConsumerContext> Fetch for rdkafka::consumer::BaseConsumer<C> {
    fn pause(&self, partitions: &TopicPartitionList) -> KafkaResult<()> {
        rdkafka::consumer::Consumer::pause(self, partitions)
    }

    fn resume(&self, partitions: &TopicPartitionList) -> KafkaResult<()> {
        rdkafka::consumer::Consumer::resume(self, partitions)
    }
}

/// A task's input partitions: picks which buffered record the task processes next, and pauses
/// and resumes their fetch.
#[derive(Debug)]
pub(crate) struct PartitionGroup {
    pub(crate) partitions: Vec<InputPartition>,
    max_idle_ms: i64,
    /// Since when the task has been waiting for an empty partition.
    idle_since: Option<Instant>,
    /// Records buffered per partition before it is paused (`buffered.records.per.partition`).
    buffered_max: usize,
    /// Every partition is paused until [`release`](Self::release) (the task is restoring).
    held: bool,
}

impl PartitionGroup {
    pub(crate) fn new(
        partitions: Vec<InputPartition>,
        max_idle_ms: i64,
        buffered_max: usize,
    ) -> Self {
        PartitionGroup {
            partitions,
            max_idle_ms,
            idle_since: None,
            buffered_max: buffered_max.max(1),
            held: false,
        }
    }

    /// Buffers a record of input `input`, pausing the partition once its buffer is full.
    pub(crate) fn buffer(&mut self, input: usize, record: OwnedRecord, fetch: &impl Fetch) {
        let Some(p) = self.partitions.get_mut(input) else {
            return;
        };
        p.queue.push_back(record);
        if p.queue.len() >= self.buffered_max && !p.paused {
            p.paused = set_paused(fetch, [(&*p.topic, p.partition)], true);
        }
    }

    /// Resumes the partitions paused for a full buffer that the task has drained below the
    /// bound (not while the group is held).
    pub(crate) fn resume_drained(&mut self, fetch: &impl Fetch) {
        if self.held {
            return;
        }
        let max = self.buffered_max;
        for p in &mut self.partitions {
            if p.paused && p.queue.len() < max {
                p.paused = !set_paused(fetch, [(&*p.topic, p.partition)], false);
            }
        }
    }

    /// Pauses every partition until [`release`](Self::release): the task restores its stores.
    pub(crate) fn hold(&mut self, fetch: &impl Fetch) {
        self.held = true;
        if set_paused(
            fetch,
            self.partitions.iter().map(|p| (&*p.topic, p.partition)),
            true,
        ) {
            self.partitions.iter_mut().for_each(|p| p.paused = true);
        }
    }

    /// Resumes every paused partition: the task is done restoring, or it leaves the thread
    /// (librdkafka would keep the pause for whoever gets the partition here next).
    pub(crate) fn release(&mut self, fetch: &impl Fetch) {
        self.held = false;
        let paused = self.partitions.iter().filter(|p| p.paused);
        if set_paused(fetch, paused.map(|p| (&*p.topic, p.partition)), false) {
            self.partitions.iter_mut().for_each(|p| p.paused = false);
        }
    }

    /// Drops the buffered records; they are fetched again when the partitions are.
    pub(crate) fn clear(&mut self) {
        self.partitions.iter_mut().for_each(|p| p.queue.clear());
    }

    /// Records buffered over all partitions.
    pub(crate) fn buffered(&self) -> usize {
        self.partitions.iter().map(|p| p.queue.len()).sum()
    }

    /// Takes the next record to process (the head with the lowest timestamp) and its input
    /// index, or `None` to wait (see [`next_partition`](Self::next_partition)).
    pub(crate) fn next_record(
        &mut self,
        now: Instant,
        fetched: impl Fn(&str, i32) -> Fetched,
    ) -> Option<(usize, OwnedRecord)> {
        let i = self.next_partition(now, fetched)?;
        let record = self.partitions[i].queue.pop_front()?;
        Some((i, record))
    }

    /// The partition whose head is next, or `None` to wait. `fetched(topic, partition)` gives
    /// the partition's end offset and lag as last seen by the consumer, as far as known.
    fn next_partition(
        &mut self,
        now: Instant,
        fetched: impl Fn(&str, i32) -> Fetched,
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
                p.queue.is_empty() && {
                    let fetched = fetched(&p.topic, p.partition);
                    match (fetched.end, p.position, fetched.lag) {
                        // Caught up: nothing more to wait for.
                        (Some(end), Some(position), _) => end > position,
                        // Nothing received yet since the task was made: the consumer's lag
                        // or the end against where the task starts (the group's committed
                        // offset) says whether more is coming; the previous owner may have
                        // read the partition to its end.
                        (_, None, Some(lag)) => lag > 0,
                        (Some(end), None, None) => end > p.committed.unwrap_or(0),
                        (None, ..) => true,
                    }
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

/// Pauses (or resumes) `partitions`; whether it worked (an empty list always does).
fn set_paused<'a>(
    fetch: &impl Fetch,
    partitions: impl IntoIterator<Item = (&'a str, i32)>,
    pause: bool,
) -> bool {
    let tpl = partition_list(
        partitions
            .into_iter()
            .map(|(topic, partition)| (topic, partition, rdkafka::Offset::Invalid)),
    );
    if tpl.count() == 0 {
        return true;
    }
    let result = if pause {
        fetch.pause(&tpl)
    } else {
        fetch.resume(&tpl)
    };
    if let Err(e) = &result {
        tracing::warn!(error = %e, pause, "cannot pause or resume partitions; will retry");
    }
    result.is_ok()
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
            2,
        )
    }

    /// What a consumer would have paused.
    #[derive(Default)]
    struct Paused(std::cell::RefCell<std::collections::BTreeSet<(String, i32)>>);

    impl Fetch for Paused {
        fn pause(&self, partitions: &TopicPartitionList) -> KafkaResult<()> {
            for e in partitions.elements() {
                self.0
                    .borrow_mut()
                    .insert((e.topic().to_string(), e.partition()));
            }
            Ok(())
        }

        fn resume(&self, partitions: &TopicPartitionList) -> KafkaResult<()> {
            for e in partitions.elements() {
                self.0
                    .borrow_mut()
                    .remove(&(e.topic().to_string(), e.partition()));
            }
            Ok(())
        }
    }

    impl Paused {
        fn topics(&self) -> Vec<String> {
            self.0.borrow().iter().map(|(t, _)| t.clone()).collect()
        }
    }

    #[test]
    fn a_full_buffer_pauses_its_partition_until_drained() {
        let fetch = Paused::default();
        let mut g = group(-1);
        g.buffer(0, record(0, 1), &fetch);
        assert!(fetch.topics().is_empty());
        g.buffer(0, record(1, 2), &fetch);
        assert_eq!(fetch.topics(), ["a"]);
        g.resume_drained(&fetch);
        assert_eq!(fetch.topics(), ["a"], "still full");
        g.partitions[0].queue.pop_front();
        g.resume_drained(&fetch);
        assert!(fetch.topics().is_empty());
    }

    #[test]
    fn a_held_group_resumes_only_when_released() {
        let fetch = Paused::default();
        let mut g = group(-1);
        g.hold(&fetch);
        assert_eq!(fetch.topics(), ["a", "b"]);
        g.resume_drained(&fetch);
        assert_eq!(fetch.topics(), ["a", "b"], "restoring: nothing resumes");
        g.release(&fetch);
        assert!(fetch.topics().is_empty());
    }

    #[test]
    fn release_before_leaving_leaves_nothing_paused() {
        // librdkafka keeps an application's pause across a revoke and a new assignment.
        let fetch = Paused::default();
        let mut g = group(-1);
        g.buffer(1, record(0, 1), &fetch);
        g.buffer(1, record(1, 1), &fetch);
        assert_eq!(fetch.topics(), ["b"]);
        g.release(&fetch);
        g.clear();
        assert!(fetch.topics().is_empty());
        assert_eq!(g.buffered(), 0);
    }

    #[test]
    fn lowest_timestamp_head_goes_first() {
        let mut g = group(0);
        g.partitions[0].queue.push_back(record(0, 20));
        g.partitions[1].queue.push_back(record(0, 10));
        assert_eq!(
            g.next_partition(Instant::now(), |_, _| Fetched::default()),
            Some(1)
        );
    }

    #[test]
    fn idle_zero_waits_only_for_data_on_the_way() {
        let mut g = group(0);
        g.partitions[0].queue.push_back(record(0, 20));
        let now = Instant::now();
        let end = |end: i64| {
            move |t: &str, _| Fetched {
                end: (t == "b").then_some(end),
                lag: None,
            }
        };
        // Partition b has records past its position: wait.
        assert_eq!(g.next_partition(now, end(5)), None);
        // Partition b is empty on the broker: go.
        assert_eq!(g.next_partition(now, end(0)), Some(0));
        // Partition b has records, but the consumer starts past them (the previous owner of
        // the task read them; the group's committed offset is the end): go.
        let read_by_previous_owner = |t: &str, _| Fetched {
            end: (t == "b").then_some(5),
            lag: (t == "b").then_some(0),
        };
        assert_eq!(g.next_partition(now, read_by_previous_owner), Some(0));
        // The consumer is behind: wait.
        let behind = |t: &str, _| Fetched {
            end: (t == "b").then_some(5),
            lag: (t == "b").then_some(2),
        };
        assert_eq!(g.next_partition(now, behind), None);
    }

    #[test]
    fn idle_positive_waits_then_enforces_processing() {
        let mut g = group(100);
        g.partitions[0].queue.push_back(record(0, 20));
        let now = Instant::now();
        assert_eq!(g.next_partition(now, |_, _| Fetched::default()), None);
        assert_eq!(
            g.next_partition(now + Duration::from_millis(50), |_, _| Fetched::default()),
            None
        );
        assert_eq!(
            g.next_partition(now + Duration::from_millis(100), |_, _| Fetched::default()),
            Some(0)
        );
    }

    #[test]
    fn idle_minus_one_never_waits() {
        let mut g = group(-1);
        g.partitions[1].queue.push_back(record(0, 20));
        assert_eq!(
            g.next_partition(Instant::now(), |_, _| Fetched::default()),
            Some(1)
        );
    }
}
