//! The DSL's graph under construction: Kafka Streams' node-name index and the steps that write
//! each operation into a [`TopologyBuilder`], in the order the operations were made (the order
//! in which Kafka Streams writes its graph nodes).

use std::cell::RefCell;
use std::rc::Rc;

use crate::codec::{Codec, Inferred};
use crate::state::{Stores, TimestampedKeyValueStoreBuilder};
use crate::topology::{TopologyBuilder, TopologyError};

use super::options::{CodecChoice, Materialized, StoreOptions, StoreType};

type Step = Box<dyn FnOnce(&mut TopologyBuilder)>;

#[derive(Default)]
pub(crate) struct Graph {
    /// Kafka Streams' one index for generated processor and store names.
    index: u32,
    steps: Vec<Step>,
    /// What is wrong with the operations made so far (Kafka Streams throws these while the
    /// program is built); [`StreamsBuilder::build`](super::StreamsBuilder::build) reports them
    /// with the topology's own checks.
    errors: Vec<TopologyError>,
}

/// The graph, shared by the builder and every stream and table made from it.
pub(crate) type Shared = Rc<RefCell<Graph>>;

impl Graph {
    /// `<prefix><index>` with the index zero-padded to ten digits (`KSTREAM-FILTER-0000000001`).
    pub(crate) fn processor_name(&mut self, prefix: &str) -> String {
        let name = format!("{prefix}{:010}", self.index);
        self.index += 1;
        name
    }

    /// `<prefix>STATE-STORE-<index>`.
    pub(crate) fn store_name(&mut self, prefix: &str) -> String {
        let name = format!("{prefix}STATE-STORE-{:010}", self.index);
        self.index += 1;
        name
    }

    /// The user's name, or a generated one. An index is used either way (Kafka Streams'
    /// `orElseGenerateWithPrefix` burns one for named operations too).
    pub(crate) fn name_or(&mut self, named: Option<String>, prefix: &str) -> String {
        let generated = self.processor_name(prefix);
        named.unwrap_or(generated)
    }

    /// `<name><suffix>`, or a generated name; an index is used either way (Kafka Streams'
    /// `suffixWithOrElseGet`).
    pub(crate) fn suffixed_or(
        &mut self,
        named: Option<&str>,
        suffix: &str,
        prefix: &str,
    ) -> String {
        let generated = self.processor_name(prefix);
        match named {
            Some(name) => format!("{name}{suffix}"),
            None => generated,
        }
    }

    /// Appends a step that writes an operation into the topology.
    pub(crate) fn step(&mut self, step: impl FnOnce(&mut TopologyBuilder) + 'static) {
        self.steps.push(Box::new(step));
    }

    /// Records a problem with an operation, reported when the program is built.
    pub(crate) fn error(&mut self, error: TopologyError) {
        self.errors.push(error);
    }

    /// Writes the operations into `builder`; returns the problems recorded while they were made.
    pub(crate) fn write(self, builder: &mut TopologyBuilder) -> Vec<TopologyError> {
        for step in self.steps {
            step(builder);
        }
        self.errors
    }
}

/// The timestamped key-value store a DSL operation materializes into (the type and the
/// changelog options of `options`; caching is left to the caller).
pub(crate) fn kv_store_builder<K, V, KC, VC>(
    name: &str,
    key_codec: KC,
    value_codec: VC,
    options: &StoreOptions,
) -> TimestampedKeyValueStoreBuilder<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    match options.store_type {
        #[cfg(feature = "rocksdb")]
        StoreType::RocksDb => {
            Stores::persistent_timestamped_key_value::<K, V, _, _>(name, key_codec, value_codec)
        }
        #[cfg(not(feature = "rocksdb"))]
        StoreType::RocksDb => {
            Stores::in_memory_timestamped_key_value::<K, V, _, _>(name, key_codec, value_codec)
        }
        StoreType::InMemory => {
            Stores::in_memory_timestamped_key_value::<K, V, _, _>(name, key_codec, value_codec)
        }
    }
}

/// Adds a timestamped key-value store as a DSL operation materializes it, connected to
/// `processor`.
pub(crate) fn add_kv_store<K, V, KC, VC>(
    builder: &mut TopologyBuilder,
    name: &str,
    key_codec: KC,
    value_codec: VC,
    options: StoreOptions,
    processor: &str,
) where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    let store = kv_store_builder::<K, V, KC, VC>(name, key_codec, value_codec, &options);
    options.add_configured(builder, store, options.caching, processor);
}

