//! The RocksDB engine: one database per store instance under
//! `<state.dir>/<application.id>/<task>/rocksdb/<store>`, a column family per window/session
//! segment, and one memory budget ([`RocksDbMemory`]) shared by every database of the process.

use std::cell::RefCell;
use std::fmt;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType, Options,
    WriteBatch, WriteBufferManager, WriteOptions,
};

use super::bytes::{ByteRange, BytesStore, Entry, RestoreRecord};
use super::error::StoreError;

/// One memory budget for every RocksDB store of the process: a shared LRU block cache, and a
/// write-buffer manager that charges memtables to that same cache, so block cache + memtables
/// stay within [`total_bytes`](Self::total_bytes) however many stores and tasks there are.
///
/// Kafka Streams gives each RocksDB store its own cache and memtables (50 MiB + 3 × 16 MiB), so
/// memory grows with the number of stores and partitions unless a `RocksDBConfigSetter` bounds
/// it; here the bound is the default. Memtables may take up to half of the budget.
///
/// Clones share the budget. [`RocksDbMemory::shared`] is the process-wide one with the default
/// size; the runtime passes one through [`StoreContext`](super::StoreContext).
///
/// ```
/// use streams_core::state::RocksDbMemory;
/// let memory = RocksDbMemory::new(128 << 20);
/// assert_eq!(memory.total_bytes(), 128 << 20);
/// assert_eq!(RocksDbMemory::DEFAULT_TOTAL_BYTES, 64 << 20);
/// ```
#[derive(Clone)]
pub struct RocksDbMemory {
    cache: Cache,
    write_buffers: WriteBufferManager,
    total_bytes: usize,
}

impl fmt::Debug for RocksDbMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbMemory")
            .field("total_bytes", &self.total_bytes)
            .field("block_cache_usage", &self.cache.get_usage())
            .field("memtable_usage", &self.write_buffers.get_usage())
            .finish()
    }
}

impl Default for RocksDbMemory {
    fn default() -> Self {
        RocksDbMemory::new(Self::DEFAULT_TOTAL_BYTES)
    }
}

impl RocksDbMemory {
    /// The default budget: 64 MiB for all RocksDB stores of the process together.
    pub const DEFAULT_TOTAL_BYTES: usize = 64 << 20;

    /// A budget of `total_bytes` (at least 1 MiB) for block cache and memtables together.
    pub fn new(total_bytes: usize) -> Self {
        let total_bytes = total_bytes.max(1 << 20);
        let cache = Cache::new_lru_cache(total_bytes);
        let write_buffers = WriteBufferManager::new_write_buffer_manager_with_cache(
            total_bytes / 2,
            false,
            cache.clone(),
        );
        RocksDbMemory {
            cache,
            write_buffers,
            total_bytes,
        }
    }

    /// The process-wide budget, whatever its size: created with
    /// [`DEFAULT_TOTAL_BYTES`](Self::DEFAULT_TOTAL_BYTES) if nothing created it before.
    pub fn shared() -> Self {
        Self::process_wide_cell()
            .get_or_init(|| RocksDbMemory::new(Self::DEFAULT_TOTAL_BYTES))
            .clone()
    }

    fn process_wide_cell() -> &'static OnceLock<RocksDbMemory> {
        static SHARED: OnceLock<RocksDbMemory> = OnceLock::new();
        &SHARED
    }

    /// The process-wide budget, created with `total_bytes` on first use; later calls share
    /// it whatever size they ask for (the runtime passes `rocksdb.memory.max.bytes`).
    pub fn process_wide(total_bytes: usize) -> Self {
        let shared = Self::process_wide_cell().get_or_init(|| RocksDbMemory::new(total_bytes));
        if shared.total_bytes != total_bytes.max(1 << 20) {
            tracing::warn!(
                requested = total_bytes,
                budget = shared.total_bytes,
                "the process-wide RocksDB memory budget was already created; keeping it"
            );
        }
        shared.clone()
    }

    /// The budget in bytes.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// Bytes in use now: block cache (which includes the memtables charged to it).
    pub fn usage_bytes(&self) -> usize {
        self.cache.get_usage()
    }

    fn options(&self) -> Options {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&self.cache);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_bloom_filter(10.0, false);
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_block_based_table_factory(&table);
        opts.set_write_buffer_manager(&self.write_buffers);
        opts.set_write_buffer_size((self.total_bytes / 4).min(16 << 20));
        opts.set_max_write_buffer_number(3);
        opts.set_compression_type(DBCompressionType::Lz4);
        opts
    }
}

