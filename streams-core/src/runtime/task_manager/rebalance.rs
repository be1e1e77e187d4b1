//! What a rebalance does to a thread's tasks (eager rebalancing: every partition is revoked,
//! then the new assignment arrives), and the `unassign` / `assign` calls that let the group
//! move on only after that is done.
//!
//! - **Revoked**: commit what was processed, then take the tasks off the consumer. A task
//!   with in-memory state only is suspended (kept, in case the next assignment gives it back);
//!   a task with RocksDB stores is closed, so that another thread of this process may open
//!   them; a task still restoring is closed too (its restoration starts over wherever it goes).
//!   When the assignment was lost (the member was already out of the group), nothing can be
//!   committed: every task is closed without a commit.
//! - **Assigned**: suspended tasks that are ours again resume (from their own positions,
//!   should their revocation commit have failed); new tasks are created, those with
//!   changelogged stores restore them first, their inputs paused until they are done.

use std::collections::BTreeMap;

use rdkafka::Offset;
use rdkafka::consumer::Consumer;
use tracing::{debug, error, info, warn};

use crate::processor::TaskId;

use super::super::RuntimeError;
use super::super::committed;
use super::super::consumer::{Rebalance, StreamConsumer};
use super::super::partitions::{TopicPartition, partition_list};
use super::super::state::ThreadState;
use super::super::stream_task::StreamTask;
use super::TaskManager;
use super::commit::checkpoint_task;

impl TaskManager {
    /// Handles a rebalance event, then tells librdkafka the thread is done with it.
    pub(crate) fn on_rebalance(
        &mut self,
        event: Rebalance,
        consumer: &StreamConsumer,
    ) -> Result<(), RuntimeError> {
        match event {
            Rebalance::Revoked { partitions, lost } => {
                let committed = self.revoke(&partitions, lost, consumer);
                consumer.unassign().map_err(|source| RuntimeError::Kafka {
                    operation: "giving up revoked partitions",
                    source,
                })?;
                committed
            }
            Rebalance::Assigned { partitions } => self.assign(&partitions, consumer),
        }
    }

    /// Commits the tasks and takes those reading `partitions` off the consumer.
    fn revoke(
        &mut self,
        partitions: &[TopicPartition],
        lost: bool,
        consumer: &StreamConsumer,
    ) -> Result<(), RuntimeError> {
        info!(thread = %self.name, partitions = partitions.len(), lost, "partitions revoked");
        self.shared
            .set_thread_state(self.thread, ThreadState::PartitionsRevoked);
        if lost || self.failed {
            warn!(thread = %self.name, lost, "closing tasks without committing");
            self.counts.uncommitted_revocations += 1;
            if self.exactly_once
                && let Err(e) =
                    super::super::transaction::abort(&self.producer, self.transaction_timeout)
            {
                warn!(thread = %self.name, error = %e, "aborting the transaction failed");
            }
            self.close_all(consumer, false);
            self.publish(consumer, None);
            return Ok(());
        }
        let committed = if self.exactly_once {
            // Everything is committed inside the rebalance; a failed transaction closes the
            // tasks dirty (they are being revoked: nothing to revive).
            self.commit_transaction(consumer, false)
        } else {
            self.commit(consumer)
        };
        match &committed {
            Ok(true) => {}
            Ok(false) => self.counts.uncommitted_revocations += 1,
            Err(e) => {
                error!(thread = %self.name, error = %e, "commit on revocation failed");
                self.failed = true;
            }
        }
        let committed = committed.map(|_| ());
        let (revoked, kept): (Vec<StreamTask>, Vec<StreamTask>) =
            self.active.drain(..).partition(|task| {
                task.inputs.partitions.iter().any(|p| {
                    partitions
                        .iter()
                        .any(|r| r.partition == p.partition && r.topic == p.topic)
                })
            });
        self.active = kept;
        for mut task in revoked {
            if !task.has_persistent_stores() && !task.is_restoring() && !self.failed {
                debug!(task = %task.id, "suspending task");
                task.leave(consumer);
                self.suspended.push(task);
                continue;
            }
            if !self.failed
                && !task.is_restoring()
                && let Err(e) = checkpoint_task(&self.producer, &mut task, true)
            {
                error!(task = %task.id, error = %e, "checkpoint on revocation failed");
            }
            self.retire(task, consumer);
        }
        self.rebuild_routes();
        self.publish(consumer, None);
        committed
    }

