//! Committing a thread's tasks, at least once: the stores' caches are flushed (forwarding what
//! they held), every record sent until then is acknowledged and its delivery report checked,
//! the persistent stores checkpointed when due, and then the offsets after the last processed
//! record of every input partition committed — synchronously, as Kafka Streams' `commitSync`.
//!
//! Kafka Streams waits for the acknowledgements in `producer.flush()`, and so does a commit
//! here on revocation and shutdown ([`TaskManager::commit`]). The commit of the running loop
//! does not wait: [`TaskManager::begin_commit`] notes the offsets and starts a new producer
//! epoch, the thread goes on processing, and [`TaskManager::finish_commit`] commits the noted
//! offsets once every record of the epochs before was reported. Offsets are committed only
//! after everything the records before them produced was acknowledged, as with a flush.

use std::sync::atomic::Ordering;
use std::time::Instant;

use rdkafka::Offset;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::Producer as _;
use tracing::{debug, error, warn};

use crate::config::ProductionResponse;

use std::sync::Arc;

use super::super::RuntimeError;
use super::super::collector::{Producer, ensure_transaction, flush, producer_flush_now};
use super::super::consumer::StreamConsumer;
use super::super::partitions::TopicPartition;
use super::super::partitions::partition_list;
use super::super::stream_task::StreamTask;
use super::super::stream_thread::new_producer;
use super::super::transaction::{self, TransactionError};
use super::TaskManager;

/// An at-least-once commit whose offsets wait for the acknowledgement of the records sent
/// before it.
pub(super) struct PendingCommit {
    /// Every record sent before this producer epoch must be reported first.
    epoch: usize,
    offsets: rdkafka::TopicPartitionList,
    start: Instant,
}