/// Adds a versioned key-value store keeping versions for `history` (a table
/// `Materialized::versioned`), connected to `processor`: RocksDB or in memory, logged as
/// `options` say, never cached.
pub(crate) fn add_versioned_store<K, V, KC, VC>(
    builder: &mut TopologyBuilder,
    name: &str,
    key_codec: KC,
    value_codec: VC,
    options: &StoreOptions,
    history: std::time::Duration,
    processor: &str,
) where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    let store = match options.store_type {
        #[cfg(feature = "rocksdb")]
        StoreType::RocksDb => Stores::persistent_versioned_key_value_store::<K, V, _, _>(
            name,
            history,
            key_codec,
            value_codec,
        ),
        #[cfg(not(feature = "rocksdb"))]
        StoreType::RocksDb => Stores::in_memory_versioned_key_value_store::<K, V, _, _>(
            name,
            history,
            key_codec,
            value_codec,
        ),
        StoreType::InMemory => Stores::in_memory_versioned_key_value_store::<K, V, _, _>(
            name,
            history,
            key_codec,
            value_codec,
        ),
    };
    let store = if options.logging {
        options
            .changelog_configs
            .iter()
            .fold(store.with_logging_enabled(), |store, (key, value)| {
                store.with_changelog_config(key, value)
            })
    } else {
        store.with_logging_disabled()
    };
    builder.add_state_store(store, [processor]);
}

/// Writes a repartition through the internal topic `<prefix>-repartition` (Kafka Streams'
/// `createRepartitionedSource`): a pass-through `-filter` node, a `-sink` and a `-source`. Three
/// indexes are burned whether or not the names are used; generated prefixes get generated node
/// names. Returns the source's name.
pub(crate) fn add_repartition<K, V, KC, VC>(
    graph: &mut Graph,
    parent: String,
    prefix: &str,
    key_codec: KC,
    value_codec: VC,
    partitions: Option<u32>,
) -> String
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    use super::names::{FILTER, REPARTITION_SUFFIX, SINK, SOURCE};
    use super::processors::stateless::PassThrough;

    let topic = if prefix.ends_with(REPARTITION_SUFFIX) {
        prefix.to_string()
    } else {
        format!("{prefix}{REPARTITION_SUFFIX}")
    };
    let generated = (
        graph.processor_name(SINK),
        graph.processor_name(FILTER),
        graph.processor_name(SOURCE),
    );
    let (sink, filter, source) = if is_generated_name(prefix) {
        generated
    } else {
        (
            format!("{topic}-sink"),
            format!("{topic}-filter"),
            format!("{topic}-source"),
        )
    };
    let source_name = source.clone();
    graph.step(move |b| {
        b.add_internal_topic(&topic, partitions);
        b.add_processor(filter.clone(), PassThrough::<K, V>::new, [parent]);
        b.add_sink(
            sink,
            topic.clone(),
            key_codec.clone(),
            value_codec.clone(),
            [filter],
        );
        b.add_source(source, [topic], key_codec, value_codec);
    });
    source_name
}

/// Java's `prefix.matches("KSTREAM.*-[0-9]{10}")`.
fn is_generated_name(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    prefix.starts_with("KSTREAM")
        && bytes.len() >= "KSTREAM".len() + 11
        && bytes[bytes.len() - 11] == b'-'
        && bytes[bytes.len() - 10..].iter().all(u8::is_ascii_digit)
}

/// How a join's result keeps its rows: the store's name (`None`: generated), and how to add
/// the store (builder, store name, the node that writes it).
pub(crate) type ResultStore = (
    Option<String>,
    Box<dyn FnOnce(&mut TopologyBuilder, &str, &str)>,
);

/// The value codec and store of a join materialized as `materialized` says.
pub(crate) fn result_store<K, VR, KC, MK, MV>(
    materialized: Materialized<MK, MV>,
    key_codec: KC,
) -> (MV::Codec, ResultStore)
where
    K: Clone + 'static,
    VR: Clone + 'static,
    MK: CodecChoice<K, KC>,
    MV: CodecChoice<VR, Inferred>,
    MK::Codec: Clone + 'static,
    MV::Codec: Clone + 'static,
{
    let Materialized {
        name,
        key_codec: mk,
        value_codec: mv,
        more,
    } = materialized;
    let (key_codec, value_codec) = (mk.choose(key_codec), mv.choose(Inferred));
    let store_value_codec = value_codec.clone();
    let add = move |b: &mut TopologyBuilder, store: &str, node: &str| {
        add_kv_store::<K, VR, _, _>(b, store, key_codec, store_value_codec, more, node);
    };
    (value_codec, (name, Box::new(add)))
}

#[cfg(test)]
mod tests {
    use super::is_generated_name;

    #[test]
    fn generated_names_are_recognized_as_java_does() {
        assert!(is_generated_name(
            "KSTREAM-AGGREGATE-STATE-STORE-0000000003"
        ));
        assert!(is_generated_name("KSTREAM-REPARTITION-0000000001"));
        assert!(is_generated_name("KSTREAM-0000000001"));
        assert!(!is_generated_name(
            "KTABLE-AGGREGATE-STATE-STORE-0000000003"
        ));
        assert!(!is_generated_name("counts-store"));
        assert!(!is_generated_name("KSTREAM-REPARTITION-000000001"));
    }
}
