//! A task's state stores and their changelogs: restoring them, flushing them on commit, and
//! the `.checkpoint` of the persistent ones.

use std::cell::Cell;
use std::rc::Rc;

use crate::state::{StoreContext, StoreRegistry};

use super::super::RuntimeError;
use super::super::checkpoint;
use super::super::partition_group::Fetch;
use super::StreamTask;

/// A changelog partition of one of the task's stores.
#[derive(Debug, Clone)]
pub(crate) struct Changelog {
    pub(crate) store: String,
    pub(crate) topic: String,
    pub(crate) partition: i32,
    /// The store is persistent: restored from the checkpoint, and checkpointed.
    pub(crate) persistent: bool,
}

/// Where a task's state lives and how it is logged.
pub(crate) struct TaskStores {
    pub(crate) context: StoreContext,
    /// The timestamp changelog writes without their own are produced with.
    pub(crate) now: Rc<Cell<i64>>,
    pub(crate) changelogs: Vec<Changelog>,
    /// Some store is persistent (RocksDB), logged or not.
    pub(crate) persistent: bool,
    /// `exactly_once_v2`: a checkpoint is written only on a clean close, and removed once read.
    pub(crate) exactly_once: bool,
    /// Read-only handles on the instance's global stores.
    pub(crate) globals: Option<Rc<StoreRegistry>>,
}

/// Changelog records logged between two checkpoints written at commit (Kafka Streams'
/// `OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT`): a checkpoint flushes the RocksDB memtables.
const CHECKPOINT_DELTA: i64 = 10_000;

impl StreamTask {
    /// The task starts restoring: its inputs are paused until it is done.
    pub(crate) fn start_restoring(&mut self, fetch: &impl Fetch) {
        self.inputs.hold(fetch);
    }

    /// The checkpoint offsets of restoration: where each persistent store's changelog
    /// partition is restored from (`None`: the beginning).
    pub(crate) fn restore_from(&self, changelog: &Changelog) -> Option<i64> {
        if !changelog.persistent {
            return None;
        }
        self.checkpointed
            .get(&(changelog.topic.clone(), changelog.partition))
            .copied()
    }

    /// Restoration is over: persist what was restored (written with the WAL off), checkpoint
    /// it, fetch the inputs again, start processing.
    pub(crate) fn finish_restoring(&mut self, fetch: &impl Fetch) -> Result<(), RuntimeError> {
        self.restoring = false;
        self.inputs.release(fetch);
        if self.exactly_once {
            // The stores will hold uncommitted writes from now on: no checkpoint until a
            // clean close.
            return Ok(());
        }
        self.checkpoint()
    }

    /// Records that the changelog partition ends at `end` (restoration reached it).
    pub(crate) fn restored_to(&mut self, topic: &str, partition: i32, end: i64) {
        if end > 0 {
            let slot = self
                .changelog_offsets
                .entry((topic.to_string(), partition))
                .or_insert(end - 1);
            *slot = (*slot).max(end - 1);
        }
    }

    /// Flushes the stores' record caches and lets the processors forward what was flushed
    /// (on commit, before the producer is flushed).
    pub(crate) fn commit_stores(&mut self) -> Result<(), RuntimeError> {
        if self.restoring {
            return Ok(());
        }
        self.graph
            .commit(&mut self.state)
            .map_err(|source| RuntimeError::Task {
                task: self.id,
                source,
            })
    }

    /// Writes the checkpoint of the persistent stores if `force` or enough changelog records
    /// went by since the last one; `delivered` tells the offsets the producer acknowledged.
    /// Flushes the stores first, so the checkpoint never claims what they do not hold.
    pub(crate) fn maybe_checkpoint(
        &mut self,
        delivered: &impl Fn(&str, i32) -> Option<i64>,
        force: bool,
    ) -> Result<(), RuntimeError> {
        if self.restoring {
            return Ok(());
        }
        for c in self.changelogs.iter().filter(|c| c.persistent) {
            if let Some(offset) = delivered(&c.topic, c.partition) {
                let slot = self
                    .changelog_offsets
                    .entry((c.topic.clone(), c.partition))
                    .or_insert(offset);
                *slot = (*slot).max(offset);
            }
        }
        let delta: i64 = self
            .changelog_offsets
            .iter()
            .map(|(k, o)| o - self.checkpointed.get(k).copied().unwrap_or(-1))
            .sum();
        // Under exactly-once the stores hold writes of the open transaction between commits:
        // only a clean close (after its commit) checkpoints.
        if force || (delta >= CHECKPOINT_DELTA && !self.exactly_once) {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// The task's state directory (wiped after a dirty close under exactly-once).
    pub(crate) fn state_dir(&self) -> std::path::PathBuf {
        self.task_dir.clone()
    }

    /// Flushes the stores and writes the checkpoint, unless the offsets it would hold are the
    /// ones already written (then the stores hold nothing new either: every write is logged).
    fn checkpoint(&mut self) -> Result<(), RuntimeError> {
        if !self.changelogs.iter().any(|c| c.persistent)
            || self.changelog_offsets == self.checkpointed
        {
            return Ok(());
        }
        self.state
            .stores
            .flush_all()
            .map_err(|source| RuntimeError::State {
                task: self.id,
                source,
            })?;
        let path = checkpoint::path(&self.task_dir);
        checkpoint::write(&path, &self.changelog_offsets).map_err(|source| {
            RuntimeError::Checkpoint {
                task: self.id,
                path,
                source,
            }
        })?;
        self.checkpointed = self.changelog_offsets.clone();
        Ok(())
    }

    /// Whether the task has persistent (RocksDB) stores, which lock their directories.
    pub(crate) fn has_persistent_stores(&self) -> bool {
        self.persistent
    }

    /// The task's state stores.
    pub(crate) fn stores(&self) -> &StoreRegistry {
        &self.state.stores
    }

    /// Whether the task is still restoring its stores from their changelogs (its stores must
    /// not be queried, its inputs are not processed yet).
    pub(crate) fn is_restoring(&self) -> bool {
        self.restoring
    }
}