impl TaskManager {
    /// Whether `commit.interval.ms` went by since the last commit.
    pub(crate) fn commit_due(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_commit) >= self.commit_interval
    }

    /// Serves the producer's delivery reports and applies the production handler to failed
    /// deliveries. Returns `false` when the handler said retry: the tasks were closed and made
    /// again from their committed offsets (under exactly-once after aborting the transaction),
    /// so nothing they did since the last commit may be committed.
    pub(crate) fn serve_deliveries(
        &mut self,
        consumer: &StreamConsumer,
    ) -> Result<bool, RuntimeError> {
        self.producer.poll(std::time::Duration::ZERO);
        let mut retry = self.producer.context().take_retry();
        for failure in self.producer.context().take_failures() {
            match self.production.respond(&failure.view()) {
                ProductionResponse::Continue => {
                    error!(topic = %failure.topic, error = %failure.error,
                        "dropping an undelivered record (the production handler says continue)");
                    self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                }
                ProductionResponse::Retry => {
                    retry.get_or_insert(failure);
                }
                _ => {
                    self.failed = true;
                    return Err(RuntimeError::Production {
                        topic: failure.topic,
                        source: failure.error,
                    });
                }
            }
        }
        let Some(failure) = retry else {
            return Ok(true);
        };
        warn!(thread = %self.name, topic = %failure.topic, error = %failure.error,
            "a record could not be produced and the production handler says retry: the tasks \
             start again from their committed offsets");
        self.counts.production_retries += 1;
        // Shown before the tasks start again, which waits for the broker.
        self.publish(consumer, None);
        if self.exactly_once {
            let failure = TransactionError::Abortable {
                source: failure.error,
            };
            self.recover(failure, consumer, true)?;
        } else {
            let assignment = self.assignment();
            self.close_all(consumer, false);
            if !assignment.is_empty() {
                self.assign(&assignment, consumer)?;
            }
        }
        Ok(false)
    }

    /// Starts a commit of every active task when one is due in the running loop: at least
    /// once, notes the offsets to commit once the records sent until now are acknowledged
    /// (see [`finish_commit`](Self::finish_commit)); a commit still waiting for its
    /// acknowledgements makes this one wait for all, as [`commit`](Self::commit). Exactly-once
    /// commits the transaction.
    pub(crate) fn begin_commit(&mut self, consumer: &StreamConsumer) -> Result<(), RuntimeError> {
        if self.exactly_once {
            return self.commit_transaction(consumer, true).map(|_| ());
        }
        if self.pending.is_some() {
            return self.commit(consumer).map(|_| ());
        }
        let start = Instant::now();
        self.last_commit = start;
        for task in &mut self.active {
            task.commit_stores()?;
        }
        if !self.serve_deliveries(consumer)? {
            return Ok(());
        }
        let offsets = self.uncommitted();
        if offsets.count() == 0 {
            return self.checkpoint(false);
        }
        let epoch = self.producer.context().next_epoch();
        // Sends what lingers now, as a flush would.
        producer_flush_now(&self.producer, start + self.flush_timeout)
            .map_err(|source| RuntimeError::Flush { source })?;
        self.pending = Some(PendingCommit {
            epoch,
            offsets,
            start,
        });
        Ok(())
    }

    /// Commits the offsets [`begin_commit`](Self::begin_commit) noted once every record sent
    /// before them was reported (and its failure, if any, handled by
    /// [`serve_deliveries`](Self::serve_deliveries), which the loop calls first).
    pub(crate) fn finish_commit(&mut self, consumer: &StreamConsumer) -> Result<(), RuntimeError> {
        let Some(pending) = self
            .pending
            .take_if(|p| self.producer.context().reported_before(p.epoch))
        else {
            return Ok(());
        };
        self.checkpoint(false)?;
        self.commit_offsets(consumer, &pending.offsets, pending.start)
            .map(|_| ())
    }

    /// The offsets after the last processed record of the tasks' partitions, where they moved
    /// since their last commit.
    fn uncommitted(&self) -> rdkafka::TopicPartitionList {
        partition_list(
            self.active
                .iter()
                .flat_map(StreamTask::uncommitted)
                .map(|(topic, partition, offset)| (topic, partition, Offset::Offset(offset))),
        )
    }

    /// At-least-once commit of every active task, waiting for every record sent to be
    /// acknowledged (it covers a commit [`begin_commit`](Self::begin_commit) left waiting).
    ///
    /// A commit the broker refuses for a reason a rebalance explains (the group is already
    /// rebalancing) is logged and left: the tasks' records since the last commit will be
    /// processed again wherever their partitions go. Returns whether the offsets were committed
    /// (`true` too when there was nothing to commit).
    pub(crate) fn commit(&mut self, consumer: &StreamConsumer) -> Result<bool, RuntimeError> {
        if self.exactly_once {
            return self.commit_transaction(consumer, true);
        }
        let start = Instant::now();
        self.last_commit = start;
        self.pending = None;
        for task in &mut self.active {
            task.commit_stores()?;
        }
        flush(&self.producer, self.flush_timeout)
            .map_err(|source| RuntimeError::Flush { source })?;
        if !self.serve_deliveries(consumer)? {
            return Ok(false);
        }
        self.checkpoint(false)?;
        let tpl = self.uncommitted();
        self.commit_offsets(consumer, &tpl, start)
    }

    /// Commits `tpl` (nothing to do when empty) and marks the tasks' partitions committed
    /// there. A refusal a rebalance explains is logged and left (`Ok(false)`).
    fn commit_offsets(
        &mut self,
        consumer: &StreamConsumer,
        tpl: &rdkafka::TopicPartitionList,
        start: Instant,
    ) -> Result<bool, RuntimeError> {
        if tpl.count() == 0 {
            return Ok(true);
        }
        match consumer.commit(tpl, CommitMode::Sync) {
            Ok(()) => {
                for e in tpl.elements() {
                    if let Offset::Offset(offset) = e.offset() {
                        for task in &mut self.active {
                            task.committed_at(e.topic(), e.partition(), offset);
                        }
                    }
                }
                let latency = start.elapsed();
                self.counts.commits.record(latency);
                debug!(thread = %self.name, partitions = tpl.count(), ?latency, "committed");
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::GroupAuthorizationFailed
                            | RDKafkaErrorCode::TopicAuthorizationFailed
                            | RDKafkaErrorCode::Fatal
                    )
                ) =>
            {
                Err(RuntimeError::Commit { source: e })
            }
            Err(e) => {
                warn!(thread = %self.name, error = %e, "offset commit failed; will retry");
                Ok(false)
            }
        }
    }

    /// Exactly-once commit of every active task: the stores flushed into the open transaction,
    /// the tasks' offsets sent to it with the consumer's group metadata of this moment, the
    /// transaction committed. Returns whether it committed. On failure the transaction is
    /// aborted (with a new producer if the failure was fatal), the tasks are closed dirty, and,
    /// if `revive`, made again from the committed offsets — their records since then are
    /// processed again, and what the aborted transaction wrote is never read.
    pub(super) fn commit_transaction(
        &mut self,
        consumer: &StreamConsumer,
        revive: bool,
    ) -> Result<bool, RuntimeError> {
        let start = Instant::now();
        // The next commit is due a commit interval after this one ends (as Kafka Streams
        // counts it): a transaction's round trips must not eat the time to process.
        let committed = self.commit_transaction_now(consumer, revive, start);
        self.last_commit = Instant::now();
        committed
    }

    fn commit_transaction_now(
        &mut self,
        consumer: &StreamConsumer,
        revive: bool,
        start: Instant,
    ) -> Result<bool, RuntimeError> {
        for task in &mut self.active {
            task.commit_stores()?;
        }
        if !self.serve_deliveries(consumer)? {
            return Ok(false);
        }
        let tpl = self.uncommitted();
        if tpl.count() == 0 && !self.producer.context().in_transaction() {
            return Ok(true);
        }
        let partitions = tpl.count();
        match self.end_transaction(tpl, consumer) {
            Ok(()) => {
                for task in &mut self.active {
                    task.mark_committed();
                }
                self.serve_deliveries(consumer)?;
                let latency = start.elapsed();
                self.counts.commits.record(latency);
                debug!(thread = %self.name, partitions, ?latency, "transaction committed");
                Ok(true)
            }
            Err(failure) => {
                warn!(thread = %self.name, error = %failure,
                    "transaction failed: aborting it, the tasks start again from the committed offsets");
                self.recover(failure, consumer, revive)?;
                Ok(false)
            }
        }
    }

    fn end_transaction(
        &mut self,
        offsets: rdkafka::TopicPartitionList,
        consumer: &StreamConsumer,
    ) -> Result<(), TransactionError> {
        ensure_transaction(&self.producer).map_err(transaction::classify)?;
        let timeout = self.transaction_timeout;
        if offsets.count() > 0 {
            let Some(metadata) = consumer.group_metadata() else {
                return Err(TransactionError::NoGroupMetadata);
            };
            transaction::call(
                &self.producer,
                "send_offsets_to_transaction",
                timeout,
                move |p, t| p.send_offsets_to_transaction(&offsets, &metadata, t),
            )?;
        }
        transaction::call(&self.producer, "commit_transaction", timeout, |p, t| {
            p.commit_transaction(t)
        })?;
        self.producer.context().transaction_ended();
        Ok(())
    }

    /// After a failed transaction: aborts it (a fatal failure, or a failed abort, replaces the
    /// producer, fencing the old one), closes every task dirty (their state is wiped and
    /// restored), and, if `revive`, makes the tasks of the current assignment again, reading
    /// from the committed offsets.
    pub(super) fn recover(
        &mut self,
        failure: TransactionError,
        consumer: &StreamConsumer,
        revive: bool,
    ) -> Result<(), RuntimeError> {
        self.counts.aborted_transactions += 1;
        let mut fatal = failure.is_fatal();
        if !fatal && let Err(e) = transaction::abort(&self.producer, self.transaction_timeout) {
            warn!(thread = %self.name, error = %e, "aborting the transaction failed");
            fatal = true;
        }
        let assignment = self.assignment();
        self.close_all(consumer, false);
        if fatal {
            let config = self
                .producer_config
                .clone()
                .ok_or(RuntimeError::Transaction { source: failure })?;
            self.producer.context().transaction_ended();
            let producer = Arc::new(new_producer(&config, true)?);
            transaction::init(&producer, self.transaction_timeout)
                .map_err(|source| RuntimeError::Transaction { source })?;
            self.producer = producer;
            warn!(thread = %self.name, "replaced the transactional producer");
        }
        if revive && !assignment.is_empty() {
            self.assign(&assignment, consumer)?;
        }
        Ok(())
    }

    /// The input partitions of the active tasks.
    fn assignment(&self) -> Vec<TopicPartition> {
        self.active
            .iter()
            .flat_map(|t| t.inputs.partitions.iter())
            .map(|p| TopicPartition::new(Arc::clone(&p.topic), p.partition))
            .collect()
    }

    /// Checkpoints the tasks' persistent stores (every checkpoint delta of changelog records,
    /// or always if `force`), after the producer was flushed.
    pub(super) fn checkpoint(&mut self, force: bool) -> Result<(), RuntimeError> {
        for task in &mut self.active {
            checkpoint_task(&self.producer, task, force)?;
        }
        Ok(())
    }

    /// Flushes the producer at the end (not after a failure).
    pub(crate) fn flush_producer(&self) {
        if self.failed {
            return;
        }
        if let Err(e) = flush(&self.producer, self.flush_timeout) {
            warn!(thread = %self.name, error = %e, "final producer flush failed");
        }
    }
}

/// Checkpoints `task` with the changelog offsets `producer` saw acknowledged.
pub(super) fn checkpoint_task(
    producer: &Producer,
    task: &mut StreamTask,
    force: bool,
) -> Result<(), RuntimeError> {
    let reports = producer.context();
    task.maybe_checkpoint(&|t, p| reports.changelog_offset(t, p), force)
}