/// An open RocksDB database of one store instance.
pub(crate) struct RocksDb {
    name: String,
    path: PathBuf,
    db: RefCell<Option<DB>>,
    cf_options: Options,
    /// Write-ahead log off, as Kafka Streams: the changelog makes writes durable, and commits
    /// flush memtables before checkpointing.
    write: WriteOptions,
}

impl RocksDb {
    /// Opens (creating if needed) the database at `path` with every column family it has.
    pub(crate) fn open(
        name: &str,
        path: &Path,
        memory: &RocksDbMemory,
    ) -> Result<Rc<Self>, StoreError> {
        std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
            store: name.to_string(),
            action: "create",
            path: path.to_path_buf(),
            source,
        })?;
        let opts = memory.options();
        let mut families = DB::list_cf(&opts, path).unwrap_or_default();
        if !families
            .iter()
            .any(|f| f == rocksdb::DEFAULT_COLUMN_FAMILY_NAME)
        {
            families.push(rocksdb::DEFAULT_COLUMN_FAMILY_NAME.to_string());
        }
        let descriptors = families
            .iter()
            .map(|f| ColumnFamilyDescriptor::new(f, opts.clone()));
        let db = DB::open_cf_descriptors(&opts, path, descriptors).map_err(|e| {
            StoreError::backend(name, format!("cannot open `{}`: {e}", path.display()))
        })?;
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        Ok(Rc::new(RocksDb {
            name: name.to_string(),
            path: path.to_path_buf(),
            db: RefCell::new(Some(db)),
            cf_options: opts,
            write,
        }))
    }

    fn error(&self, e: impl fmt::Display) -> StoreError {
        StoreError::backend(&self.name, e)
    }

    fn with_db<R>(&self, f: impl FnOnce(&DB) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let db = self
            .db
            .try_borrow()
            .map_err(|_| StoreError::reentrant(&self.name))?;
        match db.as_ref() {
            Some(db) => f(db),
            None => Err(self.error(format!("`{}` is closed", self.path.display()))),
        }
    }

    fn with_db_mut<R>(
        &self,
        f: impl FnOnce(&mut DB) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut db = self
            .db
            .try_borrow_mut()
            .map_err(|_| StoreError::reentrant(&self.name))?;
        match db.as_mut() {
            Some(db) => f(db),
            None => Err(self.error(format!("`{}` is closed", self.path.display()))),
        }
    }

    fn cf<'a>(&self, db: &'a DB, family: &str) -> Result<&'a ColumnFamily, StoreError> {
        db.cf_handle(family)
            .ok_or_else(|| self.error(format!("no column family `{family}`")))
    }

    /// The column families whose names start with `prefix`, without the prefix.
    pub(crate) fn families_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let families = DB::list_cf(&self.cf_options, &self.path).map_err(|e| self.error(e))?;
        Ok(families
            .into_iter()
            .filter_map(|f| f.strip_prefix(prefix).map(str::to_string))
            .collect())
    }

    pub(crate) fn create_family(&self, family: &str) -> Result<(), StoreError> {
        self.with_db_mut(|db| {
            if db.cf_handle(family).is_none() {
                db.create_cf(family, &self.cf_options)
                    .map_err(|e| self.error(e))?;
            }
            Ok(())
        })
    }

    pub(crate) fn drop_family(&self, family: &str) -> Result<(), StoreError> {
        self.with_db_mut(|db| {
            if db.cf_handle(family).is_some() {
                db.drop_cf(family).map_err(|e| self.error(e))?;
            }
            Ok(())
        })
    }

    /// A value in the default column family (store metadata, e.g. a segmented store's stream
    /// time).
    pub(crate) fn get_meta(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_db(|db| {
            db.get_pinned(key)
                .map(|v| v.map(|v| v.to_vec()))
                .map_err(|e| self.error(e))
        })
    }

    pub(crate) fn put_meta(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.with_db(|db| {
            db.put_opt(key, value, &self.write)
                .map_err(|e| self.error(e))
        })
    }

    /// Flushes memtables and closes the database.
    pub(crate) fn close(&self) -> Result<(), StoreError> {
        let flushed = self.flush_all();
        let mut db = self
            .db
            .try_borrow_mut()
            .map_err(|_| StoreError::reentrant(&self.name))?;
        drop(db.take());
        flushed
    }

    fn flush_all(&self) -> Result<(), StoreError> {
        let db = self
            .db
            .try_borrow()
            .map_err(|_| StoreError::reentrant(&self.name))?;
        let Some(db) = db.as_ref() else {
            return Ok(());
        };
        let families = DB::list_cf(&self.cf_options, &self.path).map_err(|e| self.error(e))?;
        for family in families {
            if let Some(cf) = db.cf_handle(&family) {
                db.flush_cf(cf).map_err(|e| self.error(e))?;
            }
        }
        Ok(())
    }
}

