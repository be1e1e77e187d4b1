//! Running topologies on Kafka: [`KafkaStreams`], its stream threads and tasks.
//!
//! The model is Kafka Streams': one task per (sub-topology, input partition), created when the
//! consumer group assigns the partition to one of the instance's `num.stream.threads` stream
//! threads. Each thread has its own consumer (group = `application.id`, `range` assignor so
//! co-partitioned topics land together) and producer (`murmur2_random` partitioner, so keys
//! land where Java producers put them).
//!
//! A record's path, file by file:
//!
//! | step | file | what happens |
//! |---|---|---|
//! | start | `kafka_streams.rs` | checks and creates topics (`topics.rs`), starts the threads |
//! | global stores | `global_thread.rs` | the global stream thread restores every global store from its topic before the stream threads start, then keeps it up to date |
//! | poll | `stream_thread.rs` | the step loop: poll → rebalance → restore → process → punctuate → commit |
//! | rebalance | `consumer.rs`, `task_manager/rebalance.rs`, `committed.rs` | the group's callback becomes an event; revoked tasks are committed and closed, assigned ones created and started from the committed offsets |
//! | route | `task_manager/mod.rs` | a record goes to the task of its partition |
//! | buffer | `partition_group.rs` | per-partition queues, lowest timestamp next, pause when full |
//! | restore | `restore.rs`, `stream_task/stores.rs`, `checkpoint.rs` | new tasks read their stores back from the changelogs |
//! | process | `stream_task/mod.rs`, `stream_task/handlers.rs` | the task's processor graph (`crate::topology`, `crate::processor`); failing records go to the handlers |
//! | sink | `collector.rs`, `changelog.rs` | outputs and changelog writes go to the thread's producer |
//! | commit | `task_manager/commit.rs`, `transaction.rs` | caches flushed, the records sent before acknowledged, deliveries checked, offsets committed (exactly-once: in the thread's transaction) |
//! | observe | `task_manager/metrics.rs`, `query.rs`, `state.rs` | metrics, interactive queries, states |
//!
//! Delivery is at-least-once: every `commit.interval.ms` (or when a processor asks) a thread
//! notes the offsets after the last record it processed and commits them once every record it
//! sent until then is acknowledged, processing meanwhile (on revocation and shutdown it waits,
//! flushing its producer as Kafka Streams does). A crash
//! replays the records since the last commit, so some outputs may appear twice; none is lost.
//! A rebalance commits before the revoked tasks leave, so a clean rebalance replays nothing.
//!
//! Under `processing.guarantee=exactly_once_v2` (KIP-447) each stream thread's producer is
//! transactional (`transactional.id = <application.id>-<process id>-<thread>`, the process id
//! kept in the state directory so a restart fences its previous incarnation). A transaction
//! begins with the first record of a commit interval; a commit flushes the stores into it, sends
//! the tasks' offsets to it with the consumer's group metadata, and commits it (every
//! transactional call bounded by a deadline of ours). Consumers read `read_committed`. A failed
//! transaction is aborted (a fatal failure replaces the producer) and the tasks are closed
//! dirty — their local state wiped — and made again from the committed offsets, restoring their
//! stores from the changelogs. Checkpoints are written only on a clean close and removed when
//! read, so state left by a crash is restored rather than trusted.
//!
//! Within a task with several input partitions, the next record is the buffered head with the
//! lowest timestamp (see `max.task.idle.ms` in [`config`](crate::config)). Stream-time
//! punctuations fire after each record, wall-clock ones on every turn of the thread's loop.
//!
//! Interactive queries ([`KafkaStreams::store`] and its siblings) read the stores of every local
//! task while the application runs; each stream thread answers between two turns of its loop.
//!
//! Global stores (`GlobalKTable`s) are not in any task: the instance's global stream thread
//! reads every partition of their topics (outside the consumer group, from
//! `<state.dir>/<application.id>/global/.checkpoint` for persistent stores, else from the
//! beginning) up to the end before [`KafkaStreams::start`] starts the stream threads, then keeps
//! them up to date. Every task of every thread reads them, read-only; queries read them on the
//! caller's thread. A failure of the global thread fails the instance
//! ([`RuntimeError::GlobalThread`]).
//!
//! State stores (in memory or RocksDB) log every write to their changelog topic
//! `<application.id>-<store>-changelog`, which start creates. A task restores its stores from
//! there before it processes: from its `.checkpoint` to the changelog's end, or from the start
//! when its state directory is empty. So a task that moves to another thread or instance, or
//! an instance that restarts, carries on with the state the task had. While any of its tasks
//! restores, a thread is `PartitionsAssigned` and the application `Rebalancing`.

mod changelog;
mod checkpoint;
mod collector;
mod committed;
mod consumer;
mod error;
mod global_thread;
mod kafka_streams;
mod metrics;
mod partition_group;
mod partitions;
mod query;
mod restore;
mod shutdown_requests;
mod state;
mod stream_task;
mod stream_thread;
mod task_manager;
mod topics;
mod transaction;

pub use error::{GlobalThreadError, RuntimeError, StartError};
pub use kafka_streams::KafkaStreams;
pub use metrics::{PartitionMetrics, StreamsMetrics, TaskMetrics, ThreadMetrics};
pub use query::{
    NotReadyReason, QueryError, ReadOnlyKeyValueStore, ReadOnlySessionStore, ReadOnlyWindowStore,
};
pub use restore::StateRestoreListener;
pub use state::{StreamsState, ThreadState};
pub use stream_thread::StreamThreadExceptionResponse;
pub use transaction::TransactionError;
