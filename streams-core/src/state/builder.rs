use std::any::Any;
use std::marker::PhantomData;

use crate::codec::Codec;

use super::key_value::KeyValueStore;
use super::memory::InMemoryKeyValue;

/// The kind of a state store, as shown by `describe()` and checked on access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreKind {
    /// Key → value.
    KeyValue,
}

/// Declares a state store in a topology and makes one instance of it per task — Kafka
/// Streams' `StoreBuilder`.
pub trait StoreBuilder: Send + Sync + 'static {
    /// The store's name, unique in the topology.
    fn name(&self) -> &str;

    /// The store's kind.
    fn kind(&self) -> StoreKind;

    /// A new, empty store instance for one task; the processor-facing handle, boxed.
    fn build(&self) -> Box<dyn Any>;
}

/// Factories for store builders — Kafka Streams' `Stores`.
#[derive(Debug)]
pub struct Stores;

impl Stores {
    /// An in-memory key-value store, ordered by the key's encoded bytes.
    pub fn in_memory_key_value<K, V, KC, VC>(
        name: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
    ) -> KeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        KeyValueStoreBuilder {
            name: name.into(),
            key_codec,
            value_codec,
            types: PhantomData,
        }
    }
}

/// Builds key-value stores; see [`Stores::in_memory_key_value`].
pub struct KeyValueStoreBuilder<K, V, KC, VC> {
    name: String,
    key_codec: KC,
    value_codec: VC,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC: std::fmt::Debug, VC: std::fmt::Debug> std::fmt::Debug
    for KeyValueStoreBuilder<K, V, KC, VC>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyValueStoreBuilder")
            .field("name", &self.name)
            .field("key_codec", &self.key_codec)
            .field("value_codec", &self.value_codec)
            .finish()
    }
}

impl<K, V, KC, VC> StoreBuilder for KeyValueStoreBuilder<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> StoreKind {
        StoreKind::KeyValue
    }

    fn build(&self) -> Box<dyn Any> {
        Box::new(KeyValueStore::<K, V>::new(
            self.name.clone(),
            Box::new(InMemoryKeyValue::default()),
            self.key_codec.clone(),
            self.value_codec.clone(),
        ))
    }
}
