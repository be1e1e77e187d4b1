use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use super::builder::{BuiltStore, StateStore};
use super::bytes::RestoreRecord;
use super::error::StoreError;

/// One store: name, typed handle, lifecycle.
type Registered = (String, Box<dyn Any>, Rc<dyn StateStore>);

/// A task's store instances by name: each the boxed, typed handle processors fetch, and its
/// lifecycle for the runtime (flush on commit, restore, close).
#[derive(Default)]
pub struct StoreRegistry {
    /// In build order.
    stores: Vec<Registered>,
    index: HashMap<String, usize>,
}

impl fmt::Debug for StoreRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreRegistry")
            .field("stores", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl StoreRegistry {
    pub(crate) fn insert(&mut self, name: String, built: BuiltStore) {
        match self.index.get(&name) {
            Some(&i) => self.stores[i] = (name, built.handle, built.store),
            None => {
                self.index.insert(name.clone(), self.stores.len());
                self.stores.push((name, built.handle, built.store));
            }
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&dyn Any> {
        self.index.get(name).map(|&i| &*self.stores[i].1)
    }

    /// The stores' names, in build order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.stores.iter().map(|(n, _, _)| n.as_str())
    }

    /// A store's lifecycle.
    pub fn state_store(&self, name: &str) -> Option<&Rc<dyn StateStore>> {
        self.index.get(name).map(|&i| &self.stores[i].2)
    }

    /// Flushes every store (record cache, then engine); the runtime calls it on commit, after
    /// flushing the producer's pending records and before writing the checkpoint.
    pub fn flush_all(&self) -> Result<(), StoreError> {
        self.stores.iter().try_for_each(|(_, _, s)| s.flush())
    }

    /// Flushes every store's record cache only (forwarding cached updates downstream).
    pub fn flush_caches(&self) -> Result<(), StoreError> {
        self.stores.iter().try_for_each(|(_, _, s)| s.flush_cache())
    }

    /// Replays a batch of changelog records into store `name`; `Ok(false)` if there is no such
    /// store.
    pub fn restore_batch(
        &self,
        name: &str,
        records: &[RestoreRecord<'_>],
    ) -> Result<bool, StoreError> {
        match self.state_store(name) {
            Some(store) => store.restore_batch(records).map(|()| true),
            None => Ok(false),
        }
    }

    /// Closes every store; returns the first error after trying them all.
    pub fn close_all(&self) -> Result<(), StoreError> {
        let mut first = Ok(());
        for (_, _, store) in &self.stores {
            if let Err(e) = store.close()
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }
}

impl Drop for StoreRegistry {
    fn drop(&mut self) {
        if let Err(e) = self.close_all() {
            tracing::warn!(error = %e, "closing state stores failed");
        }
    }
}