/// One column family of a [`RocksDb`] as a bytes store: the whole store for key-value stores,
/// one segment for window and session stores.
pub(crate) struct RocksFamily {
    db: Rc<RocksDb>,
    family: String,
    /// Whether this store owns the database (closes it on close).
    owner: bool,
}

impl RocksFamily {
    /// The default column family; the store owns the database.
    pub(crate) fn default_of(db: Rc<RocksDb>) -> Self {
        RocksFamily {
            db,
            family: rocksdb::DEFAULT_COLUMN_FAMILY_NAME.to_string(),
            owner: true,
        }
    }

    /// A column family (created if missing) of a database someone else closes.
    pub(crate) fn open(db: Rc<RocksDb>, family: String) -> Result<Self, StoreError> {
        db.create_family(&family)?;
        Ok(RocksFamily {
            db,
            family,
            owner: false,
        })
    }
}

impl BytesStore for RocksFamily {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.with_db(|db| {
            let cf = self.db.cf(db, &self.family)?;
            db.get_pinned_cf(cf, key)
                .map(|v| v.map(|v| v.to_vec()))
                .map_err(|e| self.db.error(e))
        })
    }

    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        _timestamp: Option<i64>,
    ) -> Result<(), StoreError> {
        self.db.with_db(|db| {
            let cf = self.db.cf(db, &self.family)?;
            match value {
                Some(value) => db.put_cf_opt(cf, key, value, &self.db.write),
                None => db.delete_cf_opt(cf, key, &self.db.write),
            }
            .map_err(|e| self.db.error(e))
        })
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.db.with_db(|db| {
            let cf = self.db.cf(db, &self.family)?;
            let mut iter = db.raw_iterator_cf(cf);
            let mut out = Vec::new();
            if reverse {
                match &range.to {
                    Bound::Included(k) | Bound::Excluded(k) => iter.seek_for_prev(k),
                    Bound::Unbounded => iter.seek_to_last(),
                }
            } else {
                match &range.from {
                    Bound::Included(k) | Bound::Excluded(k) => iter.seek(k),
                    Bound::Unbounded => iter.seek_to_first(),
                }
            }
            while out.len() < limit {
                let Some((key, value)) = iter.item() else {
                    break;
                };
                let inside = if reverse {
                    range.above_lower(key)
                } else {
                    range.below_upper(key)
                };
                if !inside {
                    break;
                }
                if range.contains(key) {
                    out.push((key.to_vec(), value.to_vec()));
                }
                if reverse {
                    iter.prev();
                } else {
                    iter.next();
                }
            }
            iter.status().map_err(|e| self.db.error(e))?;
            Ok(out)
        })
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.db.with_db(|db| {
            let cf = self.db.cf(db, &self.family)?;
            db.property_int_value_cf(cf, rocksdb::properties::ESTIMATE_NUM_KEYS)
                .map(Option::unwrap_or_default)
                .map_err(|e| self.db.error(e))
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.with_db(|db| {
            let cf = self.db.cf(db, &self.family)?;
            db.flush_cf(cf).map_err(|e| self.db.error(e))
        })
    }

    fn restore(&self, records: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        self.db.with_db(|db| {
            let cf = self.db.cf(db, &self.family)?;
            let mut batch = WriteBatch::default();
            for record in records {
                match record.value {
                    Some(value) => batch.put_cf(cf, record.key, value),
                    None => batch.delete_cf(cf, record.key),
                }
            }
            db.write_opt(batch, &self.db.write)
                .map_err(|e| self.db.error(e))
        })
    }

    fn close(&self) -> Result<(), StoreError> {
        if self.owner { self.db.close() } else { Ok(()) }
    }
}

/// A global store's RocksDB database (default column family only), shared by the threads of an
/// instance: RocksDB is thread-safe, so the lock only guards closing.
pub(crate) struct SharedRocksDb {
    name: String,
    path: PathBuf,
    db: std::sync::RwLock<Option<DB>>,
    /// Write-ahead log off: the global thread flushes before it checkpoints, and the source
    /// topic has everything after the checkpoint.
    write: WriteOptions,
}

impl SharedRocksDb {
    /// Opens (creating if needed) the database at `path`.
    pub(crate) fn open(
        name: &str,
        path: &Path,
        memory: &RocksDbMemory,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
            store: name.to_string(),
            action: "create",
            path: path.to_path_buf(),
            source,
        })?;
        let db = DB::open(&memory.options(), path).map_err(|e| {
            StoreError::backend(name, format!("cannot open `{}`: {e}", path.display()))
        })?;
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        Ok(SharedRocksDb {
            name: name.to_string(),
            path: path.to_path_buf(),
            db: std::sync::RwLock::new(Some(db)),
            write,
        })
    }

    fn error(&self, e: impl fmt::Display) -> StoreError {
        StoreError::backend(&self.name, e)
    }

    fn with_db<R>(&self, f: impl FnOnce(&DB) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let db = self.db.read().unwrap_or_else(|p| p.into_inner());
        match db.as_ref() {
            Some(db) => f(db),
            None => Err(self.error(format!("`{}` is closed", self.path.display()))),
        }
    }
}

