//! Running topologies on Kafka: [`KafkaStreams`], its stream threads and tasks.
//!
//! The model is Kafka Streams': one task per (sub-topology, input partition), created when the
//! consumer group assigns the partition to one of the instance's `num.stream.threads` stream
//! threads, committed and suspended when it is revoked. Each thread has its own consumer
//! (group = `application.id`, `range` assignor so co-partitioned topics land together) and
//! producer (`murmur2_random` partitioner, so keys land where Java producers put them), and
//! runs a step loop: poll → route records to tasks → process → punctuate → commit when due.
//!
//! Delivery is at-least-once: every `commit.interval.ms` (or when a processor asks) a thread
//! flushes its producer, then commits the offsets after the last record it processed. A crash
//! replays the records since the last commit, so some outputs may appear twice; none is lost.
//!
//! Within a task with several input partitions, the next record is the buffered head with the
//! lowest timestamp (see `max.task.idle.ms` in [`config`](crate::config)). Stream-time
//! punctuations fire after each record, wall-clock ones on every turn of the thread's loop.
//!
//! Interactive queries ([`KafkaStreams::store`] and its siblings) read the stores of every local
//! task while the application runs; each stream thread answers between two turns of its loop.
//!
//! State stores (in memory or RocksDB) log every write to their changelog topic
//! `<application.id>-<store>-changelog`, which start creates. A task restores its stores from
//! there before it processes: from its `.checkpoint` to the changelog's end, or from the start
//! when its state directory is empty. So a task that moves to another thread or instance, or
//! an instance that restarts, carries on with the state the task had.

mod changelog;
mod checkpoint;
mod collector;
mod consumer;
mod error;
mod kafka_streams;
mod metrics;
mod partition_group;
mod query;
mod restore;
mod state;
mod task;
mod task_manager;
mod thread;
mod topics;

pub use error::{RuntimeError, StartError};
pub use kafka_streams::KafkaStreams;
pub use metrics::{PartitionMetrics, StreamsMetrics, TaskMetrics, ThreadMetrics};
pub use query::{
    NotReadyReason, QueryError, ReadOnlyKeyValueStore, ReadOnlySessionStore, ReadOnlyWindowStore,
};
pub use restore::StateRestoreListener;
pub use state::{StreamsState, ThreadState};
