//! Delivery guarantees: what `processing.guarantee` promises, what each costs, what the broker
//! needs, and what happens on each failure.
//!
//! # At least once (`at_least_once`, the default)
//!
//! Every `commit.interval.ms` (30 s by default) a stream thread flushes its stores' record
//! caches, flushes its producer and waits for every record to be acknowledged, then commits the
//! offsets after the last record it processed. A crash replays the records processed since the
//! last commit: their outputs (and changelog writes) may appear twice; none is lost. A clean
//! rebalance commits before the revoked tasks leave, so it replays nothing
//! ([`ThreadMetrics::uncommitted_revocations`](crate::runtime::ThreadMetrics) counts the
//! revocations that could not commit).
//!
//! # Exactly once (`exactly_once_v2`, KIP-447)
//!
//! What it promises: every input record's effects — its outputs, its state changes — are
//! visible exactly once to readers with `isolation.level=read_committed`, whatever crashes: the
//! application killed (`kill -9`), a broker restarted, a rebalance mid-transaction.
//!
//! How: each stream thread has one transactional producer, `transactional.id =
//! <application.id>-<process id>-<thread>` (the process id is kept in
//! `<state.dir>/<application.id>/kafka-streams-process-metadata`, so a restarted instance
//! fences its previous incarnation and the broker aborts what it left open). A transaction
//! begins with the first record of a commit interval; outputs and changelog writes join it; at
//! commit the input offsets are sent to it with the consumer group's metadata of that moment
//! (so a member that was rebalanced away cannot commit), and it commits. Consumers read
//! `read_committed`. Checkpoints of persistent stores are written only on a clean close and
//! removed when read, so state left by a crash is wiped and restored from the changelog rather
//! than trusted.
//!
//! Failures:
//!
//! | what | what happens |
//! |---|---|
//! | the application killed | the broker aborts its open transaction (at once when it restarts with the same state directory, else after `transaction.timeout.ms`); the records since the last commit are processed again by whoever gets the tasks; their state is restored from the changelogs, without the aborted writes |
//! | a retriable broker error while committing (coordinator moving) | retried within `transaction.timeout.ms` |
//! | an abortable error (a rebalance fenced the member, a record not delivered) | the transaction is aborted, the thread's tasks closed dirty (local state wiped) and made again from the committed offsets, restored from the changelogs |
//! | a fatal error (the producer fenced) or a transactional call that does not return in time | as abortable, with a new producer (the same transactional id) |
//! | the assignment lost (session expired) | the transaction is aborted, the tasks closed dirty |
//!
//! [`ThreadMetrics::aborted_transactions`](crate::runtime::ThreadMetrics) counts the
//! recoveries.
//!
//! What it costs: a commit is a few round trips to the transaction coordinator (under
//! exactly-once `commit.interval.ms` defaults to 100 ms, so outputs are visible to
//! `read_committed` readers within about that), restoration after a crash starts from scratch
//! for persistent stores, and read-committed consumers wait for transactions to end.
//!
//! What the broker needs: Kafka 2.5 or newer (KIP-447), `transaction.state.log.*` settings a
//! single-broker cluster can meet (`transaction.state.log.replication.factor=1`,
//! `transaction.state.log.min.isr=1`), and `transaction.max.timeout.ms` at least the producer's
//! `transaction.timeout.ms` (10 s by default here; `producer.transaction.timeout.ms` changes
//! it, and `commit.interval.ms` may not exceed it).
//!
//! ```
//! use streams_core::config::StreamsConfig;
//! let config = StreamsConfig::builder()
//!     .application_id("payments")
//!     .bootstrap_servers("localhost:9092")
//!     .set("processing.guarantee", "exactly_once_v2")
//!     .build()?;
//! assert_eq!(config.commit_interval(), std::time::Duration::from_millis(100));
//! # Ok::<(), streams_core::config::ConfigError>(())
//! ```
//!
//! # Records that fail
//!
//! A record that cannot be decoded, or whose processing fails, goes to
//! `deserialization.exception.handler` / `processing.exception.handler`: `log-and-fail` (the
//! default) stops the thread with a typed error naming the record's topic, partition and
//! offset; `log-and-continue` skips it (logged, counted in `records_skipped`). With
//! `errors.dead.letter.queue.topic.name` set, the record is first written to that topic as it
//! was read (key, value, headers) with headers `__streams.errors.exception`, `.message`,
//! `.stacktrace`, `.topic`, `.partition`, `.offset` — under exactly-once inside the transaction.
//! Handlers of your own: `StreamsConfig::builder().deserialization_exception_handler_with(..)`
//! and `.processing_exception_handler_with(..)` take a
//! [`RecordErrorHandler`](crate::config::RecordErrorHandler) (any
//! `Fn(&StreamsError) -> HandlerResponse`).
//!
//! A record the producer cannot send or deliver goes to `production.exception.handler`:
//! `default` (Kafka Streams' `DefaultProductionExceptionHandler`) retries retriable errors —
//! a timeout, too few in-sync replicas, an unavailable leader: the thread's tasks start again
//! from their committed offsets (under exactly-once after aborting the transaction) and produce
//! the record again — and fails on the others; `fail` always stops the thread, `continue`
//! drops the record (counted in `records_dropped`). Your own:
//! `.production_exception_handler_with(..)` with a
//! [`ProductionErrorHandler`](crate::config::ProductionErrorHandler) answering `Fail`,
//! `Continue` or `Retry`.
//!
//! A thread that fails goes to the uncaught exception handler
//! ([`KafkaStreams::set_uncaught_exception_handler`](crate::runtime::KafkaStreams::set_uncaught_exception_handler)):
//! replace the thread, shut this instance down (the default), or shut the whole application
//! down — every instance with the same `application.id` and an uncaught exception handler
//! stops in `Error`.