impl super::global::SharedEngine for SharedRocksDb {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_db(|db| {
            db.get_pinned(key)
                .map(|v| v.map(|v| v.to_vec()))
                .map_err(|e| self.error(e))
        })
    }

    fn put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        self.with_db(|db| {
            match value {
                Some(value) => db.put_opt(key, value, &self.write),
                None => db.delete_opt(key, &self.write),
            }
            .map_err(|e| self.error(e))
        })
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.with_db(|db| {
            let mut iter = db.raw_iterator();
            let mut out = Vec::new();
            if reverse {
                match &range.to {
                    Bound::Included(k) | Bound::Excluded(k) => iter.seek_for_prev(k),
                    Bound::Unbounded => iter.seek_to_last(),
                }
            } else {
                match &range.from {
                    Bound::Included(k) | Bound::Excluded(k) => iter.seek(k),
                    Bound::Unbounded => iter.seek_to_first(),
                }
            }
            while out.len() < limit {
                let Some((key, value)) = iter.item() else {
                    break;
                };
                let inside = if reverse {
                    range.above_lower(key)
                } else {
                    range.below_upper(key)
                };
                if !inside {
                    break;
                }
                if range.contains(key) {
                    out.push((key.to_vec(), value.to_vec()));
                }
                if reverse {
                    iter.prev();
                } else {
                    iter.next();
                }
            }
            iter.status().map_err(|e| self.error(e))?;
            Ok(out)
        })
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.with_db(|db| {
            db.property_int_value(rocksdb::properties::ESTIMATE_NUM_KEYS)
                .map(Option::unwrap_or_default)
                .map_err(|e| self.error(e))
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.with_db(|db| db.flush().map_err(|e| self.error(e)))
    }

    fn restore(&self, records: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        self.with_db(|db| {
            let mut batch = WriteBatch::default();
            for record in records {
                match record.value {
                    Some(value) => batch.put(record.key, value),
                    None => batch.delete(record.key),
                }
            }
            db.write_opt(batch, &self.write).map_err(|e| self.error(e))
        })
    }

    fn close(&self) -> Result<(), StoreError> {
        let flushed = self.flush();
        let mut db = self.db.write().unwrap_or_else(|p| p.into_inner());
        drop(db.take());
        flushed
    }

    fn persistent(&self) -> bool {
        true
    }
}
