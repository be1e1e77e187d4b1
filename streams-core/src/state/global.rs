//! Global stores: one engine per application instance, written by the global stream thread and
//! read by every task of every stream thread (and by interactive queries) — Kafka Streams'
//! global state stores.
//!
//! The rest of the store stack is `Rc`-based and lives on one thread, so a global store is made
//! of a thread-safe engine ([`SharedEngine`]: a locked `BTreeMap`, or a RocksDB database, which is
//! thread-safe itself) registered once in [`GlobalEngines`], and, on each thread that uses it, a
//! [`SharedStore`] layer over that engine on which the usual typed handle is built. Tasks get a
//! read-only layer (a write is a [`StoreError::ReadOnly`]); the global thread a writable one.
//! Global stores have no changelog (their source topic is their changelog) and no record cache,
//! so a write is visible to every reader at once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use super::bytes::{ByteRange, BytesStore, Entry, RestoreRecord};
use super::error::StoreError;

/// A thread-safe bytes engine under a global store.
pub(crate) trait SharedEngine: Send + Sync {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError>;
    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;
    fn approximate_num_entries(&self) -> Result<u64, StoreError>;
    /// Writes memtables down (RocksDB); a no-op in memory.
    fn flush(&self) -> Result<(), StoreError>;
    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError>;
    /// Flushes and releases the engine; later calls fail.
    fn close(&self) -> Result<(), StoreError>;
    /// Whether the data outlives the process (a checkpoint of it means something).
    fn persistent(&self) -> bool;
}

/// The in-memory engine of a global store: a `BTreeMap` behind a read-write lock.
#[derive(Debug, Default)]
pub(crate) struct SharedMemory {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl SharedMemory {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-written: every write is one
        // `insert` or `remove`.
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl SharedEngine for SharedMemory {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read().get(key).cloned())
    }

    fn put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let mut map = self.write();
        match value {
            Some(value) => map.insert(key.to_vec(), value.to_vec()),
            None => map.remove(key),
        };
        Ok(())
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let map = self.read();
        let iter = map.range::<[u8], _>(range.bounds());
        let clone = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if reverse {
            iter.rev().take(limit).map(clone).collect()
        } else {
            iter.take(limit).map(clone).collect()
        })
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        Ok(self.read().len() as u64)
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        let mut map = self.write();
        for record in batch {
            match record.value {
                Some(value) => map.insert(record.key.to_vec(), value.to_vec()),
                None => map.remove(record.key),
            };
        }
        Ok(())
    }

    fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn persistent(&self) -> bool {
        false
    }
}

/// A global store's name and engine.
type Named = (String, Arc<dyn SharedEngine>);

/// The engines of one instance's global stores, by store name. Clones share them.
#[derive(Clone, Default)]
pub(crate) struct GlobalEngines {
    engines: Arc<Mutex<Vec<Named>>>,
}

impl std::fmt::Debug for GlobalEngines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl GlobalEngines {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Named>> {
        self.engines.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The engine of store `name`, opened with `open` if this is its first use.
    pub(crate) fn get_or_open(
        &self,
        name: &str,
        open: impl FnOnce() -> Result<Arc<dyn SharedEngine>, StoreError>,
    ) -> Result<Arc<dyn SharedEngine>, StoreError> {
        let mut engines = self.lock();
        if let Some((_, engine)) = engines.iter().find(|(n, _)| n == name) {
            return Ok(Arc::clone(engine));
        }
        let engine = open()?;
        engines.push((name.to_string(), Arc::clone(&engine)));
        Ok(engine)
    }

    /// Whether store `name` has an engine here.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.lock().iter().any(|(n, _)| n == name)
    }

    /// Whether store `name`'s engine keeps its data on disk (`None`: no such engine).
    #[cfg_attr(
        all(not(feature = "kafka"), not(test)),
        expect(dead_code, reason = "the runtime's global thread checkpoints")
    )]
    pub(crate) fn persistent(&self, name: &str) -> Option<bool> {
        self.lock()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.persistent())
    }

    /// The stores' names, in the order their engines were opened.
    pub(crate) fn names(&self) -> Vec<String> {
        self.lock().iter().map(|(n, _)| n.clone()).collect()
    }

    /// Flushes and closes every engine; returns the first error after trying them all.
    #[cfg_attr(
        all(not(feature = "kafka"), not(test)),
        expect(dead_code, reason = "the runtime closes the engines")
    )]
    pub(crate) fn close_all(&self) -> Result<(), StoreError> {
        let engines: Vec<Arc<dyn SharedEngine>> = self.lock().drain(..).map(|(_, e)| e).collect();
        let mut first = Ok(());
        for engine in engines {
            if let Err(e) = engine.close()
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }
}

/// How a thread reaches the global engines: the global thread writes, tasks and queries read.
#[derive(Clone, Debug)]
pub(crate) struct GlobalAccess {
    pub(crate) engines: GlobalEngines,
    pub(crate) writable: bool,
}

/// A global store's engine as one thread's bottom layer.
pub(crate) struct SharedStore {
    name: String,
    engine: Arc<dyn SharedEngine>,
    writable: bool,
}

impl SharedStore {
    pub(crate) fn new(name: &str, engine: Arc<dyn SharedEngine>, writable: bool) -> Self {
        SharedStore {
            name: name.to_string(),
            engine,
            writable,
        }
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        if self.writable {
            Ok(())
        } else {
            Err(StoreError::ReadOnly {
                store: self.name.clone(),
            })
        }
    }
}

impl BytesStore for SharedStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.engine.get(key)
    }

    fn put(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        _timestamp: Option<i64>,
    ) -> Result<(), StoreError> {
        self.check_writable()?;
        self.engine.put(key, value)
    }

    fn scan(
        &self,
        range: &ByteRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.engine.scan(range, reverse, limit)
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.engine.approximate_num_entries()
    }

    fn flush(&self) -> Result<(), StoreError> {
        if self.writable {
            self.engine.flush()
        } else {
            Ok(())
        }
    }

    fn restore(&self, batch: &[RestoreRecord<'_>]) -> Result<(), StoreError> {
        self.check_writable()?;
        self.engine.restore(batch)
    }

    /// The engine is closed by the owner of the [`GlobalEngines`] (the global thread, the test
    /// driver), after every reader is gone; closing one thread's layer only flushes.
    fn close(&self) -> Result<(), StoreError> {
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_the_writers_puts_at_once_and_cannot_write() {
        let engines = GlobalEngines::default();
        let engine = engines
            .get_or_open("g", || Ok(Arc::new(SharedMemory::default())))
            .expect("open");
        let again = engines
            .get_or_open("g", || panic!("opened twice"))
            .expect("shared");
        assert!(Arc::ptr_eq(&engine, &again));
        let writer = SharedStore::new("g", Arc::clone(&engine), true);
        let reader = SharedStore::new("g", again, false);
        writer.put(b"k", Some(b"v"), None).expect("put");
        let seen = std::thread::scope(|s| {
            s.spawn(|| engine.get(b"k").expect("get"))
                .join()
                .expect("no panic")
        });
        assert_eq!(seen.as_deref(), Some(&b"v"[..]));
        assert_eq!(reader.get(b"k").expect("get").as_deref(), Some(&b"v"[..]));
        assert!(matches!(
            reader.put(b"k", None, None),
            Err(StoreError::ReadOnly { store }) if store == "g"
        ));
        assert_eq!(engines.persistent("g"), Some(false));
        assert_eq!(engines.names(), ["g"]);
        engines.close_all().expect("close");
        assert!(!engines.contains("g"));
    }
}
