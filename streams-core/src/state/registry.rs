use std::any::Any;
use std::collections::HashMap;

/// A task's store instances by name (each the boxed, typed handle its builder made).
#[derive(Default)]
pub(crate) struct StoreRegistry {
    stores: HashMap<String, Box<dyn Any>>,
}

impl StoreRegistry {
    pub(crate) fn insert(&mut self, name: String, store: Box<dyn Any>) {
        self.stores.insert(name, store);
    }

    pub(crate) fn get(&self, name: &str) -> Option<&dyn Any> {
        self.stores.get(name).map(|b| &**b)
    }
}
