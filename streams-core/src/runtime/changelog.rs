//! A task's changelog sink: every write reaching a logging store is produced to the task's
//! partition of `<application.id>-<store>-changelog` by the stream thread's producer, with a
//! delivery opaque that makes the producer's context track the written offsets (for
//! checkpoints).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use rdkafka::producer::BaseRecord;

use crate::state::{ChangelogRecord, ChangelogSink, StoreError};

use super::collector::{CHANGELOG, Producer, send};

/// The changelog sink of one task.
pub(crate) struct KafkaChangelog {
    producer: Arc<Producer>,
    /// The task's partition.
    partition: i32,
    /// (store, changelog topic) of the task's logging stores; few, so a linear scan.
    topics: Vec<(String, String)>,
    /// The timestamp of the record being processed (or of the last one), used for writes that
    /// carry no timestamp of their own.
    now: Rc<Cell<i64>>,
}

impl KafkaChangelog {
    pub(crate) fn new(
        producer: Arc<Producer>,
        partition: i32,
        topics: Vec<(String, String)>,
        now: Rc<Cell<i64>>,
    ) -> Self {
        KafkaChangelog {
            producer,
            partition,
            topics,
            now,
        }
    }
}

impl ChangelogSink for KafkaChangelog {
    fn send(&self, record: ChangelogRecord<'_>) -> Result<(), StoreError> {
        let Some((_, topic)) = self.topics.iter().find(|(s, _)| s == record.store) else {
            return Err(StoreError::Changelog {
                store: record.store.to_string(),
                topic: String::new(),
                reason: "the store has no changelog topic in this task".to_string(),
            });
        };
        let timestamp = record.timestamp.unwrap_or_else(|| self.now.get()).max(0);
        let mut base: BaseRecord<'_, [u8], [u8], usize> =
            BaseRecord::with_opaque_to(topic, CHANGELOG)
                .partition(self.partition)
                .key(record.key)
                .timestamp(timestamp);
        if let Some(value) = record.value {
            base = base.payload(value);
        }
        send(&self.producer, base).map_err(|e| StoreError::Changelog {
            store: record.store.to_string(),
            topic: topic.clone(),
            reason: e.to_string(),
        })
    }
}
