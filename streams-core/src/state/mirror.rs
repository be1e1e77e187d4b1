//! RocksDB segments with an in-memory copy, read instead of RocksDB: the window stores of
//! stream-stream joins.
//!
//! A join looks up the other side's store once per record, a few windows of one key, and keeps
//! only its join window (retention = the windows plus grace). Reading that from RocksDB means an
//! iterator and a seek through memtables and every file flushed since the segment began — most
//! of a join's time. The copy holds the same entries in a `BTreeMap`; RocksDB still takes every
//! write (so a restart finds the state on disk, as Kafka Streams' RocksDB stores do) and the
//! copy is rebuilt from it when a segment is opened again.
//!
//! All copies of the process share one budget ([`MIRROR_BUDGET_BYTES`]). A store whose next
//! write does not fit stops copying for good and frees its copy; it reads RocksDB from then on.
//! Results are the same either way.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::bytes::{ByteRange, BytesStore, Entry, RestoreRecord, Visitor};
use super::error::StoreError;
use super::memory::InMemoryStore;
use super::rocks::RocksFamily;

/// Bytes (keys and values) all copies of the process may hold together.
pub(crate) const MIRROR_BUDGET_BYTES: usize = 64 << 20;

/// Bytes held by all copies of the process.
static MIRRORED_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Whether one store's segments still copy, shared by its segments.
#[derive(Debug)]
pub(crate) struct MirrorSwitch {
    store: String,
    on: Cell<bool>,
    /// The most bytes all copies of the process may hold for this store to go on copying.
    budget: usize,
}

impl MirrorSwitch {
    pub(crate) fn new(store: &str) -> Rc<Self> {
        Self::with_budget(store, MIRROR_BUDGET_BYTES)
    }

    pub(crate) fn with_budget(store: &str, budget: usize) -> Rc<Self> {
        Rc::new(MirrorSwitch {
            store: store.to_string(),
            on: Cell::new(true),
            budget,
        })
    }

    /// Whether the store still copies.
    pub(crate) fn is_on(&self) -> bool {
        self.on.get()
    }

    fn turn_off(&self) {
        if self.on.replace(false) {
            tracing::info!(store = %self.store,
                "the in-memory copy of this window store's segments is over its budget; \
                 reading RocksDB from now on");
        }
    }
}

/// One RocksDB segment and its in-memory copy.
pub(crate) struct MirroredSegment {
    rocks: RocksFamily,
    copy: InMemoryStore,
    /// Bytes in `copy`, charged to the process-wide budget.
    bytes: Cell<usize>,
    switch: Rc<MirrorSwitch>,
}

impl MirroredSegment {
    /// Opens the copy of `rocks`, reading what it holds already (a reopened store).
    pub(crate) fn open(
        name: &str,
        rocks: RocksFamily,
        switch: Rc<MirrorSwitch>,
    ) -> Result<Self, StoreError> {
        let segment = MirroredSegment {
            rocks,
            copy: InMemoryStore::new(name),
            bytes: Cell::new(0),
            switch,
        };
        if !segment.copying() {
            return Ok(segment);
        }
        let mut failed = None;
        segment
            .rocks
            .visit(
                &ByteRange::all(),
                false,
                &mut |k, v| match segment.copy_put(k, Some(v)) {
                    Ok(()) => segment.copying(),
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                },
            )?;
        failed.map_or(Ok(segment), Err)
    }

    /// Whether the copy is complete; frees it once its store stopped copying.
    fn copying(&self) -> bool {
        if self.switch.is_on() {
            return true;
        }
        if self.bytes.get() > 0 {
            self.copy.clear();
            MIRRORED_BYTES.fetch_sub(self.bytes.replace(0), Ordering::Relaxed);
        }
        false
    }

    /// Writes to the copy, within the budget (else the store stops copying).
    fn copy_put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let new = value.map_or(0, |v| key.len() + v.len());
        let old = self.copy.replace(key, value)?;
        if new >= old {
            let grow = new - old;
            self.bytes.set(self.bytes.get() + grow);
            if MIRRORED_BYTES.fetch_add(grow, Ordering::Relaxed) + grow > self.switch.budget {
                self.switch.turn_off();
                self.copying();
            }
        } else {
            let shrink = old - new;
            self.bytes.set(self.bytes.get() - shrink);
            MIRRORED_BYTES.fetch_sub(shrink, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Drop for MirroredSegment {
    /// A segment dropped without a close (a task dropped after a failure) gives its bytes back.
    fn drop(&mut self) {
        MIRRORED_BYTES.fetch_sub(self.bytes.replace(0), Ordering::Relaxed);
    }
}

impl BytesStore for MirroredSegment {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if self.copying() {
            self.copy.get(key)
        } else {
            self.rocks.get(key)
        }
    }

    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: Option<i64>,
    ) -> Result<(), StoreError> {
        self.rocks.put(key, value, timestamp)?;
        if self.copying() {
            self.copy_put(key, value)?;
        }
        Ok(())
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if self.copying() {
            self.copy.scan(range, reverse, limit)
        } else {
            self.rocks.scan(range, reverse, limit)
        }
    }

    fn visit(&self, range: &ByteRange, reverse: bool, f: Visitor<'_>) -> Result<(), StoreError> {
        if self.copying() {
            self.copy.visit(range, reverse, f)
        } else {
            self.rocks.visit(range, reverse, f)
        }
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.rocks.approximate_num_entries()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.rocks.flush()
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        self.rocks.restore(batch)?;
        for record in batch {
            if !self.copying() {
                break;
            }
            self.copy_put(record.key, record.value)?;
        }
        Ok(())
    }

    fn close(&self) -> Result<(), StoreError> {
        self.copy.clear();
        MIRRORED_BYTES.fetch_sub(self.bytes.replace(0), Ordering::Relaxed);
        self.rocks.close()
    }
}
