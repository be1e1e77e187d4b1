//! Naming partitions: a (topic, partition) pair, librdkafka partition lists built from them,
//! and a map keyed by them that looks up without allocating (topic, then partition index).

use std::sync::Arc;

use rdkafka::{Offset, TopicPartitionList};

/// A topic partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicPartition {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
}

impl TopicPartition {
    pub(crate) fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }

    /// The partitions of a librdkafka list.
    pub(crate) fn list(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
        tpl.elements()
            .iter()
            .map(|e| TopicPartition::new(e.topic(), e.partition()))
            .collect()
    }
}

/// A librdkafka partition list (for pause, resume, assign) of (topic, partition, offset).
pub(crate) fn partition_list<'a>(
    partitions: impl IntoIterator<Item = (&'a str, i32, Offset)>,
) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for (topic, partition, offset) in partitions {
        // Fails only for an offset librdkafka cannot represent, which `Offset` rules out.
        let _ = tpl.add_partition_offset(topic, partition, offset);
    }
    tpl
}

/// Values by (topic, partition): a vector per topic indexed by partition. A thread reads a few
/// topics, so the per-record lookup scans them (cheaper than hashing the name) and allocates
/// nothing.
#[derive(Debug, Clone)]
pub(crate) struct PartitionMap<T> {
    topics: Vec<(Arc<str>, Vec<Option<T>>)>,
}

impl<T> Default for PartitionMap<T> {
    fn default() -> Self {
        PartitionMap { topics: Vec::new() }
    }
}

impl<T> PartitionMap<T> {
    /// The value of (topic, partition).
    pub(crate) fn get(&self, topic: &str, partition: i32) -> Option<&T> {
        let (_, slots) = self.topics.iter().find(|(t, _)| **t == *topic)?;
        slots.get(usize::try_from(partition).ok()?)?.as_ref()
    }

    /// The slot of (topic, partition), created empty if missing (`None` for a negative
    /// partition).
    pub(crate) fn slot(&mut self, topic: &str, partition: i32) -> Option<&mut Option<T>> {
        let index = usize::try_from(partition).ok()?;
        let at = match self.topics.iter().position(|(t, _)| **t == *topic) {
            Some(at) => at,
            None => {
                self.topics.push((Arc::from(topic), Vec::new()));
                self.topics.len() - 1
            }
        };
        let slots = &mut self.topics[at].1;
        if slots.len() <= index {
            slots.resize_with(index + 1, || None);
        }
        slots.get_mut(index)
    }

    /// Sets the value of (topic, partition).
    pub(crate) fn insert(&mut self, topic: &str, partition: i32, value: T) {
        if let Some(slot) = self.slot(topic, partition) {
            *slot = Some(value);
        }
    }

    /// Removes every value.
    pub(crate) fn clear(&mut self) {
        self.topics.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_topic_and_partition() {
        let mut map = PartitionMap::default();
        map.insert("a", 3, 30);
        map.insert("b", 0, 0);
        assert_eq!(map.get("a", 3), Some(&30));
        assert_eq!(map.get("a", 2), None);
        assert_eq!(map.get("a", 9), None);
        assert_eq!(map.get("c", 0), None);
        assert_eq!(map.get("a", -1), None);
        *map.slot("a", 3).unwrap() = Some(31);
        assert_eq!(map.get("a", 3), Some(&31));
        map.clear();
        assert_eq!(map.get("a", 3), None);
    }
}