    /// Resumes or creates the tasks of `partitions` and assigns them to the consumer.
    pub(super) fn assign(
        &mut self,
        partitions: &[TopicPartition],
        consumer: &StreamConsumer,
    ) -> Result<(), RuntimeError> {
        self.shared
            .set_thread_state(self.thread, ThreadState::PartitionsAssigned);
        let mut wanted: BTreeMap<TaskId, Vec<TopicPartition>> = BTreeMap::new();
        let groups = self.topology.groups();
        for p in partitions {
            let Some(group) = subtopology_of(&self.topology, &p.topic) else {
                warn!(topic = %p.topic, "assigned a topic no source reads");
                continue;
            };
            let id = TaskId {
                subtopology: groups[group].id,
                partition: p.partition,
            };
            wanted.entry(id).or_default().push(p.clone());
        }
        let mut created = Ok(());
        for (id, parts) in wanted {
            if let Some(at) = self.suspended.iter().position(|t| t.id == id) {
                let task = self.suspended.swap_remove(at);
                let same = task.inputs.partitions.len() == parts.len()
                    && parts
                        .iter()
                        .all(|p| task.input_index(&p.topic, p.partition).is_some());
                if same {
                    debug!(task = %id, "resuming task");
                    self.active.push(task);
                    continue;
                }
                self.retire(task, consumer);
            }
            match self.create_task(id, &parts) {
                Ok(task) => self.active.push(task),
                Err(e) => {
                    created = Err(e);
                    break;
                }
            }
        }
        let gone: Vec<StreamTask> = self.suspended.drain(..).collect();
        for task in gone {
            self.retire(task, consumer);
        }
        self.active.sort_by_key(|t| t.id);
        self.rebuild_routes();
        // One assignment: resumed tasks whose revocation commit failed go on from their own
        // positions (their state has seen the records before them), the others from the
        // committed offsets.
        let resumed: Vec<Option<i64>> = partitions
            .iter()
            .map(|p| {
                self.routes
                    .get(&p.topic, p.partition)
                    .and_then(|&(t, _)| self.active[t].resume_offset(&p.topic, p.partition))
            })
            .collect();
        let unknown: Vec<(&str, i32)> = partitions
            .iter()
            .zip(&resumed)
            .filter(|(_, r)| r.is_none())
            .map(|(p, _)| (&*p.topic, p.partition))
            .collect();
        let started = committed::start_offsets(
            consumer,
            &unknown,
            self.offset_reset,
            self.api_timeout,
            &self.shutdown,
        );
        let mut committed = match started {
            Ok(Some(offsets)) => offsets.into_iter(),
            // Stopping: the tasks close without having read anything.
            Ok(None) => return Ok(()),
            Err(e) => {
                self.failed = true;
                return Err(e);
            }
        };
        let starts: Vec<Offset> = resumed
            .iter()
            .map(|r| match r {
                Some(offset) => Offset::Offset(*offset),
                None => committed.next().unwrap_or(Offset::Invalid),
            })
            .collect();
        // A task that has received nothing yet knows where it starts: whether an input with no
        // buffered record has more to come is its end offset against that.
        for (p, start) in partitions.iter().zip(&starts) {
            if let (Offset::Offset(n), Some(&(t, i))) =
                (start, self.routes.get(&p.topic, p.partition))
            {
                let input = &mut self.active[t].inputs.partitions[i];
                if input.position.is_none() {
                    input.committed = Some(*n);
                }
            }
        }
        let assignment = partition_list(
            partitions
                .iter()
                .zip(starts)
                .map(|(p, start)| (&*p.topic, p.partition, start)),
        );
        consumer
            .assign(&assignment)
            .map_err(|source| RuntimeError::Kafka {
                operation: "assigning partitions",
                source,
            })?;
        created?;
        self.start_restoring(consumer);
        info!(thread = %self.name, tasks = ?self.active.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(),
            "partitions assigned");
        self.run_if_restored();
        self.publish(consumer, None);
        Ok(())
    }

    /// Queues the changelog partitions of the new tasks that restore for restoration, and
    /// pauses their inputs until they are done.
    fn start_restoring(&mut self, consumer: &StreamConsumer) {
        for task in self.active.iter_mut().filter(|t| t.is_restoring()) {
            if self.restorer.is_restoring(task.id) {
                continue;
            }
            for c in &task.changelogs {
                self.restorer.add(
                    task.id,
                    &c.store,
                    &c.topic,
                    c.partition,
                    task.restore_from(c),
                );
            }
            task.start_restoring(consumer);
        }
    }
}

/// The index (in `topology.groups()`) of the sub-topology that reads `topic`.
fn subtopology_of(topology: &crate::topology::Topology, topic: &str) -> Option<usize> {
    let nodes = topology.nodes();
    topology.groups().iter().position(|g| {
        g.nodes.iter().any(|&i| {
            matches!(&nodes[i].kind, crate::topology::NodeKind::Source { topics }
                if topics.iter().any(|t| t == topic))
        })
    })
}
