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
    pub fn in_memory_key_value<KC, VC>(
        name: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
    ) -> KeyValueStoreBuilder<KC, VC> {
        KeyValueStoreBuilder {
            name: name.into(),
            key_codec,
            value_codec,
        }
    }
}

/// Builds key-value stores; see [`Stores::in_memory_key_value`]. Fix the key and value types with
/// [`typed`](Self::typed) when the codecs serve several types.
#[derive(Debug, Clone)]
pub struct KeyValueStoreBuilder<KC, VC> {
    name: String,
    key_codec: KC,
    value_codec: VC,
}

impl<KC, VC> KeyValueStoreBuilder<KC, VC> {
    /// Fixes the key and value types.
    pub fn typed<K, V>(self) -> TypedKeyValueStoreBuilder<K, V, KC, VC>
    where
        KC: Codec<K>,
        VC: Codec<V>,
    {
        TypedKeyValueStoreBuilder {
            inner: self,
            types: PhantomData,
        }
    }
}

/// A [`KeyValueStoreBuilder`] with its key and value types fixed.
#[derive(Debug, Clone)]
pub struct TypedKeyValueStoreBuilder<K, V, KC, VC> {
    inner: KeyValueStoreBuilder<KC, VC>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC, VC> StoreBuilder for TypedKeyValueStoreBuilder<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn kind(&self) -> StoreKind {
        StoreKind::KeyValue
    }

    fn build(&self) -> Box<dyn Any> {
        Box::new(KeyValueStore::<K, V>::new(
            self.inner.name.clone(),
            Box::new(InMemoryKeyValue::default()),
            self.inner.key_codec.clone(),
            self.inner.value_codec.clone(),
        ))
    }
}
